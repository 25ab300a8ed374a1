"""DepthwiseConv2dFunction (one kernel offset at a time) against PyTorch and gradcheck,
for the geometries test_conv.py does not cover: dilation, unequal strides, M = 1."""

import numpy as np
import pytest

from cnnlab.autograd.gradcheck import gradcheck
from cnnlab.autograd.tensor import Tensor
from cnnlab.ops import depthwise_conv2d

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    ("strides", "dilation", "padding", "m"),
    [((2, 1), 1, "same", 1), (1, 2, "same", 1), ((1, 2), (2, 1), ((2, 0), (1, 3)), 3)],
)
def test_forward_and_backward_match_torch(strides, dilation, padding, m, rng):
    c = 4
    x = rng.standard_normal((2, 9, 8, c)).astype(np.float32)
    k = rng.standard_normal((3, 3, c, m)).astype(np.float32)
    b = rng.standard_normal(c * m).astype(np.float32)
    tx, tk, tb = (
        Tensor(x, requires_grad=True),
        Tensor(k, requires_grad=True),
        Tensor(b, requires_grad=True),
    )
    y = depthwise_conv2d(tx, tk, tb, strides=strides, padding=padding, dilation_rate=dilation)
    g = rng.standard_normal(y.shape).astype(np.float32)
    (y * Tensor(g)).sum().backward()

    px = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    pk = torch.tensor(k.reshape(3, 3, c * m).transpose(2, 0, 1)[:, None].copy(), requires_grad=True)
    pb = torch.tensor(b, requires_grad=True)
    if isinstance(padding, str):
        pads = [(y.shape[1 + i] - 1) * (strides if isinstance(strides, int) else strides[i])
                + (3 - 1) * (dilation if isinstance(dilation, int) else dilation[i]) + 1
                - x.shape[1 + i] for i in range(2)]  # fmt: skip
        pads = ((pads[0] // 2, pads[0] - pads[0] // 2), (pads[1] // 2, pads[1] - pads[1] // 2))
    else:
        pads = padding
    padded = torch.nn.functional.pad(px, (*pads[1], *pads[0]))
    py = torch.nn.functional.conv2d(padded, pk, pb, stride=strides, dilation=dilation, groups=c)
    py.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y.numpy(), py.detach().numpy().transpose(0, 2, 3, 1), atol=1e-5)
    np.testing.assert_allclose(tx.grad, px.grad.numpy().transpose(0, 2, 3, 1), atol=1e-4)
    dk = pk.grad.numpy()[:, 0].transpose(1, 2, 0).reshape(3, 3, c, m)
    np.testing.assert_allclose(tk.grad, dk, atol=1e-4)
    np.testing.assert_allclose(tb.grad, pb.grad.numpy(), atol=1e-4)


def test_gradcheck_dilated_strided(rng):
    x = rng.standard_normal((2, 6, 5, 2))
    k = rng.standard_normal((2, 3, 2, 2))
    b = rng.standard_normal(4)
    gradcheck(lambda a, w, c: depthwise_conv2d(a, w, c, strides=(2, 1), dilation_rate=(1, 2),
                                               padding="same"), x, k, b)  # fmt: skip
