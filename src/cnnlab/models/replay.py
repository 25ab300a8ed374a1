"""Replay: record a model's ops once per input shape, then run them without the Python
around them.

A forward pass is, underneath, a short list of Functions (``Conv2dFunction``,
``MaxPoolFunction``, ``DenseFunction``, ...) applied to arrays. Around each one runs
Python that a replay does not need: the layer checks its input, the op checks and
normalizes its arguments, the graph of layers is walked. On the lecture convnet that
Python is about 0.35 ms of a 64-image shard's 4.7 ms at inference, and where two worker
threads run shards at once each also waits for the other's Python (the GIL): replaying
the ops measured +20% images/s in ``predict`` and about 2-3% per ``fit`` step.

Inside a :func:`session` (one ``fit``, ``predict`` or ``evaluate`` call) a model's
batches go through :func:`forward`. The first call with inputs of a new shape runs the
layers as usual with the autograd tape on (``cnnlab.autograd.function.tape``) and keeps
a :class:`Plan`: for each Function its class, its parameters and where each input comes
from (a model input, an earlier step's result, or a constant such as a weight, which
is the live Variable, so updates are seen). Later calls replay it: at inference each
Function's ``forward`` on arrays; in training each Function's ``apply``, which links
the graph that ``backward`` walks as usual. Plans are used only

* within their session: they never outlive the call, so nothing computed from the
  weights outside a Function (BatchNormalization's ``1/sqrt(var + eps)`` at inference)
  can go stale across calls;
* for models made of cnnlab's own layers with cnnlab's activations and no activity
  regularizer, whose calls are functions of the inputs and weights only; in training
  also only when every layer treats examples apart (``Layer.per_example_in_training``:
  no random draws, no state changed), so Dropout and BatchNormalization are not
  replayed in training;
* after a check: the first replay of a plan runs beside the layers' call on data other
  than the recorded batch's and must give exactly its outputs, bit for bit; if it does
  not (a layer computed something from the data outside any Function), the session
  replays nothing more in that mode.

``ENABLED = False`` (or ``CNNLAB_REPLAY=0``) runs every call through the layers.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

from cnnlab.autograd import Tensor, is_grad_enabled
from cnnlab.autograd.function import tape
from cnnlab.layers.node import flatten

ENABLED = os.environ.get("CNNLAB_REPLAY", "1") != "0"
MAX_PLANS = 8  # input shapes kept per session (full and last batches, their shards)

_INPUT, _STEP, _CONSTANT = 0, 1, 2


class Plan:
    """A recorded forward pass: ``steps`` of ``(function class, xp, sources, params)``
    where each source is ``(_INPUT, i)``, ``(_STEP, j)`` or ``(_CONSTANT, tensor)``;
    ``outputs`` are sources too; ``drop_after[j]`` lists the step results no later
    step or output reads."""

    def __init__(self, steps, outputs, drop_after):
        self.steps, self.outputs, self.drop_after = steps, outputs, drop_after
        self.checked = False  # set once a replay matched the layers' outputs
        self.recorded_on = None  # the recorded inputs, until then

    def run(self, inputs: list) -> list:
        """Inference: the output arrays for ``inputs`` (arrays of the recorded shapes),
        each Function's ``forward`` called directly, no graph."""

        def forward(cls, xp, args, params):
            fn = cls()
            fn.xp, fn.needs_input_grad = xp, (False,) * len(args)
            return fn.forward(*args, **params)

        return self._replay(inputs, forward, lambda constant: constant.data)

    def apply(self, inputs: list) -> list:
        """Training: the output Tensors for ``inputs`` (Tensors), each Function applied
        as the layers apply it, so the graph for ``backward`` is recorded."""
        return self._replay(
            inputs, lambda cls, xp, args, params: cls.apply(*args, **params), lambda t: t
        )

    def _replay(self, inputs, call, constant_value) -> list:
        """Walk the steps: ``call(cls, xp, args, params)`` each, its inputs looked up by
        source; a result is let go after its last reader."""
        results = [None] * len(self.steps)

        def value(source):
            kind, where = source
            if kind == _STEP:
                return results[where]
            return inputs[where] if kind == _INPUT else constant_value(where)

        for j, (cls, xp, sources, params) in enumerate(self.steps):
            results[j] = call(cls, xp, [value(s) for s in sources], params)
            for done in self.drop_after[j]:
                results[done] = None
        return [value(s) for s in self.outputs]


def record(model, inputs: list, training: bool):
    """Run ``model`` on ``inputs`` (Tensors) with the tape on: ``(outputs, plan)``, the
    plan None when an output is not made by the recorded steps."""
    with tape() as records:
        out = model(inputs if len(inputs) > 1 else inputs[0], training=training)
    outputs = flatten(out)  # a list or dict of outputs, in the model's order
    where = {id(t): (_INPUT, i) for i, t in enumerate(inputs)}
    steps = []
    for j, (fn, tensors, params, result) in enumerate(records):
        sources = tuple(where.get(id(t), (_CONSTANT, t)) for t in tensors)
        steps.append((type(fn), fn.xp, sources, params))
        where[id(result)] = (_STEP, j)
    output_sources = [where.get(id(t)) for t in outputs]
    if any(s is None or s[0] == _CONSTANT for s in output_sources):
        return outputs, None
    return outputs, Plan(steps, output_sources, _last_uses(steps, output_sources))


