"""``keras.ops``' functions that move elements: reshape, transpose, concatenate,
tile, pad, take, ... All are differentiable (they index or copy; the gradient
goes back to where each element came from)."""

from __future__ import annotations

import builtins

import numpy as np

from cnnlab.autograd import basic
from cnnlab.tensor_ops import _functions as fns
from cnnlab.tensor_ops._dispatch import axis_tuple, constant, keras_op, pair, to_tensor


def _index(index):
    """An index with Tensors replaced by their arrays."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    if hasattr(index, "data") and hasattr(index, "shape") and not isinstance(index, np.ndarray):
        return index.data
    return index


@keras_op
def reshape(x, newshape):
    """``x`` with shape ``newshape`` (one entry may be -1)."""
    if isinstance(newshape, int | np.integer):
        newshape = (int(newshape),)
    newshape = tuple(-1 if d is None else int(d) for d in newshape)
    return basic.reshape(to_tensor(x), newshape)


@keras_op
def transpose(x, axes=None):
    return basic.transpose(to_tensor(x), axes)


@keras_op
def expand_dims(x, axis):
    x = to_tensor(x)
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    return basic.reshape(x, np.expand_dims(np.empty(x.shape, bool), axes).shape)


@keras_op
def squeeze(x, axis=None):
    x = to_tensor(x)
    try:
        shape = np.squeeze(np.empty(x.shape, bool), axis=axis_tuple(axis)).shape
    except ValueError as err:
        raise ValueError(f"squeeze: cannot squeeze axis={axis} of shape {x.shape}: {err}") from None
    return basic.reshape(x, shape)


@keras_op
def ravel(x):
    return basic.reshape(to_tensor(x), (-1,))


@keras_op
def concatenate(xs, axis=0):
    tensors = [to_tensor(x) for x in xs]
    if len({t.dtype for t in tensors}) > 1:
        tensors = [pair(t, tensors[0])[0] for t in tensors]
    return basic.concatenate(tensors, axis=axis)


@keras_op
def stack(x, axis=0):
    return basic.stack([to_tensor(t) for t in x], axis=axis)


@keras_op
def unstack(x, num=None, axis=0):
    x = to_tensor(x)
    return [
        get_item(x, (builtins.slice(None),) * (axis % x.ndim) + (i,)) for i in range(x.shape[axis])
    ]


@keras_op
def split(x, indices_or_sections, axis=0):
    x = to_tensor(x)
    pieces = (
        np.array_split(np.arange(x.shape[axis]), indices_or_sections)
        if isinstance(indices_or_sections, int)
        else np.split(np.arange(x.shape[axis]), indices_or_sections)
    )
    return [take(x, p, axis=axis) for p in pieces]


@keras_op
def get_item(x, key):
    """``x[key]`` (what ``tensor[...]`` and ``keras_tensor[...]`` call)."""
    return basic.getitem(to_tensor(x), _index(key))


@keras_op
def slice(inputs, start_indices, shape):
    """The block of size ``shape`` starting at ``start_indices``."""
    index = tuple(
        builtins.slice(int(s), int(s) + int(n)) for s, n in zip(start_indices, shape, strict=True)
    )
    return basic.getitem(to_tensor(inputs), index)


@keras_op
def broadcast_to(x, shape):
    x = to_tensor(x)
    return fns.gather(x, lambda p: np.broadcast_to(p, tuple(shape)))


@keras_op
def tile(x, repeats):
    return fns.gather(to_tensor(x), lambda p: np.tile(p, repeats))


@keras_op
def repeat(x, repeats, axis=None):
    return fns.gather(to_tensor(x), lambda p: np.repeat(p, repeats, axis=axis))


@keras_op
def flip(x, axis=None):
    return fns.gather(to_tensor(x), lambda p: np.flip(p, axis=axis_tuple(axis)))


@keras_op
def roll(x, shift, axis=None):
    return fns.gather(to_tensor(x), lambda p: np.roll(p, shift, axis=axis_tuple(axis)))


@keras_op
def swapaxes(x, axis1, axis2):
    x = to_tensor(x)
    axes = list(range(x.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return basic.transpose(x, axes)


@keras_op
def moveaxis(x, source, destination):
    x = to_tensor(x)
    order = np.moveaxis(np.arange(x.ndim), source, destination)
    return basic.transpose(x, [int(a) for a in order])


@keras_op
def take(x, indices, axis=None):
    indices = np.asarray(_index(indices)).astype(np.int64)
    return fns.gather(to_tensor(x), lambda p: np.take(p, indices, axis=axis))


@keras_op
def take_along_axis(x, indices, axis=None):
    indices = np.asarray(_index(indices)).astype(np.int64)
    return fns.gather(to_tensor(x), lambda p: np.take_along_axis(p, indices, axis=axis))


@keras_op
def pad(x, pad_width, mode="constant", constant_values=None):
    """Pad with ``constant_values`` (default 0), or ``mode="reflect"``/``"symmetric"``/
    ``"edge"`` as NumPy; differentiable."""
    x = to_tensor(x)
    if mode == "constant":
        fill = 0 if constant_values is None else constant_values
        return fns.gather_padded(x, lambda p: np.pad(p, pad_width, constant_values=x.size), fill)
    if constant_values is not None:
        raise ValueError(f"pad: constant_values needs mode='constant'. Received: mode={mode!r}")
    return fns.gather(x, lambda p: np.pad(p, pad_width, mode=mode))


@keras_op
def tril(x, k=0):
    x = to_tensor(x)
    return basic.mul(x, constant(np.tril(np.ones(x.shape[-2:], x.dtype), k)))


@keras_op
def triu(x, k=0):
    x = to_tensor(x)
    return basic.mul(x, constant(np.triu(np.ones(x.shape[-2:], x.dtype), k)))


@keras_op
def diagonal(x, offset=0, axis1=0, axis2=1):
    return fns.gather(to_tensor(x), lambda p: np.diagonal(p, offset, axis1, axis2).copy())


def size(x) -> int:
    """The number of elements (a Python int)."""
    return int(np.prod(x.shape if hasattr(x, "shape") else np.shape(x)))


def ndim(x) -> int:
    """The number of axes (a Python int; also for KerasTensors)."""
    return len(x.shape if hasattr(x, "shape") else np.shape(x))
