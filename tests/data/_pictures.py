"""Folders of generated pictures for the data pipeline tests."""

import numpy as np
from PIL import Image

COLOURS = {"cats": (200, 40, 40), "dogs": (40, 40, 200), "birds": (40, 200, 40)}


def picture_folder(root, counts, size=(12, 16), fmt="png"):
    """``root/<class>/<class>_<i>.<fmt>``: flat pictures whose colour tells the class."""
    rng = np.random.default_rng(0)
    for name, count in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            pixels = np.empty((*size, 3), np.uint8)
            pixels[:] = COLOURS[name]
            pixels[0, 0] = rng.integers(0, 256, 3)  # each file different
            Image.fromarray(pixels).save(root / name / f"{name}_{i:03d}.{fmt}")
    return root
