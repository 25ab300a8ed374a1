"""Training from a folder of pictures: peak memory does not grow with the picture count."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("PIL")

SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    import numpy as np
    from PIL import Image
    from cnnlab import keras

    root, count = Path(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(count // 2):
            pixels = np.full((64, 64, 3), 100 if name == "a" else 160, np.uint8)
            pixels[rng.integers(0, 64, 8), rng.integers(0, 64, 8)] = 255
            Image.fromarray(pixels).save(root / name / f"{i:05d}.png")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    dataset = keras.utils.image_dataset_from_directory(
        root, image_size=(64, 64), batch_size=50, seed=0, verbose=False
    )
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64, 64, 3)), keras.layers.Rescaling(1 / 255),
                              keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(dataset.prefetch(2), epochs=1, verbose=0)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_kb": after, "before_kb": before,
                      "accuracy": history.history["accuracy"][-1]}))
    """
)


def _peak(tmp_path, count):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / f"n{count}"), str(count)],
        capture_output=True, text=True, env=env, check=True, timeout=600,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_5000_pictures_train_in_the_memory_of_500(tmp_path):
    small, large = _peak(tmp_path, 500), _peak(tmp_path, 5000)
    # The 5,000 pictures as float32 arrays would take 5000 * 64 * 64 * 3 * 4 B = 246 MB.
    growth_mb = (large["peak_kb"] - small["peak_kb"]) / 1024
    assert growth_mb < 25, (small, large)
    assert large["accuracy"] > 0.8  # and it did learn the two colours (running mean)
