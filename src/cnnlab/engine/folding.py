"""BatchNormalization folded into the convolution before it, at inference.

At inference a BatchNormalization layer is a fixed affine map per channel (its moving
statistics and its weights), and a convolution is linear in its kernel, so the two are
one convolution with another kernel and bias::

    s = gamma / sqrt(moving_var + epsilon)         t = beta - moving_mean * s
    BN(conv(x; k, b)) = conv(x; k * s, b * s + t)  (s and t broadcast over the output channels)

One pass over the activations instead of two, and no ``(N, H, W, C)`` temporary for the
affine map: on EfficientNet-Lite0 the 49 BatchNormalization layers were ~17% of the
inference time. The folded weights are computed from the layers' current values at
every call of the model (about 3 ms for EfficientNet-Lite0's 3.4M folded weights); the
stored weights never change, so nothing can go stale.

A pair folds only where that is exact (up to float rounding):

* the convolution is a plain ``Conv2D`` or ``DepthwiseConv2D`` without activation, its
  output read by the BatchNormalization alone (and not a model output), and that
  BatchNormalization normalises the convolution's channel axis;
* both run in inference mode: the model's call has ``training`` false (or the node was
  called with ``training=False``), so BatchNormalization uses its moving statistics;
* no gradient is wanted for their weights (gradients off, or all of them frozen), so
  training and fine-tuning always run the two layers as they are, while a frozen base
  inside a model that trains folds;
* the convolution computes in its kernel's dtype (the input's does not take over);
* the fast path and ``settings.fold`` are on (``CNNLAB_FOLD=0`` or ``CNNLAB_FAST=0``
  turns folding off).

A ReLU layer (plain or capped, as ReLU6) that alone reads the folded BatchNormalization's
output is applied in place on the convolution's fresh result when no gradient is
recorded: the same values as the layer's op, without another array.

``Model.call`` and ``Sequential.call`` ask :func:`functional_folds` and
:func:`sequential_folds` for a :class:`Folds` per call: :meth:`Folds.run` returns the
folded convolution's output for the convolution's node (or None: run the layer), and
:meth:`Folds.skips` says whether a BatchNormalization (or ReLU) node was folded away.
"""

from __future__ import annotations

import numpy as np

from cnnlab import ops
from cnnlab.autograd import is_grad_enabled
from cnnlab.config import settings
from cnnlab.layers.activations import ReLU
from cnnlab.layers.conv import Conv2D
from cnnlab.layers.core import activation_name
from cnnlab.layers.depthwise import DepthwiseConv2D
from cnnlab.layers.normalization import BatchNormalization

FOLDABLE_CONVS = (Conv2D, DepthwiseConv2D)


class Folds:
    """The foldable pairs of one model call: ``pairs[conv_key] = (bn_key, bn_layer,
    bn_mode, relu)``, the keys naming graph nodes (functional) or positions (Sequential);
    ``relu`` is ``(key, layer)`` of a ReLU that alone reads the BatchNormalization's
    output, or None."""

    def __init__(self, pairs: dict):
        self.pairs, self.folded = pairs, set()

    def run(self, key, conv, x):
        """The output of convolution ``conv`` (at ``key``) folded with its
        BatchNormalization (and its ReLU), or None when the pair does not fold on this
        call."""
        pair = self.pairs.get(key)
        if pair is None:
            return None
        bn_key, bn, bn_mode, relu = pair
        if not _folds_now(conv, bn, x, bn_mode):
            return None
        kernel, bias = folded_weights(conv, bn)
        conv._check_fits(x.shape)
        fused = None  # a plain ReLU rides in the convolution (its output pass, Winograd's too)
        if isinstance(conv, DepthwiseConv2D):
            y = ops.depthwise_conv2d(x, kernel, bias, **conv._common_op_args())
        else:
            fused = "relu" if relu is not None and relu[1].max_value is None else None
            y = ops.conv2d(x, kernel, bias, groups=conv.groups, activation=fused,
                           **conv._common_op_args())  # fmt: skip
        self.folded.add(bn_key)
        if relu is not None and not y.requires_grad and y.dtype == relu[1].dtype:
            if fused is None:
                _relu_in_place(y.data, relu[1].max_value)
            self.folded.add(relu[0])
        return y

    def skips(self, key) -> bool:
        """Was the layer at ``key`` (a BatchNormalization or its ReLU) folded into the
        convolution before it?"""
        return key in self.folded


def _relu_in_place(values, max_value) -> None:
    """The ReLU layer's op on a result nobody else holds, in place: ``ops.relu``'s
    ``maximum(x, 0)`` or ``ops.clipped_relu``'s ``clip(x, 0, max_value)``, the same
    values bit for bit, without a second array."""
    zero = values.dtype.type(0)
    if max_value is None:
        np.maximum(values, zero, out=values)
    else:
        np.clip(values, zero, values.dtype.type(max_value), out=values)


NO_FOLDS = Folds({})


