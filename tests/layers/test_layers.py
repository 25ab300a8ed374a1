"""Every layer through the shared layer test, with Keras' parameter-count formulas."""

import numpy as np
import pytest

from cnnlab import keras, ops
from cnnlab.keras import layers
from tests.layers.layer_test_case import run_layer_test


def conv_params(kh, kw, cin, filters, groups=1, bias=True):
    """Keras: KH * KW * (C / groups) * F + F."""
    return kh * kw * (cin // groups) * filters + (filters if bias else 0)


# (id, class, kwargs, input shape, output shape, params, non-trainable params)
CASES = [
    ("dense", layers.Dense, {"units": 5}, (2, 7), (2, 5), 7 * 5 + 5, 0),
    ("dense_3d_nobias", layers.Dense, {"units": 3, "use_bias": False, "activation": "relu"},
     (2, 4, 6), (2, 4, 3), 6 * 3, 0),
    ("conv1d_same_stride", layers.Conv1D, {"filters": 4, "kernel_size": 3, "strides": 2,
     "padding": "same"}, (2, 9, 3), (2, 5, 4), conv_params(1, 3, 3, 4), 0),
    ("conv1d_causal_dilated", layers.Conv1D, {"filters": 4, "kernel_size": 3,
     "padding": "causal", "dilation_rate": 2}, (2, 8, 2), (2, 8, 4), conv_params(1, 3, 2, 4), 0),
    ("conv2d_lecture", layers.Conv2D, {"filters": 32, "kernel_size": 3, "activation": "relu"},
     (2, 28, 28, 1), (2, 26, 26, 32), 320, 0),
    ("conv2d_groups", layers.Conv2D, {"filters": 6, "kernel_size": 3, "padding": "same",
     "groups": 2}, (2, 6, 6, 4), (2, 6, 6, 6), conv_params(3, 3, 4, 6, groups=2), 0),
    ("conv2d_rect_stride", layers.Conv2D, {"filters": 3, "kernel_size": (2, 3),
     "strides": (2, 1)}, (2, 7, 6, 2), (2, 3, 4, 3), conv_params(2, 3, 2, 3), 0),
    ("conv2d_dilated", layers.Conv2D, {"filters": 2, "kernel_size": 3, "dilation_rate": 2},
     (2, 7, 7, 1), (2, 3, 3, 2), conv_params(3, 3, 1, 2), 0),
    ("conv2d_reflect", layers.Conv2D, {"filters": 4, "kernel_size": 3, "padding": 1,
     "padding_mode": "reflect"}, (2, 5, 5, 2), (2, 5, 5, 4), conv_params(3, 3, 2, 4), 0),
    ("conv2d_constant_first", layers.Conv2D, {"filters": 2, "kernel_size": 3,
     "padding": "same", "padding_mode": "constant", "pad_value": 1.0,
     "data_format": "channels_first"}, (2, 3, 5, 5), (2, 2, 5, 5), conv_params(3, 3, 3, 2), 0),
    ("depthwise", layers.DepthwiseConv2D, {"kernel_size": 3, "depth_multiplier": 2},
     (2, 6, 6, 3), (2, 4, 4, 6), 3 * 3 * 3 * 2 + 3 * 2, 0),
    ("separable", layers.SeparableConv2D, {"filters": 5, "kernel_size": 3, "padding": "same"},
     (2, 6, 6, 3), (2, 6, 6, 5), 3 * 3 * 3 + 3 * 5 + 5, 0),
    ("locally_connected", layers.LocallyConnected2D, {"filters": 2, "kernel_size": 3},
     (2, 5, 5, 2), (2, 3, 3, 2), 3 * 3 * (3 * 3 * 2 * 2 + 2), 0),
    ("maxpool1d", layers.MaxPooling1D, {"pool_size": 2}, (2, 9, 3), (2, 4, 3), 0, 0),
    ("maxpool2d", layers.MaxPooling2D, {"pool_size": 2}, (2, 7, 7, 3), (2, 3, 3, 3), 0, 0),
    ("maxpool2d_same", layers.MaxPool2D, {"pool_size": 3, "strides": 2, "padding": "same"},
     (2, 7, 7, 2), (2, 4, 4, 2), 0, 0),
    ("avgpool1d_same", layers.AveragePooling1D, {"pool_size": 3, "padding": "same"},
     (2, 10, 2), (2, 4, 2), 0, 0),
    ("avgpool2d", layers.AvgPool2D, {"pool_size": 2}, (2, 6, 6, 2), (2, 3, 3, 2), 0, 0),
    ("minpool2d", layers.MinPooling2D, {"pool_size": 2}, (2, 4, 6, 2), (2, 2, 3, 2), 0, 0),
    ("lppool2d", layers.LpPooling2D, {"pool_size": 2, "p": 2}, (2, 4, 4, 2), (2, 2, 2, 2), 0, 0),
    ("global_max2d", layers.GlobalMaxPooling2D, {}, (2, 4, 5, 3), (2, 3), 0, 0),
    ("global_avg2d_keepdims", layers.GlobalAveragePooling2D, {"keepdims": True},
     (2, 4, 5, 3), (2, 1, 1, 3), 0, 0),
    ("global_max1d", layers.GlobalMaxPooling1D, {}, (2, 6, 3), (2, 3), 0, 0),
    ("global_avg1d_first", layers.GlobalAveragePooling1D, {"data_format": "channels_first"},
     (2, 3, 6), (2, 3), 0, 0),
    ("flatten", layers.Flatten, {}, (2, 3, 4, 5), (2, 60), 0, 0),
    ("flatten_first", layers.Flatten, {"data_format": "channels_first"}, (2, 3, 4, 5),
     (2, 60), 0, 0),
    ("reshape", layers.Reshape, {"target_shape": (4, -1)}, (2, 3, 4), (2, 4, 3), 0, 0),
    ("dropout", layers.Dropout, {"rate": 0.5}, (2, 6), (2, 6), 0, 0),
    ("activation", layers.Activation, {"activation": "tanh"}, (2, 5), (2, 5), 0, 0),
    ("relu_options", layers.ReLU, {"max_value": 1.0, "negative_slope": 0.1, "threshold": 0.5},
     (2, 7), (2, 7), 0, 0),
    ("softmax_axis1", layers.Softmax, {"axis": 1}, (2, 4, 3), (2, 4, 3), 0, 0),
    ("leaky_relu", layers.LeakyReLU, {"negative_slope": 0.2}, (2, 5), (2, 5), 0, 0),
    ("zero_padding2d", layers.ZeroPadding2D, {"padding": ((1, 2), (0, 1))}, (2, 3, 3, 2),
     (2, 6, 4, 2), 0, 0),
    ("zero_padding1d", layers.ZeroPadding1D, {"padding": 2}, (2, 3, 2), (2, 7, 2), 0, 0),
    ("rescaling", layers.Rescaling, {"scale": 0.5, "offset": 1.0}, (2, 3), (2, 3), 0, 0),
    ("batchnorm", layers.BatchNormalization, {}, (4, 3, 3, 2), (4, 3, 3, 2), 4 * 2, 2 * 2),
    ("batchnorm_axis1", layers.BatchNormalization, {"axis": 1}, (4, 3, 5), (4, 3, 5),
     4 * 3, 2 * 3),
    ("add", layers.Add, {}, [(2, 3, 4), (2, 3, 4)], (2, 3, 4), 0, 0),
    ("subtract", layers.Subtract, {}, [(2, 3), (2, 3)], (2, 3), 0, 0),
    ("multiply", layers.Multiply, {}, [(2, 3), (2, 3), (2, 3)], (2, 3), 0, 0),
    ("average", layers.Average, {}, [(2, 3), (2, 3)], (2, 3), 0, 0),
    ("maximum", layers.Maximum, {}, [(2, 3), (2, 3)], (2, 3), 0, 0),
    ("minimum", layers.Minimum, {}, [(2, 3), (2, 3)], (2, 3), 0, 0),
    ("concatenate", layers.Concatenate, {}, [(2, 4, 4, 2), (2, 4, 4, 3)], (2, 4, 4, 5), 0, 0),
    ("concatenate_axis1", layers.Concatenate, {"axis": 1}, [(2, 2, 3), (2, 4, 3)], (2, 6, 3),
     0, 0),
]  # fmt: skip


@pytest.mark.parametrize(
    "cls,kwargs,input_shape,output_shape,params,non_trainable",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_layer(cls, kwargs, input_shape, output_shape, params, non_trainable):
    run_layer_test(cls, kwargs, input_shape, output_shape, params, non_trainable)


def test_stochastic_pooling_layer():
    layer = run_layer_test(
        layers.StochasticPooling2D, {"pool_size": 2, "seed": 3}, (2, 4, 4, 2), (2, 2, 2, 2),
        0, positive_input=True,
    )  # fmt: skip
    x = np.abs(np.random.default_rng(0).standard_normal((2, 4, 4, 2))).astype("float32")
    drawn = layer(x, training=True).numpy()
    windows = x.reshape(2, 2, 2, 2, 2, 2).transpose(0, 1, 3, 2, 4, 5).reshape(2, 2, 2, 4, 2)
    # every drawn value is one of its window's values
    assert np.all(np.any(np.isclose(windows, drawn[:, :, :, None, :]), axis=3))


# ---- layer outputs against the ops they wrap ----------------------------------------------
def test_conv2d_matches_op(rng):
    x = rng.standard_normal((2, 7, 7, 3)).astype("float32")
    layer = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")
    y = layer(x)
    expected = ops.relu(ops.conv2d(x, layer.kernel, layer.bias, strides=2, padding="same"))
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-6)


def test_dense_is_matmul_plus_bias(rng):
    x = rng.standard_normal((3, 4)).astype("float32")
    layer = layers.Dense(2)
    y = layer(x).numpy()
    np.testing.assert_allclose(y, x @ layer.kernel.numpy() + layer.bias.numpy(), rtol=1e-6)


def test_batchnorm_training_and_inference(rng):
    x = (rng.standard_normal((64, 3)) * 3 + 5).astype("float32")
    bn = layers.BatchNormalization(momentum=0.5)
    y = bn(x, training=True).numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(0), x.var(0) / (x.var(0) + 1e-3), rtol=1e-4)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.5 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.5 + 0.5 * x.var(0), rtol=1e-5)
    assert bn.moving_mean.requires_grad is False and bn.moving_mean.trainable is False
    inference = bn(x).numpy()  # moving statistics, no update
    expected = (x - bn.moving_mean.numpy()) / np.sqrt(bn.moving_variance.numpy() + 1e-3)
    np.testing.assert_allclose(inference, expected, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.5 * x.mean(0), rtol=1e-5)
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]


