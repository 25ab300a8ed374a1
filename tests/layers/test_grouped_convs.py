"""Grouped Conv3D, DepthwiseConv1D and SeparableConv1D against PyTorch (forward and
backward, float64), with Keras' parameter counts; transposed convolutions take no
``groups`` (as in Keras 3)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from cnnlab import Tensor, gradcheck, keras
from cnnlab.ops import conv_nd
from cnnlab.ops.conv_arithmetic import resolve_padding

layers = keras.layers
TOL = {"rtol": 1e-9, "atol": 1e-9}


def _layer_grads(layer, x, g):
    """Forward of a built float64 layer and the gradients of ``sum(y * g)``."""
    xt = Tensor(x, requires_grad=True)
    y = layer(xt)
    y.backward(g)
    return y.numpy(), xt.grad, {w.name: w.grad for w in layer.trainable_weights}


def _as_float64(layer, x):
    layer(x[:1])  # builds the layer as a first call does
    rng = np.random.default_rng(7)
    for w in layer.weights:
        w.data = rng.standard_normal(w.shape)
        w.grad = None
    return layer


@pytest.mark.parametrize(
    "groups, strides, padding, dilation",
    [(2, 1, "valid", 1), (3, 2, "same", 1), (6, (1, 2, 1), "valid", (2, 1, 1))],
)
def test_grouped_conv3d_matches_torch(groups, strides, padding, dilation):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 5, 6, 6))
    layer = _as_float64(
        layers.Conv3D(12, (3, 2, 3), strides=strides, padding=padding, groups=groups,
                      dilation_rate=dilation, dtype="float64"),
        x,
    )  # fmt: skip
    assert layer.count_params() == 3 * 2 * 3 * (6 // groups) * 12 + 12
    assert layer.kernel.shape == (3, 2, 3, 6 // groups, 12)
    xt = torch.tensor(x.transpose(0, 4, 1, 2, 3), requires_grad=True)
    wt = torch.tensor(layer.kernel.numpy().transpose(4, 3, 0, 1, 2), requires_grad=True)
    bt = torch.tensor(layer.bias.numpy(), requires_grad=True)
    s3 = (strides,) * 3 if isinstance(strides, int) else strides
    d3 = (dilation,) * 3 if isinstance(dilation, int) else dilation
    pads = resolve_padding(padding, x.shape[1:4], (3, 2, 3), s3, d3, "test")
    flat = [v for pair in reversed(pads) for v in pair]  # F.pad: last axis first
    yt = F.conv3d(F.pad(xt, flat), wt, bt, stride=s3, dilation=d3, groups=groups)
    g = rng.standard_normal(yt.shape)
    yt.backward(torch.tensor(g))
    y, dx, grads = _layer_grads(layer, x, g.transpose(0, 2, 3, 4, 1))
    assert y.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 3, 4, 1), **TOL)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 4, 1), **TOL)
    np.testing.assert_allclose(grads["kernel"], wt.grad.numpy().transpose(2, 3, 4, 1, 0), **TOL)
    np.testing.assert_allclose(grads["bias"], bt.grad.numpy(), **TOL)


def test_grouped_conv3d_gradcheck_and_errors():
    rng = np.random.default_rng(1)
    assert gradcheck(
        lambda x, k: conv_nd.conv3d(x, k, strides=(1, 2, 1), padding="same", groups=2),
        rng.standard_normal((1, 3, 4, 3, 4)), rng.standard_normal((2, 2, 2, 2, 4)),
    )  # fmt: skip
    with pytest.raises(ValueError, match="divisible by groups"):
        conv_nd.conv3d(np.ones((1, 3, 3, 3, 3)), np.ones((1, 1, 1, 1, 4)), groups=3)
    with pytest.raises(ValueError, match="expects 2 input channels"):
        conv_nd.conv3d(np.ones((1, 3, 3, 3, 6)), np.ones((1, 1, 1, 2, 4)), groups=2)
    with pytest.raises(ValueError, match="number of input channels must be evenly divisible"):
        layers.Conv3D(4, 1, groups=2)(np.ones((1, 2, 2, 2, 3), "float32"))


@pytest.mark.parametrize(
    "strides, padding, dilation, multiplier",
    [(1, "valid", 1, 1), (2, "same", 1, 2), (1, "causal", 2, 3), (1, ((2, 1),), 1, 1)],
)
def test_depthwise_conv1d_matches_torch(strides, padding, dilation, multiplier):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 11, 4))
    layer = _as_float64(
        layers.DepthwiseConv1D(3, strides=strides, padding=padding, dilation_rate=dilation,
                               depth_multiplier=multiplier, dtype="float64"),
        x,
    )  # fmt: skip
    assert layer.count_params() == 3 * 4 * multiplier + 4 * multiplier
    kernel = layer.depthwise_kernel.numpy()  # (K, C, M) -> torch (C*M, 1, K)
    xt = torch.tensor(x.transpose(0, 2, 1), requires_grad=True)
    wt = torch.tensor(kernel.transpose(1, 2, 0).reshape(4 * multiplier, 1, 3), requires_grad=True)
    bt = torch.tensor(layer.bias.numpy(), requires_grad=True)
    pad = {"valid": (0, 0), "causal": (2 * dilation, 0)}.get(padding) if isinstance(
        padding, str) else padding[0]  # fmt: skip
    if padding == "same":  # Keras/TF "same": total D*(K-1) - (L-1) % S ... as resolve_padding
        out = -(-11 // strides)
        total = max((out - 1) * strides + dilation * 2 + 1 - 11, 0)
        pad = (total // 2, total - total // 2)
    yt = F.conv1d(F.pad(xt, pad), wt, bt, stride=strides, dilation=dilation, groups=4)
    g = rng.standard_normal(yt.shape)
    yt.backward(torch.tensor(g))
    y, dx, grads = _layer_grads(layer, x, g.transpose(0, 2, 1))
    assert y.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 1), **TOL)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 1), **TOL)
    dk = wt.grad.numpy().reshape(4, multiplier, 3).transpose(2, 0, 1)
    np.testing.assert_allclose(grads["depthwise_kernel"], dk, **TOL)
    np.testing.assert_allclose(grads["bias"], bt.grad.numpy(), **TOL)


def test_separable_conv1d_matches_torch_and_keras_counts():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 9, 4))
    layer = _as_float64(
        layers.SeparableConv1D(5, 3, padding="same", depth_multiplier=2, dtype="float64"), x
    )
    assert layer.count_params() == 3 * 4 * 2 + 4 * 2 * 5 + 5  # Keras: K*C*M + C*M*F + F
    assert layer.pointwise_kernel.shape == (1, 8, 5)
    depthwise, pointwise = layer.depthwise_kernel.numpy(), layer.pointwise_kernel.numpy()
    xt = torch.tensor(x.transpose(0, 2, 1), requires_grad=True)
    dwt = torch.tensor(depthwise.transpose(1, 2, 0).reshape(8, 1, 3), requires_grad=True)
    pwt = torch.tensor(pointwise[0].T[:, :, None], requires_grad=True)
    bt = torch.tensor(layer.bias.numpy(), requires_grad=True)
    yt = F.conv1d(F.conv1d(xt, dwt, padding=1, groups=4), pwt, bt)
    g = rng.standard_normal(yt.shape)
    yt.backward(torch.tensor(g))
    y, dx, grads = _layer_grads(layer, x, g.transpose(0, 2, 1))
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 1), **TOL)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 1), **TOL)
    np.testing.assert_allclose(
        grads["depthwise_kernel"], dwt.grad.numpy().reshape(4, 2, 3).transpose(2, 0, 1), **TOL
    )
    np.testing.assert_allclose(grads["pointwise_kernel"][0], pwt.grad.numpy()[:, :, 0].T, **TOL)
    # channels_first gives the same numbers on transposed data
    first = layers.SeparableConv1D(5, 3, padding="same", depth_multiplier=2,
                                   data_format="channels_first", dtype="float64")  # fmt: skip
    first(x[:1].transpose(0, 2, 1))
    for mine, theirs in zip(first.weights, layer.weights, strict=True):
        mine.data = theirs.numpy().copy()
    np.testing.assert_allclose(first(x.transpose(0, 2, 1)).numpy(), y.transpose(0, 2, 1), **TOL)


def test_one_d_layers_round_trip_and_train():
    model = keras.Sequential([
        keras.Input((16, 3)),
        layers.DepthwiseConv1D(3, depth_multiplier=2, activation="relu"),
        layers.SeparableConv1D(4, 3, padding="causal"),
        layers.GlobalAveragePooling1D(),
        layers.Dense(1),
    ])  # fmt: skip
    clone = keras.Sequential.from_config(model.get_config())
    assert [type(layer).__name__ for layer in clone.layers] == [
        type(layer).__name__ for layer in model.layers
    ]
    assert clone.layers[1].get_config()["padding"] == "causal"
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((32, 16, 3)).astype("float32"), rng.standard_normal((32, 1))
    model.compile("adam", "mse")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before


def test_transposed_convolutions_take_no_groups_as_in_keras_3():
    for cls in (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose):
        with pytest.raises(TypeError, match="groups"):
            cls(4, 3, groups=2)