def folded_weights(conv, bn):
    """``(kernel * s, bias * s + t)`` as arrays of the kernel's dtype (see the module
    docstring); ``s`` and ``t`` are computed as ``ops.batch_norm`` computes them."""
    kernel = _kernel(conv).data
    dtype = kernel.dtype
    mean = bn.moving_mean.data.astype(dtype, copy=False)
    var = bn.moving_variance.data.astype(dtype, copy=False)
    inv_std = (1.0 / (var + dtype.type(bn.epsilon)) ** 0.5).astype(dtype, copy=False)
    scale = inv_std if bn.gamma is None else bn.gamma.data.astype(dtype) * inv_std
    shift = -(mean * scale) if bn.beta is None else bn.beta.data.astype(dtype) - mean * scale
    channels = kernel.shape[-2:] if isinstance(conv, DepthwiseConv2D) else kernel.shape[-1:]
    folded_kernel = kernel * scale.reshape(channels)
    bias = shift if conv.bias is None else conv.bias.data.astype(dtype) * scale + shift
    return folded_kernel, bias.astype(dtype, copy=False)


def _kernel(conv):
    return conv.depthwise_kernel if isinstance(conv, DepthwiseConv2D) else conv.kernel


def _folds_now(conv, bn, x, bn_mode) -> bool:
    if (bn_mode and bn.trainable) or not (settings.fast and settings.fold):
        return False
    dtype = _kernel(conv).data.dtype
    if np.result_type(x.dtype, dtype) != dtype or bn.dtype != dtype:  # (layers cast inputs)
        return False
    if is_grad_enabled():
        weights = (_kernel(conv), conv.bias, bn.gamma, bn.beta)
        return not any(w is not None and w.requires_grad for w in weights)
    return True


def _pairable(conv, bn) -> bool:
    """Could ``bn`` ever fold into ``conv`` (the static conditions)?"""
    if type(conv) not in FOLDABLE_CONVS or type(bn) is not BatchNormalization:
        return False
    if not (conv.built and bn.built) or activation_name(conv.activation) != "linear":
        return False
    if conv.activity_regularizer is not None or bn.activity_regularizer is not None:
        return False
    return bn.axis % (conv.rank + 2) == conv.channel_axis % (conv.rank + 2)


def functional_folds(model, training) -> Folds:
    """The :class:`Folds` of a functional model's call (keys: ``id`` of the nodes)."""
    if training or not (settings.fast and settings.fold):
        return NO_FOLDS
    key = tuple(map(id, model._nodes))
    pairs = model._cached("_fold_pairs_cache", key, lambda: _pairs(model))
    if not pairs:
        return NO_FOLDS
    return Folds(pairs)


def sole_readers(model) -> dict:
    """``{id(t): node}`` for each tensor of a functional model's graph that one node alone
    reads and that is not a model output (what a fold or fusion may consume)."""
    readers = {}
    for node in model._nodes:
        for t in node.input_tensors:
            readers.setdefault(id(t), []).append(node)
    outputs = {id(t) for t in model.outputs}
    return {
        key: nodes[0] for key, nodes in readers.items() if len(nodes) == 1 and key not in outputs
    }


def _pairs(model) -> dict:
    producer = {id(t): node for node in model._nodes for t in node.output_tensors}
    sole = sole_readers(model)
    pairs = {}
    for bn_node in model._nodes:
        if bn_node.is_input or len(bn_node.input_tensors) != 1:
            continue
        t = bn_node.input_tensors[0]
        conv_node = producer.get(id(t))
        if conv_node is None or conv_node.is_input or sole.get(id(t)) is not bn_node:
            continue
        if not _pairable(conv_node.layer, bn_node.layer):
            continue
        # the mode the node was recorded with (None: the model call's, which is False
        # whenever folds are asked for)
        recorded = bool(bn_node.call_kwargs.get("training", False))
        relu = None
        (out,) = bn_node.output_tensors
        after = sole.get(id(out))
        if after is not None and plain_relu(after.layer):
            relu = (id(after), after.layer)
        pairs[id(conv_node)] = (id(bn_node), bn_node.layer, recorded, relu)
    return pairs


def plain_relu(layer) -> bool:
    """A ReLU layer computing ``max(x, 0)`` or ``min(max(x, 0), max_value)``."""
    return (
        type(layer) is ReLU
        and layer.negative_slope == 0
        and layer.threshold == 0
        and layer.activity_regularizer is None
    )


def sequential_folds(layers, training) -> Folds:
    """The :class:`Folds` of a Sequential model's call (keys: positions in ``layers``)."""
    if training or not (settings.fast and settings.fold):
        return NO_FOLDS
    pairs = {}
    for i in range(len(layers) - 1):
        if _pairable(layers[i], layers[i + 1]):
            after = layers[i + 2] if i + 2 < len(layers) else None
            relu = (i + 2, after) if plain_relu(after) else None
            pairs[i] = (i + 1, layers[i + 1], training, relu)
    return Folds(pairs) if pairs else NO_FOLDS
