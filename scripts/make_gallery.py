"""Regenerate the README gallery (docs/gallery/) by running cnnlab's own commands.

    python scripts/make_gallery.py            # skips pictures that already exist
    python scripts/make_gallery.py --overwrite

Every picture is made by the ``cnnlab`` command line exactly as printed, so the README
shows what the commands produce. The feature maps, filters and curves need a trained
model: the script trains the lecture's convnet briefly (``cnnlab train convnet``, a few
minutes on a laptop) into a temporary folder, using MNIST from ``$CNNLAB_DATA`` (or a
download). The photos (cat, camera) come from scikit-image when it is installed
(``pip install -e ".[images]"``); without it the commands fall back to the built-in
synthetic test card. Each picture is checked to stay under 300 KB.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "docs" / "gallery"
MAX_BYTES = 300_000

LECTURE_5X5 = "[[3,3,2,1,0],[0,0,1,3,1],[3,1,2,2,3],[2,0,0,2,2],[2,0,0,0,1]]"

# (file name, command after `cnnlab`); {out} is the picture, {run} the trained model's folder
PICTURES = [
    ("explain-conv.txt", 'explain conv --input "[[1,2,3],[3,4,5],[1,0,2]]" '
                         '--kernel "[[0,1],[1,-1]]" --out {out}'),
    ("explain-model.md", "explain model convnet --format markdown --out {out}"),
    ("conv.gif", f'viz animate-conv --input "{LECTURE_5X5}" --kernel "[[0,1,2],[2,2,0],[0,1,2]]" '
                 "--padding 1 --stride 2 --out {out}"),
    ("conv.html", f'viz animate-conv --input "{LECTURE_5X5}" --kernel "[[0,1,2],[2,2,0],[0,1,2]]" '
                  "--padding 1 --stride 2 --out {out}"),
    ("pool.gif", f'viz animate-pool --input "{LECTURE_5X5}" --pool max --size 2 --padding same '
                 "--out {out}"),
    ("filter-gradient.png", 'filter cat --kernel "[[1,0,-1]]" --padding valid --grayscale '
                            "--side-by-side --out {out}"),
    ("filter-edges.png", "filter camera --kernel edge-detection-3 --side-by-side --out {out}"),
    ("filter-blur.png", "filter testcard --kernel gaussian-5x5 --side-by-side --out {out}"),
    ("xo.png", "viz xo --out {out}"),
    ("feature-maps.png", "viz feature-maps {run}/model.keras mnist:0 --max-channels 16 "
                         "--out {out}"),
    ("filters.png", "viz filters {run}/model.keras --layer conv2d --out {out}"),
    ("filters-ascent.png", "viz filters {run}/model.keras --layer conv2d_1 --method ascent "
                           "--max-filters 16 --out {out}"),
    ("curves.png", "viz history {run} --out {out}"),
]  # fmt: skip

TRAIN = (
    "train convnet --epochs 3 --limit 6000 --validation-split 0.1 --seed 0 --verbose 2 --out {run}"
)


def cnnlab(command: str, **fields) -> None:
    args = [sys.executable, "-m", "cnnlab", *shlex.split(command.format(**fields))]
    print("$ cnnlab " + command.format(**fields), flush=True)
    subprocess.run(args, check=True, cwd=ROOT)


def _short(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overwrite", action="store_true", help="Regenerate existing pictures.")
    parser.add_argument("--only", nargs="*", help="Only these file names.")
    parser.add_argument("--dir", type=Path, default=GALLERY, help="Output folder.")
    options = parser.parse_args()
    gallery = options.dir.resolve()
    gallery.mkdir(parents=True, exist_ok=True)
    todo = [
        (name, command)
        for name, command in PICTURES
        if (options.only is None or name in options.only)
        and (options.overwrite or not (gallery / name).exists())
    ]
    flag = " --overwrite" if options.overwrite else ""
    with tempfile.TemporaryDirectory(prefix="cnnlab-gallery-") as tmp:
        run = Path(tmp) / "convnet"
        if any("{run}" in command for _, command in todo):
            cnnlab(TRAIN, run=run)
        for name, command in todo:
            out = gallery / name
            cnnlab(command + flag, out=_short(out), run=run)
    pictures = sorted(
        p for p in gallery.iterdir() if p.suffix in (".png", ".gif", ".html", ".txt", ".md")
    )
    too_big = [
        p.name for p in pictures if p.suffix in (".png", ".gif") and p.stat().st_size > MAX_BYTES
    ]
    for p in pictures:
        print(f"{_short(p)}: {p.stat().st_size / 1024:.0f} KB")
    if too_big:
        print(f"larger than {MAX_BYTES // 1000} KB: {', '.join(too_big)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    shared = ROOT.parent / "shared" / "data"  # the layout of the project's build machines
    if "CNNLAB_DATA" not in os.environ and (shared / "mnist").is_dir():
        os.environ["CNNLAB_DATA"] = str(shared)
    sys.exit(main())
