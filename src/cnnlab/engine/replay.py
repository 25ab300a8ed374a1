"""Replay: a model's ops recorded once per input shape, then run without the Python
around them.

Around each Function of a forward pass runs Python that a replay does not need: the layer
checks its input, the op checks and normalizes its arguments, the graph of layers is
walked. On the lecture convnet that Python is about 0.35 ms of a 64-image shard's 4.7 ms
at inference, and where two worker threads run shards at once each also waits for the
other's Python (the GIL): replaying the ops measured +20% images/s in ``predict`` and
about 2-3% per ``fit`` step.

Inside one ``fit``, ``predict`` or ``evaluate`` call (:class:`ModelPlans`, owned by the
call's :class:`~cnnlab.engine.run.ModelRun`), the first batch of a new shape runs the
layers with the autograd tape on and keeps a :class:`~cnnlab.engine.plan.Plan`
(rewritten by :mod:`cnnlab.engine.rewrites`); later batches replay it. Plans are used
only

* within their call: they never outlive it, so nothing computed from the weights outside
  a Function (BatchNormalization's ``1/sqrt(var + eps)`` at inference) goes stale;
* for models whose layers declare ``replayable`` (``call`` computes only through cnnlab
  ops on the inputs and weights, no side effects), with cnnlab's activations and no
  activity regularizer; in training also only when no layer draws random numbers
  (``uses_randomness``: Dropout is not replayed in training) and every layer treats
  examples apart or keeps batch state only through an update it hands to the plan
  (``replays_state_update``: BatchNormalization, whose moving statistics a replay then
  updates as its ``call`` does);
* after a check: the first replay of a plan runs beside the layers' call on data other
  than the recorded batch's and must give exactly its outputs, bit for bit; if it does
  not, the call replays nothing more in that mode.

The shards of a training batch whose layers exchange sums (``syncs_batch_state``) must
run the same Functions in the same order, or their exchanges would not meet: before each
such forward pass they agree (``least_over_shards``) on the least advanced of their
choices (record, layers only, check, replay), so all of them take it.

``cnnlab.config.settings.replay = False`` (``CNNLAB_REPLAY=0``, or the fast path off)
runs every call through the layers.
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Tensor
from cnnlab.engine import rewrites
from cnnlab.engine.plan import record
from cnnlab.ops.activation import ACTIVATIONS
from cnnlab.utils.batch_shards import least_over_shards

MAX_PLANS = 8  # input shapes kept per call (full and last batches, their shards)


# What a shard may do with a training batch, least advanced first (see the docstring)
RECORD, LAYERS, CHECK, REPLAY = range(4)


def plannable(model, training: bool = False) -> bool:
    """True when every layer of ``model`` (nested ones too) declares ``replayable``, uses
    one of cnnlab's activations (if any) and no activity regularizer; for training, when
    also each layer treats examples apart in training or keeps batch state only through
    an update it hands to the plan, and none draws random numbers."""
    if training and not _replayable_in_training(model):
        return False
    stack = [model]
    while stack:
        layer = stack.pop()
        if not layer.replayable or layer.activity_regularizer is not None:
            return False
        activation = getattr(layer, "activation", None)
        if activation is not None and not any(activation is a for a in ACTIVATIONS.values()):
            return False
        stack.extend(layer._sublayers)
    return True


def _replayable_in_training(layer) -> bool:
    if layer.treats_examples_apart(training=True):
        return True
    if not layer.per_example or layer.activity_regularizer is not None or layer.uses_randomness:
        return False
    inner = getattr(layer, "layers", None)
    if inner:  # a nested model: its layers decide
        return all(_replayable_in_training(sub) for sub in inner)
    return layer.keeps_batch_state and layer.replays_state_update


def _syncs(model) -> bool:
    """True when a layer of ``model`` (nested ones too) exchanges sums between shards."""
    stack = [model]
    while stack:
        layer = stack.pop()
        if layer.syncs_batch_state:
            return True
        stack.extend(layer._sublayers)
    return False


class ModelPlans:
    """One call's plans for a model, by mode and input signature, and whether each mode
    may replay at all. ``call_layers(inputs, training)`` runs the model's layers."""

    def __init__(self, model, call_layers):
        self.model, self.call_layers = model, call_layers
        self.usable = {False: plannable(model), True: plannable(model, training=True)}
        self.syncs = self.usable[True] and _syncs(model)
        self.plans: dict = {}
        self.unconverted: set = set()  # dtypes of one input array the model takes as is

    def forward(self, x, training: bool):
        """The model's outputs (a list of Tensors) for ``x``, or None when no plan may
        run this call (the caller then calls the layers)."""
        if not self.usable[training]:
            return None
        if not training and type(x) is np.ndarray and x.dtype in self.unconverted:
            plan = self.plans.get((False, (x.shape, x.dtype.str)))
            if plan is not None and plan.checked:  # a batch of predict: no Tensor made
                return [Tensor._from_array(a) for a in plan.run([x])]
        if not _plain(x):
            return None
        inputs = self.model._convert_inputs(x)
        inputs = list(inputs) if isinstance(inputs, list | tuple) else [inputs]
        arrays = [t.data for t in inputs]
        if type(x) is np.ndarray and len(arrays) == 1 and arrays[0] is x:
            self.unconverted.add(x.dtype)
        key = (training, *((a.shape, a.dtype.str) for a in arrays))
        plan = self.plans.get(key)
        if training and self.syncs:
            return self._agreed(plan, key, inputs, arrays)
        if plan is None:
            return self._record(key, inputs, arrays, training)
        if not plan.checked:
            return self._check(plan, inputs, arrays, training)
        if training:
            return plan.apply(inputs)
        return [Tensor._from_array(a) for a in plan.run(arrays)]

    def _record(self, key, inputs, arrays, training) -> list:
        """The layers' outputs, their Functions kept as the plan for ``key``."""
        outputs, plan = record(lambda ts: self._layers(ts, training), inputs)
        if plan is None:
            self.usable[training] = False
        elif len(self.plans) < MAX_PLANS:
            rewrites.relu_after_max_pool(plan)
            plan.recorded_on = [a.copy() for a in arrays]
            self.plans[key] = plan
        return outputs

    def _agreed(self, plan, key, inputs, arrays) -> list:
        """Training outputs of a model whose layers exchange sums between shards, by the
        choice every shard of the batch agreed on (see the module docstring)."""
        if plan is None:
            choice = RECORD
        elif plan.checked:
            choice = REPLAY
        else:
            choice = LAYERS if _nothing_to_check(plan, arrays) else CHECK
        choice = least_over_shards(choice)
        if choice == RECORD:
            return self._record(key, inputs, arrays, True)
        if choice == LAYERS:
            return self._layers(inputs, True)
        if choice == REPLAY:
            return plan.apply(inputs)
        return self._replay_then_layers(plan, inputs, arrays, True)

    def _layers(self, inputs, training) -> list:
        return self.call_layers(inputs if len(inputs) > 1 else inputs[0], training)

    def _check(self, plan, inputs, arrays, training) -> list:
        """The layers' outputs; the plan is trusted once a replay gave exactly them on
        data other than the recorded batch's."""
        if _nothing_to_check(plan, arrays):
            return self._layers(inputs, training)
        return self._replay_then_layers(plan, inputs, arrays, training)

    def _replay_then_layers(self, plan, inputs, arrays, training) -> list:
        """The layers' outputs, after a replay of ``plan`` on the same inputs: the plan is
        trusted from now on when the replay gave them exactly, never again in this mode
        when not. In training the replay applies the same Functions with the same needs,
        without the state updates (the layers make them), and its graph is let go before
        the layers run: the two graphs are never held at once."""
        if training:
            replayed = [t.data for t in plan.apply(inputs, updates=False)]
        else:
            replayed = plan.run(arrays)
        outputs = self._layers(inputs, training)
        if all(_identical(o.data, r) for o, r in zip(outputs, replayed, strict=True)):
            plan.checked, plan.recorded_on = True, None
        else:
            self.usable[training] = False
        return outputs


def _plain(x) -> bool:
    """An array or Tensor, or a list/tuple of them (not a dict of named inputs)."""
    if isinstance(x, list | tuple):
        return all(isinstance(a, np.ndarray | Tensor) for a in x)
    return isinstance(x, np.ndarray | Tensor)


def _nothing_to_check(plan, arrays) -> bool:
    """True when a replay on ``arrays`` would prove nothing: they are the recorded batch's,
    or the plan has just been checked by another thread (``recorded_on`` is None)."""
    recorded = plan.recorded_on
    return recorded is None or all(_identical(a, b) for a, b in zip(arrays, recorded, strict=True))


def _identical(a, b) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
