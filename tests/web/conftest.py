"""A small trained digit model in a served folder, shared by the web tests.

The model is :func:`cnnlab.web.training.small_convnet` trained for two epochs on the
first 8,000 MNIST images (about ten seconds; 90%+ test accuracy), so the page's
predictions can be checked on real digits.
"""

import numpy as np
import pytest

pytest.importorskip("starlette")

TRAIN_SAMPLES = 8000


def pytest_collection_modifyitems(items):
    """Starlette's test client asks for a package these tests do not need."""
    quiet = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
    for item in items:
        if "tests/web/" in str(item.path).replace("\\", "/"):
            item.add_marker(quiet)


def mnist_digit(label: int, occurrence: int = 0) -> np.ndarray:
    """A test-set MNIST image of ``label`` as uint8 (28, 28)."""
    from cnnlab.datasets import mnist

    _, (x, y) = mnist.load_data(progress=False)
    return x[np.flatnonzero(y == label)[occurrence]]


def drawing_of(image28: np.ndarray, side: int = 112) -> dict:
    """A 28x28 uint8 image as the page sends a drawing: ink levels of a ``side`` square."""
    big = np.kron(image28.astype(np.float64), np.ones((side // 28, side // 28)))
    return {"width": side, "height": side, "pixels": big.ravel().round().tolist()}


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    """A folder holding ``digits.keras`` (trained) and ``colour.keras`` (32x32x3 input)."""
    from cnnlab import keras
    from cnnlab.datasets import mnist
    from cnnlab.keras import layers
    from cnnlab.web.training import small_convnet

    folder = tmp_path_factory.mktemp("served-models")
    (x, y), _ = mnist.load_data(progress=False)
    x = x[:TRAIN_SAMPLES].reshape(-1, 28, 28, 1).astype(np.float32) / np.float32(255)
    model = small_convnet(seed=0)
    model.fit(x, y[:TRAIN_SAMPLES], epochs=2, batch_size=64, verbose=0)
    model.save(folder / "digits.keras")
    colour = keras.Sequential(
        [keras.Input(shape=(32, 32, 3)), layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(3)]
    )
    colour.save(folder / "colour.keras")
    (folder / "notes.txt").write_text("not a model")
    return folder


@pytest.fixture
def client(models_dir):
    """A test client of a fresh app (its own training-run keeper)."""
    from starlette.testclient import TestClient

    from cnnlab.web import create_app
    from cnnlab.web.models import ModelFolder

    with TestClient(create_app(ModelFolder(models_dir, "digits.keras"))) as test_client:
        yield test_client
