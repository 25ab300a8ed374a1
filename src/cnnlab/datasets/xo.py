"""X versus O: the lecture's toy data set, built in (nothing to download).

9x9 pictures with +1 for ink and -1 for paper. The two prototypes are an X and an O;
every picture is a prototype moved by at most one pixel in each direction (9 shifts)
and, for the deformed variants, with a few ink pixels nudged to a neighbouring
position. The test set ends with the lecture's own deformed, shifted X
(:data:`LECTURE_X`: only 5 of its 13 ink pixels lie on the X prototype's ink).

Labels: 0 for X, 1 for O (see ``CLASS_NAMES``).

Example:
    >>> from cnnlab.datasets import xo
    >>> (x_train, y_train), (x_test, y_test) = xo.load_data()
    >>> x_train.shape, x_train.dtype, y_train[:3], x_test.shape
    ((54, 9, 9), dtype('float32'), array([0, 0, 0], dtype=uint8), (19, 9, 9))
"""

from __future__ import annotations

import numpy as np

CLASS_NAMES = ("X", "O")


def _picture(rows: list[str]) -> np.ndarray:
    return np.where(np.array([list(row) for row in rows]) == "#", 1.0, -1.0).astype(np.float32)


X = _picture(
    [".........", ".#.....#.", "..#...#..", "...#.#...", "....#....",
     "...#.#...", "..#...#..", ".#.....#.", "........."]
)  # fmt: skip
O = _picture(
    [".........", "...###...", "..#...#..", ".#.....#.", ".#.....#.",
     ".#.....#.", "..#...#..", "...###...", "........."]
)  # fmt: skip
LECTURE_X = _picture(
    [".........", "......#..", ".#...#...", "..##.#...", "....#....",
     "...#.##..", "...#...#.", "..#......", "........."]
)  # fmt: skip
SHIFTS = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
_STEPS = ((-1, 0), (1, 0), (0, -1), (0, 1))


def shift(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``image`` moved ``dy`` rows down and ``dx`` columns right, paper (-1) filling in.

    Ink moved past the border is lost (the prototypes keep a one-pixel margin, so the
    shifts of :data:`SHIFTS` lose none).
    """
    out = np.full_like(image, -1.0)
    h, w = image.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def deform(image: np.ndarray, moves: int, rng: np.random.Generator) -> np.ndarray:
    """Nudge ``moves`` ink pixels one step up, down, left or right onto paper."""
    out = image.copy()
    h, w = out.shape
    for _ in range(moves):
        ink = np.argwhere(out > 0)
        y, x = ink[rng.integers(len(ink))]
        free = [
            (y + sy, x + sx)
            for sy, sx in _STEPS
            if 0 <= y + sy < h and 0 <= x + sx < w and out[y + sy, x + sx] < 0
        ]
        if free:
            ny, nx = free[rng.integers(len(free))]
            out[y, x], out[ny, nx] = -1.0, 1.0
    return out


def load_data(seed: int = 0, moves: int = 2):
    """The X-versus-O pictures as ``((x_train, y_train), (x_test, y_test))``.

    Args:
        seed: seed of the deformations (the same seed gives the same pictures).
        moves: ink pixels nudged in each deformed picture.

    Returns:
        ``x_train`` float32 ``(54, 9, 9)``: for each class its 9 shifts, then two
        deformed copies of every shift; ``x_test`` float32 ``(19, 9, 9)``: one more
        deformed copy of every shift, then :data:`LECTURE_X`. Labels are uint8, 0 for
        X and 1 for O.

    Raises:
        TypeError / ValueError: ``seed`` or ``moves`` is not an integer >= 0.
    """
    for name, value in (("seed", seed), ("moves", moves)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"xo.load_data: {name} must be an integer. Received: {value!r}")
        if value < 0:
            raise ValueError(f"xo.load_data: {name} must be >= 0. Received: {name}={value}")
    rng = np.random.default_rng(seed)
    train, y_train, test, y_test = [], [], [], []
    for label, prototype in enumerate((X, O)):
        shifted = [shift(prototype, dy, dx) for dy, dx in SHIFTS]
        train += shifted + [deform(s, moves, rng) for _ in range(2) for s in shifted]
        test += [deform(s, moves, rng) for s in shifted]
        y_train += [label] * (3 * len(shifted))
        y_test += [label] * len(shifted)
    test.append(LECTURE_X)
    y_test.append(0)
    y_train, y_test = np.array(y_train, np.uint8), np.array(y_test, np.uint8)
    return (np.stack(train), y_train), (np.stack(test), y_test)


__all__ = ["CLASS_NAMES", "LECTURE_X", "O", "SHIFTS", "X", "deform", "load_data", "shift"]
