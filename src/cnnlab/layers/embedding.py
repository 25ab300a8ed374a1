"""Embedding (integer ids -> learned vectors) and Masking (padding steps -> a mask)."""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from cnnlab.autograd import Tensor
from cnnlab.layers.base import Layer
from cnnlab.layers.core import WeightArgs, positive_int
from cnnlab.ops.embedding import embedding


class Embedding(Layer):
    """Turn integer ids into dense vectors: ``output[..., :] = embeddings[ids[...], :]``.

    Args:
        input_dim: size of the vocabulary (ids are in ``[0, input_dim)``).
        output_dim: length of each vector.
        embeddings_initializer: default ``"uniform"`` (in ``[-0.05, 0.05]``, as Keras).
        embeddings_regularizer, embeddings_constraint, activity_regularizer: optional.
        mask_zero: id 0 is padding: the output carries the mask ``ids != 0`` to the
            layers after it (recurrent layers skip those steps). Then id 0 cannot be a
            word, so ``input_dim`` should be the vocabulary size + 1.
        weights: optional initial table ``[array of shape (input_dim, output_dim)]``.

    Input shape:
        ``(batch, ...)`` integers (floats holding whole numbers are accepted).

    Output shape:
        ``(batch, ..., output_dim)``. Parameters: ``input_dim * output_dim``.

    Example:
        >>> from cnnlab.keras import layers
        >>> layer = layers.Embedding(1000, 64, mask_zero=True)
        >>> out = layer(np.array([[4, 20, 0]]))
        >>> out.shape, out._keras_mask
        ((1, 3, 64), array([[ True,  True, False]]))
    """

    per_example = True  # see Layer's capabilities; its mask is made on every call

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        lora_rank=None,
        **kwargs,
    ):
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        super().__init__(**kwargs)
        self.input_dim = positive_int(input_dim, "input_dim", "Embedding")
        self.output_dim = positive_int(output_dim, "output_dim", "Embedding")
        if lora_rank is not None:
            raise ValueError(f"Embedding: lora_rank is not supported. Received: {lora_rank!r}")
        self.mask_zero = bool(mask_zero)
        # a masked loss is a mean over a whole batch's real steps: never cut into shards
        self.per_example = not self.mask_zero
        self._args = WeightArgs(
            embeddings=(embeddings_initializer, embeddings_regularizer, embeddings_constraint)
        )
        self._initial_weights = weights
        self.embeddings = None

    def build(self, input_shape=None):
        self.embeddings = self._args.add(self, "embeddings", (self.input_dim, self.output_dim))
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _convert_input(self, x):
        if isinstance(x, Tensor):
            return x
        array = np.asarray(x)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f'Layer "{self.name}" (Embedding): inputs must be integer ids. Received an array '
                f"of dtype {array.dtype}"
            )
        return Tensor._from_array(array)

    def call(self, inputs):
        return embedding(inputs, self.embeddings)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return np.asarray(getattr(inputs, "data", inputs)) != 0

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            **self._args.config(),
            "mask_zero": self.mask_zero,
        }


class Masking(Layer):
    """Mark time steps whose features all equal ``mask_value`` as padding.

    ``mask[b, t] = any(inputs[b, t, :] != mask_value)``; masked steps are also set to 0
    in the output, and the mask goes on to the next layers (recurrent layers skip
    those steps).

    Input shape / output shape:
        ``(batch, steps, features)``, unchanged.

    Example:
        >>> from cnnlab.keras import layers
        >>> x = np.array([[[1.0], [0.0], [2.0]]], dtype="float32")
        >>> layers.Masking(mask_value=0.0)(x)._keras_mask
        array([[ True, False,  True]])
    """

    per_example = False  # a masked loss is a mean over a whole batch's real steps
    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, numbers.Real):
            raise TypeError(f"Masking: mask_value must be a number. Received: {mask_value!r}")
        self.mask_value = float(mask_value)

    def compute_mask(self, inputs, mask=None):
        return np.any(np.asarray(getattr(inputs, "data", inputs)) != self.mask_value, axis=-1)

    def call(self, inputs):
        keep = self.compute_mask(inputs)[..., None].astype(inputs.dtype)
        return inputs * keep

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
