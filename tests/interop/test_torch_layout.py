"""PyTorch state dict -> cnnlab: the lecture's convnet trained in PyTorch predicts the same."""

import numpy as np
import pytest

from cnnlab import keras, zoo
from cnnlab.interop.torch_layout import (
    depthwise_kernel,
    flatten_permutation,
    load_torch_weights,
)
from cnnlab.keras import layers

torch = pytest.importorskip("torch")
nn = torch.nn


def _torch_convnet():
    """The lecture's convnet, in PyTorch (NCHW): Flatten sees (128, 3, 3)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3), nn.ReLU(), nn.Flatten(), nn.Linear(128 * 3 * 3, 10),
    )  # fmt: skip


def test_lecture_convnet_trained_in_pytorch_predicts_the_same(tmp_path):
    torch.manual_seed(0)
    net = _torch_convnet()
    x = torch.rand(64, 1, 28, 28)
    y = torch.randint(0, 10, (64,))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
    for _ in range(5):  # a few real training steps: the weights are no longer initial
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
    path = tmp_path / "convnet.pth"
    torch.save(net.state_dict(), path)

    model = zoo.build_model("convnet")
    load_torch_weights(model, path)
    with torch.no_grad():
        expected = torch.softmax(net(x), dim=1).numpy()
    ours = model.predict(x.numpy().transpose(0, 2, 3, 1), verbose=0)
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_depthwise_batchnorm_and_stride_two_padding():
    torch.manual_seed(1)
    net = nn.Sequential(
        nn.ZeroPad2d((0, 1, 0, 1)),  # Keras' "same" at stride 2: the extra row/column after
        nn.Conv2d(3, 6, 3, stride=2, groups=3, bias=True),
        nn.BatchNorm2d(6, eps=1e-3),
    ).eval()
    with torch.no_grad():
        net[2].running_mean.uniform_(-1, 1)
        net[2].running_var.uniform_(0.5, 2)
        net[2].weight.uniform_(0.5, 2)
    inputs = keras.Input(shape=(8, 8, 3))
    h = layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2)(inputs)
    model = keras.Model(inputs, layers.BatchNormalization(epsilon=1e-3)(h))
    load_torch_weights(model, {k: v.numpy() for k, v in net.state_dict().items()})
    x = torch.rand(2, 3, 8, 8)
    with torch.no_grad():
        expected = net(x).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(model.predict(x.numpy().transpose(0, 2, 3, 1), verbose=0),
                               expected, atol=1e-5)  # fmt: skip


def test_layout_helpers():
    w = np.arange(6 * 1 * 2 * 2).reshape(6, 1, 2, 2)
    k = depthwise_kernel(w, channels=3)
    assert k.shape == (2, 2, 3, 2)
    assert k[1, 0, 2, 1] == w[2 * 2 + 1, 0, 1, 0]
    perm = flatten_permutation(2, 3, 4)  # Keras (h, w, c) position -> PyTorch (c, h, w)
    assert perm[(1 * 3 + 2) * 4 + 3] == 3 * 6 + 1 * 3 + 2


def test_mismatches_are_named():
    model = zoo.build_model("convnet")
    state = {k: v.detach().numpy() for k, v in _torch_convnet().state_dict().items()}
    del state["9.bias"], state["9.weight"]
    with pytest.raises(ValueError, match="3 modules with weights but the model has 4"):
        load_torch_weights(model, state)
    state["9.weight"] = np.zeros((10, 99), np.float32)
    state["9.bias"] = np.zeros(10, np.float32)
    with pytest.raises(ValueError, match=r"does not fit PyTorch module '9'"):
        load_torch_weights(model, state)