def test_frozen_batchnorm_runs_in_inference_mode(rng):
    x = rng.standard_normal((8, 2)).astype("float32")
    bn = layers.BatchNormalization()
    bn(x, training=True)
    stats = bn.moving_mean.numpy().copy()
    bn.trainable = False
    np.testing.assert_array_equal(bn(x, training=True).numpy(), bn(x).numpy())
    np.testing.assert_array_equal(bn.moving_mean.numpy(), stats)
    assert bn.trainable_weights == [] and len(bn.non_trainable_weights) == 4


def test_dropout_training_scales_and_is_seeded():
    x = np.ones((200, 50), dtype="float32")
    y = layers.Dropout(0.25, seed=1)(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02
    a = layers.Dropout(0.25, seed=7)(x, training=True).numpy()
    b = layers.Dropout(0.25, seed=7)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    keras.utils.set_random_seed(3)
    c = layers.Dropout(0.5)(x, training=True).numpy()
    keras.utils.set_random_seed(3)
    d = layers.Dropout(0.5)(x, training=True).numpy()
    np.testing.assert_array_equal(c, d)


def test_relu_options_values():
    y = layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=1.0)([[-2.0, 0.5, 3.0, 9.0]])
    np.testing.assert_allclose(y.numpy(), [[-0.3, -0.05, 3.0, 6.0]], rtol=1e-6)