def _last_uses(steps, outputs) -> list:
    last = {}
    for j, (_, _, sources, _) in enumerate(steps):
        for kind, where in sources:
            if kind == _STEP:
                last[where] = j
    kept = {where for kind, where in outputs if kind == _STEP}
    drop_after = [[] for _ in steps]
    for step, j in last.items():
        if step not in kept:
            drop_after[j].append(step)
    return drop_after


def plannable(model, training: bool = False) -> bool:
    """True when every layer of ``model`` (nested ones too) is one of cnnlab's, with a
    cnnlab activation (if any) and without an activity regularizer; for training, when
    also every layer treats examples apart in training (no random draws, no state)."""
    if training and not model.treats_examples_apart(training=True):
        return False
    stack = [model]
    while stack:
        layer = stack.pop()
        if not type(layer).__module__.startswith("cnnlab."):
            return False
        if layer.activity_regularizer is not None:
            return False
        activation = getattr(layer, "activation", None)
        if activation is not None and not getattr(activation, "__module__", "").startswith(
            "cnnlab."
        ):
            return False
        stack.extend(layer._sublayers)
    return True


class ModelPlans:
    """One session's plans for a model, by mode and input signature, and whether each
    mode may replay at all."""

    def __init__(self, model):
        self.usable = {False: plannable(model), True: plannable(model, training=True)}
        self.plans: dict = {}

    def __deepcopy__(self, memo):
        return None  # a copy of the model (made during a session) starts without plans

    def __reduce__(self):
        return _no_plans, ()

    def forward(self, model, x, training: bool):
        """The model's outputs (a list of Tensors) for ``x``, or None when no plan may
        run this call (the caller then calls the model)."""
        if not self.usable[training] or not _plain(x):
            return None
        inputs = model._convert_inputs(x)
        inputs = list(inputs) if isinstance(inputs, list | tuple) else [inputs]
        arrays = [t.data for t in inputs]
        key = (training, *((a.shape, a.dtype.str) for a in arrays))
        plan = self.plans.get(key)
        if plan is None:
            outputs, plan = record(model, inputs, training)
            if plan is None:
                self.usable[training] = False
            elif len(self.plans) < MAX_PLANS:
                plan.recorded_on = [a.copy() for a in arrays]
                self.plans[key] = plan
            return outputs
        if not plan.checked:
            return self._check(plan, model, inputs, arrays, training)
        if training:
            return plan.apply(inputs)
        return [Tensor._from_array(a) for a in plan.run(arrays)]

    def _check(self, plan, model, inputs, arrays, training) -> list:
        """The layers' outputs; the plan is trusted once a replay gave exactly them on
        data other than the recorded batch's."""
        outputs = model._forward_layers(inputs if len(inputs) > 1 else inputs[0], training)
        recorded = plan.recorded_on  # None: another thread has just checked the plan
        if recorded is None or all(_identical(a, b) for a, b in zip(arrays, recorded, strict=True)):
            return outputs  # the same data: a replay would prove nothing yet
        # training: the same Functions with the same needs (the second graph is dropped)
        replayed = [t.data for t in plan.apply(inputs)] if training else plan.run(arrays)
        if all(_identical(o.data, r) for o, r in zip(outputs, replayed, strict=True)):
            plan.checked, plan.recorded_on = True, None
        else:
            self.usable[training] = False
        return outputs


def _no_plans():
    return None


def _plain(x) -> bool:
    """An array or Tensor, or a list/tuple of them (not a dict of named inputs)."""
    if isinstance(x, list | tuple):
        return all(isinstance(a, np.ndarray | Tensor) for a in x)
    return isinstance(x, np.ndarray | Tensor)


def _identical(a, b) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


@contextlib.contextmanager
def session(model):
    """Let ``model``'s batches replay recorded plans inside the block (one ``fit``,
    ``predict`` or ``evaluate`` call); the plans end with it."""
    previous = model.__dict__.get("_replay_plans")
    model.__dict__["_replay_plans"] = ModelPlans(model) if ENABLED else None
    try:
        yield
    finally:
        model.__dict__["_replay_plans"] = previous


def forward(model, x, training: bool):
    """``model``'s outputs for ``x`` through its session's plans, or None to call the
    layers: outside a session, when plans cannot serve this model, mode or input, or
    when gradients are being recorded at inference or not recorded in training."""
    plans = model.__dict__.get("_replay_plans")
    if plans is None or training != is_grad_enabled():
        return None
    return plans.forward(model, x, training)
