"""``keras.ops.depth_to_space`` / ``space_to_depth``: moving pixels between the channel
axis and ``b x b`` spatial blocks (the "sub-pixel convolution" of ESPCN super-resolution).

channels_last ``(N, H, W, C)`` -> ``(N, H*b, W*b, C/b^2)`` with TensorFlow's order:

    ``y[n, h*b + i, w*b + j, c] = x[n, h, w, (i*b + j) * C/b^2 + c]``

channels_first ``(N, C, H, W)`` uses PyTorch's ``pixel_shuffle`` order
``x[n, c*b^2 + i*b + j, h, w]``, as Keras does. Both are one reshape, one transpose and
one reshape, so gradients flow through.

Example:
    >>> import numpy as np
    >>> depth_to_space(np.arange(4.0).reshape(1, 1, 1, 4), 2).numpy()[0, ..., 0]
    array([[0., 1.],
           [2., 3.]])
"""

from __future__ import annotations

from cnnlab.tensor_ops import manipulation as manip
from cnnlab.tensor_ops._dispatch import keras_op, to_tensor


def _checked(x, block_size, data_format, fn):
    x = to_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"{fn} requires a 4D input tensor. Received: x.shape={x.shape}")
    if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 2:
        raise ValueError(f"{fn}: block_size must be an int >= 2. Received: {block_size!r}")
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{fn}: data_format must be 'channels_last' or 'channels_first'. "
                         f"Received: {data_format!r}")  # fmt: skip
    return x


@keras_op
def depth_to_space(x, block_size, data_format="channels_last"):
    """Channels to ``block_size x block_size`` blocks (pixel shuffle); see the module
    docstring for the order. The channels must be divisible by ``block_size**2``."""
    fn = "depth_to_space"
    x, b = _checked(x, block_size, data_format, fn), block_size
    if data_format == "channels_last":
        n, h, w, c = x.shape
    else:
        n, c, h, w = x.shape
    if c % (b * b):
        raise ValueError(f"{fn}: the channels ({c}) must be divisible by block_size**2 "
                         f"({b * b}). Received: x.shape={x.shape}")  # fmt: skip
    if data_format == "channels_last":
        x = manip.reshape(x, (n, h, w, b, b, c // (b * b)))
        return manip.reshape(manip.transpose(x, (0, 1, 3, 2, 4, 5)), (n, h * b, w * b, -1))
    x = manip.reshape(x, (n, c // (b * b), b, b, h, w))
    return manip.reshape(manip.transpose(x, (0, 1, 4, 2, 5, 3)), (n, -1, h * b, w * b))


@keras_op
def space_to_depth(x, block_size, data_format="channels_last"):
    """The inverse of :func:`depth_to_space`: ``block_size x block_size`` blocks to
    channels. Height and width must be divisible by ``block_size``."""
    fn = "space_to_depth"
    x, b = _checked(x, block_size, data_format, fn), block_size
    if data_format == "channels_last":
        n, h, w, c = x.shape
    else:
        n, c, h, w = x.shape
    if h % b or w % b:
        raise ValueError(f"{fn}: height and width must be divisible by block_size ({b}). "
                         f"Received: x.shape={x.shape}")  # fmt: skip
    if data_format == "channels_last":
        x = manip.reshape(x, (n, h // b, b, w // b, b, c))
        return manip.reshape(manip.transpose(x, (0, 1, 3, 2, 4, 5)), (n, h // b, w // b, -1))
    x = manip.reshape(x, (n, c, h // b, b, w // b, b))
    return manip.reshape(manip.transpose(x, (0, 1, 3, 5, 2, 4)), (n, -1, h // b, w // b))


__all__ = ["depth_to_space", "space_to_depth"]
