"""The lecture's toy convnet, end to end: is a 9x9 picture an X or an O?

Pixels are +1 (ink) or -1 (paper). Three 3x3 feature filters of +1/-1 (a "\\" diagonal,
a small "x" and a "/" diagonal) are slid over the picture; each response is divided by
9, the number of pixels in a filter, so 1.00 means "the patch matches exactly" and
-1.00 "the exact opposite". 2x2 max pooling (padding "same": 7x7 -> 4x4) keeps the
best match of every neighbourhood, a ReLU keeps only the positive evidence, and a
fully connected "vote" compares the resulting 48 numbers with those of the reference
X and O (cosine similarity). The shifted, slightly deformed X still votes X.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlab import ops
from cnnlab.explain import render


def _picture(rows: list[str]) -> np.ndarray:
    return np.array([[1.0 if ch == "#" else -1.0 for ch in row] for row in rows])


IMAGES = {
    "X": _picture(
        [
            ".........",
            ".#.....#.",
            "..#...#..",
            "...#.#...",
            "....#....",
            "...#.#...",
            "..#...#..",
            ".#.....#.",
            ".........",
        ]
    ),
    "shifted X": _picture(
        [
            ".........",
            "......#..",
            ".#...#...",
            "..##.#...",
            "....#....",
            "...#.##..",
            "...#...#.",
            "..#......",
            ".........",
        ]
    ),
    "O": _picture(
        [
            ".........",
            "...###...",
            "..#...#..",
            ".#.....#.",
            ".#.....#.",
            ".#.....#.",
            "..#...#..",
            "...###...",
            ".........",
        ]
    ),
}

FILTERS = {
    "diagonal \\": _picture(["#..", ".#.", "..#"]),
    "small x": _picture(["#.#", ".#.", "#.#"]),
    "diagonal /": _picture(["..#", ".#.", "#.."]),
}

REFERENCES = ("X", "O")


@dataclass
class XOExample:
    """Every intermediate result, per image name and filter name.

    Attributes:
        images: name -> (9, 9) of +-1.
        filters: name -> (3, 3) of +-1.
        maps: image -> filter -> (7, 7) normalised response (sum of products / 9).
        pooled: image -> filter -> (4, 4) after 2x2 max pooling ("same").
        rectified: image -> filter -> (4, 4) after ReLU.
        scores: image -> {"X": similarity, "O": similarity}.
    """

    images: dict
    filters: dict
    maps: dict
    pooled: dict
    rectified: dict
    scores: dict

    def prediction(self, image: str) -> str:
        scores = self.scores[image]
        return max(scores, key=scores.get)

    def to_text(self) -> str:
        lines = ["X or O? The lecture's toy convnet, end to end.", ""]
        lines += ["Filters (+1 / -1):"]
        blocks = [render.grid_lines(render.format_matrix(f), "") for f in self.filters.values()]
        lines += ["  " + line for line in render.side_by_side(blocks, list(self.filters))]
        for name, image in self.images.items():
            lines += ["", "=" * 72, f"Image {name!r}:"]
            lines += render.grid_lines(render.format_matrix(image), "  ")
            for fname in self.filters:
                lines += ["", f"  {fname}: response / 9 (7x7)  ->  2x2 max pool, ReLU (4x4)"]
                left = render.grid_lines(render.format_matrix(self.maps[name][fname], 2), "")
                right = render.grid_lines(render.format_matrix(self.rectified[name][fname], 2), "")
                lines += [
                    "    " + line for line in render.side_by_side([left, right], ["", ""])[1:]
                ]
            score = ", ".join(f"{k} {v:.2f}" for k, v in self.scores[name].items())
            lines += ["", f"  vote (cosine similarity with the references): {score}"]
            lines += [f"  -> {self.prediction(name)}"]
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.to_text()


def _features(rectified: dict) -> np.ndarray:
    return np.concatenate([m.ravel() for m in rectified.values()])


def xo_example(images: dict | None = None) -> XOExample:
    """Run the toy X-versus-O convnet on the lecture's pictures (or on ``images``,
    name -> (9, 9) arrays of +-1; the references "X" and "O" are always included).

    Example:
        >>> ex = xo_example()
        >>> float(ex.maps["X"]["diagonal \\\\"][0, 0]), ex.prediction("shifted X")
        (0.7777777777777778, 'X')
    """
    pictures = dict(IMAGES)
    if images:
        for name, image in images.items():
            array = np.asarray(image, dtype=np.float64)
            if array.shape != (9, 9):
                raise ValueError(
                    f"xo_example: image {name!r} must be 9x9 like the references. "
                    f"Received shape {array.shape}"
                )
            pictures[name] = array
    maps, pooled, rectified = {}, {}, {}
    for name, image in pictures.items():
        maps[name], pooled[name], rectified[name] = {}, {}, {}
        for fname, filt in FILTERS.items():
            response = ops.correlate2d(image, filt).numpy() / filt.size
            pool = ops.max_pool(response[None, :, :, None], 2, padding="same").numpy()[0, :, :, 0]
            maps[name][fname] = response
            pooled[name][fname] = pool
            rectified[name][fname] = ops.relu(pool).numpy()
    refs = {r: _features(rectified[r]) for r in REFERENCES}
    scores = {}
    for name in pictures:
        f = _features(rectified[name])
        scores[name] = {
            r: float(f @ v / (np.linalg.norm(f) * np.linalg.norm(v) or 1.0))
            for r, v in refs.items()
        }
    return XOExample(pictures, dict(FILTERS), maps, pooled, rectified, scores)


__all__ = ["FILTERS", "IMAGES", "XOExample", "xo_example"]