def test_flatten_channels_first_matches_channels_last(rng):
    x = rng.standard_normal((2, 3, 4, 5)).astype("float32")  # (N, C, H, W)
    first = layers.Flatten(data_format="channels_first")(x).numpy()
    last = layers.Flatten()(np.transpose(x, (0, 2, 3, 1))).numpy()
    np.testing.assert_array_equal(first, last)


def test_float64_layer_keeps_float64(rng):
    layer = layers.Conv2D(2, 3, dtype="float64")
    y = layer(rng.standard_normal((1, 5, 5, 1)))
    assert y.dtype == np.float64 and layer.kernel.dtype == np.float64


def test_float32_layer_casts_float64_input(rng):
    y = layers.Dense(2)(rng.standard_normal((1, 3)))
    assert y.dtype == np.float32


def test_auto_names_and_clear_session():
    keras.backend.clear_session()
    names = [layers.Conv2D(1, 1).name, layers.Conv2D(1, 1).name, layers.MaxPool2D().name]
    assert names == ["conv2d", "conv2d_1", "max_pooling2d"]
    assert layers.ReLU().name == "re_lu" and layers.BatchNormalization().name.startswith(
        "batch_normalization"
    )
    keras.backend.clear_session()
    assert layers.Conv2D(1, 1).name == "conv2d"


