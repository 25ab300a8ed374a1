"""Screenshots of the web page's views for the README (docs/gallery/web-*.png).

    python scripts/web_gallery.py                  # trains a small digit model first
    python scripts/web_gallery.py --model runs/convnet/model.keras

The page is served by ``cnnlab.web`` in the background and driven by Playwright in
Debian's headless Chromium (``apt-get install chromium``), with the same steps as the
browser tests (tests/web/pages.py): draw a 7 and look closer at a feature map, set the
explorer's stride to 2, filter a photo, and train for a few seconds. Each picture is
reduced to a 64-colour palette and checked to stay under 200 KB.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.web.pages
GALLERY = ROOT / "docs" / "gallery"
MAX_BYTES = 200_000


def small_digit_model(folder: Path) -> Path:
    """The browser tests' model: the small convnet, 2 epochs on 8,000 MNIST images."""
    import numpy as np

    from cnnlab.datasets import mnist
    from cnnlab.web.training import small_convnet

    (x, y), _ = mnist.load_data(progress=False)
    x = x[:8000].reshape(-1, 28, 28, 1).astype(np.float32) / np.float32(255)
    model = small_convnet(seed=0)
    model.fit(x, y[:8000], epochs=2, batch_size=64, verbose=0)
    path = folder / "digits.keras"
    model.save(path)
    return path


def save(page, name: str) -> None:
    from PIL import Image

    shot = Image.open(io.BytesIO(page.screenshot(full_page=False)))
    small = shot.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    path = GALLERY / f"web-{name}.png"
    small.save(path, optimize=True)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{path} is {size:,} bytes, more than {MAX_BYTES:,}")
    print(f"wrote {path.relative_to(ROOT)} ({size:,} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a .keras digit model (default: train one)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright
    from tests.web import pages

    from cnnlab.web import create_app
    from cnnlab.web.background import BackgroundServer
    from cnnlab.web.models import ModelFolder

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.model is None:
            small_digit_model(folder)
        else:
            shutil.copy(args.model, folder / args.model.name)
        app = create_app(ModelFolder(folder))
        with BackgroundServer(app) as url, sync_playwright() as playwright:
            browser = pages.launch(playwright)
            page = browser.new_page(viewport={"width": 1200, "height": 820})
            page.goto(url)
            print("draw: the model reads", pages.draw(page))
            pages.look_closer(page, layer_index=0, channel=1, where=(0.55, 0.3))
            save(page, "draw")
            print("explorer: output", pages.set_stride(page, 2))
            page.click("#conv-next")
            save(page, "explorer")
            print("photos:", pages.upload_photo(page, folder, "sobel-x", "cat"), "pictures")
            save(page, "photos")
            pages.start_training(page, samples=6000, epochs=1)
            pages.wait_until(lambda: pages.curve_points(page) >= 8, 120, "the curve")
            print("learn: stopped as", pages.stop_training(page))
            save(page, "learn")
            browser.close()


if __name__ == "__main__":
    main()
