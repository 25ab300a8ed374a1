"""The fully connected (dense) layer's math: ``y = activation(x @ kernel + bias)``.

The kernel has Keras' layout ``(in_features, units)``, so a dense layer is one matrix
product; leading axes of ``x`` are batch axes. Bias and ReLU are fused into the same
Function (one pass, no extra graph nodes), other activations are applied after it.
"""

from __future__ import annotations

from cnnlab.autograd import Function, Tensor, as_tensor
from cnnlab.ops.activation import get_activation, linear, relu


class DenseFunction(Function):
    """``out = x @ kernel (+ bias)``, optionally followed by ReLU, over flattened batch axes.

    Backward with ``G`` the upstream gradient reshaped to ``(M, units)`` (``G`` masked by
    ``out > 0`` first when ReLU is fused) and ``X`` the input as ``(M, in)``:
    ``dX = G @ kernel^T``, ``dkernel = X^T @ G``, ``dbias = sum_rows(G)``.
    """

    def forward(self, x, kernel, bias=None, fuse_relu=False):
        x2 = x.reshape(-1, x.shape[-1])
        out = x2 @ kernel
        if bias is not None:
            out += bias
        if fuse_relu:
            self.xp.maximum(out, out.dtype.type(0), out=out)
        self.save_for_backward(x2, kernel, out if fuse_relu else None)
        self.x_shape, self.has_bias = x.shape, bias is not None
        return out.reshape(*x.shape[:-1], kernel.shape[1])

    def backward(self, g):
        x2, kernel, out = self.saved_arrays
        g2 = g.reshape(-1, kernel.shape[1])
        if out is not None:
            g2 = g2 * (out > 0)
        needs = self.needs_input_grad or (True,) * (3 if self.has_bias else 2)
        dx = (g2 @ kernel.T).reshape(self.x_shape) if needs[0] else None
        grads = (dx, x2.T @ g2 if needs[1] else None)
        if self.has_bias:
            # 1^T @ G sums the rows in one pass (faster than G.sum(axis=0) on a tall G)
            grads += (self.xp.ones(g2.shape[0], dtype=g2.dtype) @ g2 if needs[2] else None,)
        return grads


def dense(x, kernel, bias=None, activation=None) -> Tensor:
    """Fully connected layer: ``activation(x @ kernel + bias)``.

    Args:
        x: input, array-like or Tensor of shape ``(..., in_features)``.
        kernel: weights of shape ``(in_features, units)`` (Keras layout).
        bias: optional ``(units,)`` vector.
        activation: ``None``, a Keras activation name or a callable (see
            :func:`~cnnlab.ops.get_activation`). ``"relu"`` is fused into the product.

    Input shape:
        ``(..., in_features)``, e.g. ``(batch, 784)`` for flattened MNIST images.

    Output shape:
        ``(..., units)``. Parameters: ``in_features * units + units``.

    Raises:
        ValueError: ``x``'s last axis is not ``kernel.shape[0]``, ``kernel`` is not 2-D
            or ``bias`` is not ``(units,)``.

    Example:
        >>> import numpy as np
        >>> x = np.array([[1.0, 2.0]], dtype=np.float32)
        >>> kernel = np.array([[1.0, -1.0], [1.0, -1.0]], dtype=np.float32)
        >>> dense(x, kernel, bias=np.array([0.5, 0.5], dtype=np.float32), activation="relu")
        Tensor([[3.5, 0. ]], dtype=float32)
    """
    x, kernel = as_tensor(x), as_tensor(kernel)
    if kernel.ndim != 2:
        raise ValueError(
            f"dense: kernel must be 2-D (in_features, units). Received shape {kernel.shape}"
        )
    if x.ndim < 1:
        raise ValueError("dense: input must have at least 1 axis (features). Received a scalar")
    if x.shape[-1] != kernel.shape[0]:
        raise ValueError(
            f"dense: input has {x.shape[-1]} features but the kernel expects {kernel.shape[0]} "
            f"(kernel shape {kernel.shape}, input shape {x.shape})"
        )
    inputs = (x, kernel)
    if bias is not None:
        bias = as_tensor(bias)
        if bias.shape != (kernel.shape[1],):
            raise ValueError(
                f"dense: bias must have shape ({kernel.shape[1]},) to match the kernel's "
                f"{kernel.shape[1]} units. Received: {bias.shape}"
            )
        inputs += (bias,)
    act = get_activation(activation)
    fuse = act is relu
    out = DenseFunction.apply(*inputs, fuse_relu=fuse)
    return out if fuse or act is linear else act(out)
