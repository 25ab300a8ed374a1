"""``keras.ops``' core functions: conversion, dtype, shape and gradient control."""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Tensor
from cnnlab.tensor_ops._dispatch import cast_tensor, keras_op, standardize_dtype, to_tensor


def convert_to_tensor(x, dtype=None, sparse=None):
    """A cnnlab Tensor from an array, a number or a nested list (a Tensor stays
    itself). Python floats become float32 and Python ints int32, as in Keras.

    Example:
        >>> convert_to_tensor([1, 2]).dtype, convert_to_tensor(1.5).dtype
        (dtype('int32'), dtype('float32'))
    """
    from cnnlab.layers.node import KerasTensor

    if isinstance(x, KerasTensor):
        return x if dtype is None else cast(x, dtype)
    return to_tensor(x, dtype)


def convert_to_numpy(x) -> np.ndarray:
    """The values of a Tensor (or anything array-like) as a NumPy array."""
    if isinstance(x, Tensor):
        return np.array(x.data)
    return np.asarray(x)


def is_tensor(x) -> bool:
    """True for cnnlab Tensors (and Variables)."""
    return isinstance(x, Tensor)


@keras_op
def cast(x, dtype):
    """``x`` in ``dtype`` (differentiable between float types)."""
    return cast_tensor(to_tensor(x), dtype)


def shape(x) -> tuple:
    """The shape as a tuple (``None`` for the unknown batch axis of a KerasTensor)."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def dtype(x) -> str:
    """The dtype's name, e.g. ``"float32"``."""
    return standardize_dtype(x.dtype).name if hasattr(x, "dtype") else np.asarray(x).dtype.name


@keras_op
def stop_gradient(variable):
    """The same values, cut off from the graph (no gradient flows back)."""
    return Tensor._from_array(to_tensor(variable).data)


def _check_fn(fn, name):
    if not callable(fn):
        raise TypeError(f"{name} must be callable. Received: {fn!r}")


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()`` (eager: ``pred`` is a value)."""
    _check_fn(true_fn, "true_fn")
    _check_fn(false_fn, "false_fn")
    return true_fn() if bool(np.asarray(to_tensor(pred).data)) else false_fn()


def fori_loop(lower, upper, body_fun, init_val):
    """``for i in range(lower, upper): val = body_fun(i, val)``."""
    _check_fn(body_fun, "body_fun")
    value = init_val
    for i in range(int(lower), int(upper)):
        value = body_fun(i, value)
    return value
