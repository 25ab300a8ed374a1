"""A ReLU fused into the BatchNormalization before it, in training.

The VGG-style and ResNet blocks read ``ReLU(BatchNormalization(conv(x)))``. Run as two
layers, the ReLU makes a pass over the normalised batch that writes a second array, and
its backward pass a third (``g * (out > 0)``) that the normalisation's backward then
reads twice. Fused (``BatchNormalization.call(..., fused_relu=True)``, which asks
:func:`cnnlab.ops.normalization.batch_norm_training` for ``relu``), the normalisation
writes ``max(y, 0)`` directly and its two backward passes read ``g`` through the mask:
the same values and gradients as the two layers (tested bit for bit on both paths), two
passes fewer per pair and step.

A pair fuses when

* the model's call is in training and the fast path is on (``CNNLAB_FAST=0`` runs every
  layer as written);
* the BatchNormalization (the class itself, no activity regularizer) is read by one ReLU
  layer alone, and its output is not a model output;
* that ReLU is a plain ``max(x, 0)`` (no ``max_value``, slope or threshold, no activity
  regularizer) computing in the BatchNormalization's dtype.

``Model.call`` and ``Sequential.call`` ask :func:`functional_fusions` and
:func:`sequential_fusions` for a :class:`Fusions` per call: :meth:`Fusions.run` runs a
BatchNormalization node fused with its ReLU (or returns None: run the layer), and
:meth:`Fusions.skips` says whether a ReLU node was fused away. At inference the
convolution-BatchNormalization folds of :mod:`cnnlab.engine.folding` apply instead.
"""

from __future__ import annotations

from cnnlab.config import settings
from cnnlab.engine.folding import plain_relu, sole_readers
from cnnlab.layers.normalization import BatchNormalization


class Fusions:
    """The fusable pairs of one model call: ``pairs[bn_key] = relu_key``, the keys naming
    graph nodes (functional) or positions (Sequential)."""

    def __init__(self, pairs: dict):
        self.pairs, self.fused = pairs, set()

    def run(self, key, layer, x, training):
        """The ReLU of the output of BatchNormalization ``layer`` (at ``key``) on ``x``,
        computed by the layer in one op; None when no ReLU fuses with it."""
        relu_key = self.pairs.get(key)
        if relu_key is None:
            return None
        y = layer(x, training=training, fused_relu=True)
        self.fused.add(relu_key)
        return y

    def skips(self, key) -> bool:
        """Was the ReLU layer at ``key`` fused into the BatchNormalization before it?"""
        return key in self.fused


NO_FUSIONS = Fusions({})


def _fusable(bn, relu) -> bool:
    return (
        type(bn) is BatchNormalization
        and bn.activity_regularizer is None
        and plain_relu(relu)
        and relu.max_value is None
        and bn.dtype == relu.dtype
    )


def _active(training) -> bool:
    return bool(training) and settings.fast


def functional_fusions(model, training) -> Fusions:
    """The :class:`Fusions` of a functional model's call (keys: ``id`` of the nodes)."""
    if not _active(training):
        return NO_FUSIONS
    key = tuple(map(id, model._nodes))
    pairs = model._cached("_fusion_pairs_cache", key, lambda: _pairs(model))
    return Fusions(pairs) if pairs else NO_FUSIONS


def _pairs(model) -> dict:
    sole = sole_readers(model)
    pairs = {}
    for node in model._nodes:
        if node.is_input or len(node.output_tensors) != 1:
            continue
        after = sole.get(id(node.output_tensors[0]))
        if after is None or after.call_kwargs or len(after.input_tensors) != 1:
            continue
        if _fusable(node.layer, after.layer):
            pairs[id(node)] = id(after)
    return pairs


def sequential_fusions(layers, training) -> Fusions:
    """The :class:`Fusions` of a Sequential model's call (keys: positions in ``layers``)."""
    if not _active(training):
        return NO_FUSIONS
    pairs = {i: i + 1 for i in range(len(layers) - 1) if _fusable(layers[i], layers[i + 1])}
    return Fusions(pairs) if pairs else NO_FUSIONS
