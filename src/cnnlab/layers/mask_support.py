"""Masks, as Keras passes them from layer to layer.

A mask marks which time steps of a sequence are real (True) and which are padding
(False): ``Embedding(mask_zero=True)`` makes one from the ids (``ids != 0``), ``Masking``
from the feature vectors. It travels attached to the output tensor (``tensor._keras_mask``,
a boolean array of shape ``(batch, steps)``):

* a layer whose ``call`` takes a ``mask`` argument receives the mask of its first input
  (recurrent layers skip masked steps; ``GlobalAveragePooling1D`` averages real steps);
* a layer with ``supports_masking`` hands a mask on: ``compute_mask(inputs, mask)``
  (by default the input's mask unchanged) is attached to its output;
* any other layer drops it (Flatten, Conv1D, ...), as in Keras.

The losses and metrics of ``compile`` weight each step of a masked output by its mask.
Functional and Sequential models run their layers one by one, so masks flow through
them on data; nothing about masks is recorded in the graph.
"""

from __future__ import annotations

import contextlib
import inspect

import numpy as np

from cnnlab.layers.node import flatten

_TAKES_MASK: dict[type, bool] = {}


def get_mask(tensor):
    """The mask attached to ``tensor`` (a boolean array), or None."""
    return getattr(tensor, "_keras_mask", None)


def set_mask(tensor, mask) -> None:
    """Attach ``mask`` (array-like of booleans, or None) to ``tensor`` when it can hold it."""
    if mask is not None:
        mask = np.asarray(getattr(mask, "data", mask)).astype(bool, copy=False)
    with contextlib.suppress(AttributeError):  # a plain array cannot carry one
        tensor._keras_mask = mask


class MaskingMixin:
    """``supports_masking`` and ``compute_mask``: the mask side of ``Layer.__call__``."""

    supports_masking = False

    def compute_mask(self, inputs, mask=None):
        """The mask of the output: ``mask`` itself for a layer that supports masking,
        else None. Layers that make or change masks override it."""
        return mask if self.supports_masking or self._overrides_compute_mask() else None

    def _overrides_compute_mask(self) -> bool:
        return type(self).compute_mask is not MaskingMixin.compute_mask

    def _input_mask(self, inputs, kwargs):
        """The masks of ``inputs`` (one, or a list for a list of inputs); add it to
        ``kwargs`` when ``call`` takes ``mask`` and none was given."""
        if isinstance(inputs, list | tuple):
            mask = [get_mask(t) for t in inputs]
            found = any(m is not None for m in mask)
        else:
            mask = get_mask(inputs)
            found = mask is not None
        if not found:
            return None
        cls = type(self)
        if cls not in _TAKES_MASK:
            _TAKES_MASK[cls] = "mask" in inspect.signature(self.call).parameters
        if _TAKES_MASK[cls] and kwargs.get("mask") is None:
            kwargs["mask"] = mask
        return mask

    def _attach_output_mask(self, inputs, outputs, mask) -> None:
        """Set ``compute_mask``'s result on the outputs (one mask each, or one for all)."""
        if not (self.supports_masking or self._overrides_compute_mask()):
            return
        out_mask = self.compute_mask(inputs, mask)
        tensors = flatten(outputs)
        if isinstance(out_mask, list | tuple):
            for tensor, m in zip(tensors, out_mask, strict=False):
                set_mask(tensor, m)
        elif out_mask is not None:
            for tensor in tensors:
                set_mask(tensor, out_mask)


def apply_mask(sample_weight, mask, reduction=None):
    """Keras' rule for a loss or metric on a masked output: the mask becomes (part of)
    the sample weight. For a mean (``"sum_over_batch_size"``/``"mean"``) the mask is
    scaled by ``size / count(True)``, so the loss is the mean over the real steps.

    Example:
        >>> apply_mask(None, np.array([[True, True, False, False]]), "sum_over_batch_size")
        array([[2., 2., 0., 0.]], dtype=float32)
    """
    if mask is None:
        return sample_weight
    weight = np.asarray(mask, dtype=np.float32)
    if reduction in ("mean", "sum_over_batch_size"):
        weight = weight * np.float32(weight.size / (weight.sum() + 1e-7))
    if sample_weight is None:
        return weight
    given = np.asarray(getattr(sample_weight, "data", sample_weight), dtype=np.float32)
    while given.ndim > weight.ndim and given.shape[-1] == 1:
        given = given[..., 0]
    while given.ndim < weight.ndim:
        given = given[..., None]
    return given * weight
