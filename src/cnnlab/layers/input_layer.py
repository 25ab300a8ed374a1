"""``keras.Input``: the symbolic starting point of a functional model."""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Tensor
from cnnlab.backend import DEFAULT_FLOAT
from cnnlab.layers.base import Layer, _as_shape
from cnnlab.layers.node import KerasHistory, KerasTensor, Node


class InputLayer(Layer):
    """The layer behind :func:`Input`; it holds no weights and passes data through.

    Args:
        shape: shape of one sample, without the batch axis, e.g. ``(28, 28, 1)``.
        batch_size: optional fixed batch size.
        dtype: the input dtype (default float32).
        batch_shape: the full shape including the batch axis (instead of ``shape``).
        name: default ``input_layer``, ``input_layer_1``, ...
    """

    per_example = replayable = True  # see Layer's capabilities

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        sparse=None,
        batch_shape=None,
        input_tensor=None,
        name=None,
        **kwargs,
    ):
        kwargs.pop("ragged", None)
        super().__init__(name=name, **kwargs)
        self.dtype = _input_dtype(dtype)
        if sparse:
            raise ValueError("InputLayer: sparse inputs are not supported by cnnlab.")
        if input_tensor is not None:
            raise ValueError("InputLayer: input_tensor is not supported by cnnlab.")
        if shape is not None and batch_shape is not None:
            raise ValueError(
                "You cannot pass both `shape` and `batch_shape` at the same time. "
                f"Received: shape={shape}, batch_shape={batch_shape}"
            )
        if batch_shape is not None:
            batch_shape = _as_shape(batch_shape, "batch_shape")
        elif shape is not None:
            batch_shape = (batch_size, *_as_shape(shape, "shape"))
        else:
            raise ValueError("You must pass a `shape` argument to keras.Input / InputLayer.")
        if len(batch_shape) == 0:
            raise ValueError(
                "InputLayer: the shape must include at least the batch axis. "
                f"Received: batch_shape={batch_shape}"
            )
        if any(d is not None and d < 0 for d in batch_shape):
            raise ValueError(f"InputLayer: sizes must be non-negative. Received: {batch_shape}")
        self.batch_shape = batch_shape
        self.built = True
        self._build_input_shape = batch_shape
        tensor = KerasTensor(batch_shape, self.dtype, self.name, KerasHistory(self, 0, 0))
        self._inbound_nodes.append(Node(self, None, None, tensor))

    @classmethod
    def _default_name(cls) -> str:
        return "input_layer"

    def _convert_input(self, x):
        if self.dtype.kind == "f":
            return super()._convert_input(x)
        return as_input_tensor(x, self.dtype)

    def compute_output_shape(self, input_shape):
        return self.batch_shape

    def get_config(self) -> dict:
        return {
            "batch_shape": list(self.batch_shape),
            "dtype": self.dtype.name,
            "sparse": False,
            "name": self.name,
        }


def _input_dtype(dtype):
    """float32 by default; any float, integer or bool dtype (token ids, labels)."""
    if dtype is None:
        return DEFAULT_FLOAT
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"Input: dtype must be a dtype name. Received: dtype={dtype!r}") from None
    if resolved.kind not in "biuf" or resolved == np.float16:
        raise ValueError(
            "Input: dtype must be float32, float64, an integer type or bool. "
            f"Received: dtype={dtype!r}"
        )
    return resolved


def as_input_tensor(x, dtype) -> Tensor:
    """Data for an input of ``dtype``: floats become a Tensor of that float type;
    integers and booleans are kept as such (no gradient)."""
    if isinstance(x, Tensor):
        array = x.data
        if array.dtype == dtype:
            return x
    else:
        array = np.asarray(x)
    if dtype.kind == "f":
        return Tensor(array, dtype=dtype)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Input: data must be numbers. Received an array of dtype {array.dtype}")
    return Tensor._from_array(array.astype(dtype, copy=False))


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None):
    """A symbolic tensor to start a functional model from.

    Args:
        shape: the shape of ONE sample (no batch axis), e.g. ``(28, 28, 1)``.
        batch_size: optional fixed batch size.
        dtype: ``"float32"`` (default), ``"float64"``, or an integer type such as
            ``"int32"`` for token ids or labels (kept as integers).
        batch_shape: full shape including the batch axis (instead of ``shape``).
        name: optional name of the input layer.

    Returns:
        KerasTensor of shape ``(batch_size, *shape)``.

    Example:
        >>> from cnnlab import keras
        >>> from cnnlab.keras import layers
        >>> inputs = keras.Input(shape=(28, 28, 1))
        >>> layers.Conv2D(32, 3)(inputs).shape
        (None, 26, 26, 32)
    """
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        batch_shape=batch_shape,
        name=name,
    )
    return layer.output
