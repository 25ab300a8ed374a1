"""clipped_relu (ReLU6): PyTorch's relu6 forward and backward, gradcheck, the layer."""

import numpy as np
import pytest

from cnnlab.autograd.gradcheck import gradcheck
from cnnlab.autograd.tensor import Tensor
from cnnlab.keras import layers
from cnnlab.ops import clipped_relu

torch = pytest.importorskip("torch")


def test_matches_torch_relu6(rng):
    x = rng.uniform(-3, 9, (4, 5)).astype(np.float32)
    g = rng.standard_normal((4, 5)).astype(np.float32)
    t = Tensor(x, requires_grad=True)
    (clipped_relu(t, 6.0) * Tensor(g)).sum().backward()
    px = torch.tensor(x, requires_grad=True)
    torch.nn.functional.relu6(px).backward(torch.tensor(g))
    np.testing.assert_array_equal(clipped_relu(x).numpy(), torch.nn.functional.relu6(px).detach())
    np.testing.assert_allclose(t.grad, px.grad.numpy())


def test_gradcheck_and_the_layer(rng):
    x = rng.uniform(-2, 5, (3, 4))
    x[np.abs(x) < 0.05] += 0.2  # away from the kinks
    x[np.abs(x - 3) < 0.05] += 0.2
    gradcheck(lambda a: clipped_relu(a, 3.0), x)
    layer = layers.ReLU(max_value=3.0)
    np.testing.assert_array_equal(
        layer(x.astype(np.float32)).numpy(), np.clip(x, 0, 3).astype(np.float32)
    )
    with pytest.raises(ValueError, match="max_value"):
        clipped_relu(x, -1.0)