def test_variables_paths_and_trainable_flag():
    layer = layers.Dense(3, name="head")
    layer.build((None, 2))
    assert [w.path for w in layer.weights] == ["head/kernel", "head/bias"]
    assert all(w.requires_grad for w in layer.weights)
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert not any(w.requires_grad for w in layer.weights)


def test_regularizers_add_losses(rng):
    layer = layers.Dense(
        3, kernel_regularizer=keras.regularizers.L2(0.1), activity_regularizer="l1"
    )
    x = rng.standard_normal((4, 2)).astype("float32")
    y = layer(x)
    activity_loss, kernel_loss = layer.losses  # the call's losses first, then the weights'
    np.testing.assert_allclose(activity_loss.item(), 0.01 * np.abs(y.numpy()).sum() / 4,
                               rtol=1e-5)  # fmt: skip
    np.testing.assert_allclose(kernel_loss.item(), 0.1 * (layer.kernel.numpy() ** 2).sum(),
                               rtol=1e-5)  # fmt: skip
    kernel_loss.backward()
    np.testing.assert_allclose(layer.kernel.grad, 0.2 * layer.kernel.numpy(), rtol=1e-5)


def test_config_keeps_regularizers_and_initializers():
    layer = layers.Conv2D(
        4, 3, kernel_initializer="he_normal", kernel_regularizer="l2",
        kernel_constraint="non_neg",
    )  # fmt: skip
    config = layer.get_config()
    assert config["kernel_initializer"]["class_name"] == "HeNormal"
    assert config["kernel_regularizer"]["class_name"] == "L2"
    clone = layers.Conv2D.from_config(config)
    assert type(clone._args.initializer["kernel"]).__name__ == "HeNormal"
    assert clone.get_config() == config


def test_get_layer_class_registry():
    assert layers.get_layer_class("Conv2D") is layers.Conv2D
    assert layers.get_layer_class("MaxPooling2D") is layers.MaxPool2D
    with pytest.raises(ValueError, match="Unknown layer class 'Conv9D'"):
        layers.get_layer_class("Conv9D")
