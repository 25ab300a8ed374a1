"""VGG16 / VGG19 with Keras' layer names, arguments and weight counts, and the
"caffe" preprocess_input (arrays and symbolic inputs)."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.applications import VGG16, VGG19
from cnnlab.applications.vgg import preprocess_input

SMALL = {"weights": None, "include_top": False, "input_shape": (32, 32, 3)}


def test_vgg16_with_top_has_keras_count_and_names():
    model = VGG16(weights=None)  # keras.applications.VGG16().summary(): 138,357,544
    assert model.count_params() == 138_357_544
    assert model.name == "vgg16"
    assert model.output_shape == (None, 1000)
    names = [layer.name for layer in model.layers]
    assert names[1:4] == ["block1_conv1", "block1_conv2", "block1_pool"]
    assert names[-8:] == ["block5_conv1", "block5_conv2", "block5_conv3", "block5_pool",
                          "flatten", "fc1", "fc2", "predictions"]  # fmt: skip


@pytest.mark.parametrize(
    ("builder", "kwargs", "count", "output_shape"),
    [
        (VGG16, {}, 14_714_688, (None, 1, 1, 512)),  # Keras, include_top=False
        (VGG19, {}, 20_024_384, (None, 1, 1, 512)),
        (VGG16, {"input_shape": (180, 180, 3)}, 14_714_688, (None, 5, 5, 512)),  # the book
        (VGG16, {"pooling": "avg", "input_shape": None}, 14_714_688, (None, 512)),
        (VGG19, {"pooling": "max"}, 20_024_384, (None, 512)),
    ],
)  # fmt: skip
def test_conv_base_counts_and_shapes(builder, kwargs, count, output_shape):
    model = builder(**{**SMALL, **kwargs})
    assert model.count_params() == count
    assert model.output_shape == output_shape


def test_small_top_and_classifier_activation():
    model = VGG19(weights=None, input_shape=(32, 32, 3), classes=3, classifier_activation=None)
    # conv base + fc1 (512 -> 4096) + fc2 + predictions (4096 -> 3)
    assert (
        model.count_params() == 20_024_384 + 512 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 3 + 3
    )
    assert len([n for n in (la.name for la in model.layers) if "conv" in n]) == 16
    logits = model.predict(np.zeros((1, 32, 32, 3), "float32"), verbose=0)
    assert logits.shape == (1, 3)


def test_features_match_a_torch_vgg_with_the_same_weights(rng):
    torch = pytest.importorskip("torch")
    model = VGG16(**SMALL)
    modules = []
    for layer in model.layers[1:]:
        if "conv" in layer.name:
            kernel, bias = (w.numpy() for w in layer.weights)
            conv = torch.nn.Conv2d(kernel.shape[2], kernel.shape[3], 3, padding=1)
            conv.weight.data = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
            conv.bias.data = torch.from_numpy(bias)
            modules += [conv, torch.nn.ReLU()]
        else:
            modules.append(torch.nn.MaxPool2d(2))
    x = rng.random((2, 32, 32, 3)).astype("float32")
    with torch.no_grad():
        expected = torch.nn.Sequential(*modules)(torch.from_numpy(x.transpose(0, 3, 1, 2)))
    expected = expected.numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-5)


def test_weights_from_a_path(tmp_path, rng):
    model = VGG16(**SMALL, pooling="avg")
    path = tmp_path / "vgg.weights.npz"
    model.save_weights(path)
    again = VGG16(**{**SMALL, "weights": path}, pooling="avg")
    x = rng.random((1, 32, 32, 3)).astype("float32")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_preprocess_input_is_caffe_mode(rng):
    x = rng.integers(0, 256, (2, 4, 5, 3)).astype("uint8")
    out = preprocess_input(x)
    expected = np.empty((2, 4, 5, 3), "float32")
    for c, mean in enumerate((103.939, 116.779, 123.68)):  # B, G, R
        expected[..., c] = x[..., 2 - c] - mean
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-4)
    assert keras.applications.vgg16.preprocess_input is preprocess_input
    assert keras.applications.vgg19.preprocess_input is preprocess_input


def test_preprocess_input_on_a_symbolic_input_is_recorded(rng, tmp_path):
    inputs = keras.Input(shape=(6, 6, 3))
    model = keras.Model(inputs, keras.applications.vgg16.preprocess_input(inputs))
    x = (rng.random((2, 6, 6, 3)) * 255).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), preprocess_input(x), rtol=1e-6)
    model.save(tmp_path / "pre.keras")
    again = keras.models.load_model(tmp_path / "pre.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), preprocess_input(x), rtol=1e-6)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: VGG16(include_top=False), ValueError, "cannot|never downloads"),
        (lambda: VGG16(weights=None, input_shape=(16, 16, 3), include_top=False),
         ValueError, "input height and width"),
        (lambda: VGG16(weights=None, include_top=True, input_shape=(None, None, 3)),
         ValueError, "input_shape"),
        (lambda: VGG19(weights=None, include_top=False, pooling="sum"), ValueError, "pooling"),
        (lambda: VGG16(weights=None, classes=0), ValueError, "classes"),
        (lambda: VGG16(weights="missing.h5"), ValueError, "weights"),
        (lambda: VGG16(weights=None, include_top="no"), TypeError, "include_top"),
        (lambda: preprocess_input(np.zeros((2, 4))), ValueError, "3 \\(RGB\\) channels"),
        (lambda: preprocess_input(np.zeros((1, 3)), data_format="channels_first"),
         ValueError, "data_format"),
        (lambda: preprocess_input(np.array(["a", "b", "c"])), TypeError, "numbers"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_imagenet_error_says_how_to_pass_a_path():
    with pytest.raises(ValueError) as info:
        VGG16(weights="imagenet", include_top=False, input_shape=(180, 180, 3))
    message = str(info.value)
    assert "weights=None" in message and "path" in message and "weights='imagenet'" in message


def test_built_on_an_input_tensor():
    image = keras.Input(shape=(64, 48, 3), name="image")
    model = VGG16(weights=None, include_top=False, input_tensor=image, pooling="max")
    assert model.inputs[0] is image and model.output_shape == (None, 512)
    assert model.layers[1].name == "block1_conv1"


def test_weights_from_a_keras_2_h5_file(tmp_path, rng):
    """The layout of Keras' published vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5:
    ``layer_names`` (with Keras 2's ``input_1``), ``<layer>/<layer>/<weight>:0``."""
    h5py = pytest.importorskip("h5py")
    source = VGG16(**SMALL)
    for variable in source.weights:
        variable.assign(rng.normal(0, 0.05, variable.shape).astype("float32"))
    path = tmp_path / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [b"input_1"] + [la.name.encode() for la in source.layers[1:]]
        f.create_group("input_1").attrs["weight_names"] = []
        for layer in source.layers[1:]:
            names = [f"{layer.name}/{w.name}:0" for w in layer.weights]
            group = f.create_group(layer.name)
            group.attrs["weight_names"] = [n.encode() for n in names]
            for name, variable in zip(names, layer.weights, strict=True):
                group.create_dataset(name, data=variable.numpy())
    model = VGG16(**{**SMALL, "weights": str(path)})
    x = rng.random((1, 32, 32, 3)).astype("float32")
    expected = source.predict(x, verbose=0)
    assert np.count_nonzero(expected) > 10  # the features depend on the weights
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5)
