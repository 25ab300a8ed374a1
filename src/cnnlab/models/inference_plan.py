"""Inference without the Python around the math: record a model's ops once, replay them.

A forward pass is, underneath, a short list of Functions (``Conv2dFunction``,
``MaxPoolFunction``, ``DenseFunction``, ...) applied to arrays. Around each one runs
Python that a replay does not need: the layer checks its input, the op checks and
normalizes its arguments, the results are wrapped in Tensors, the graph is walked. On
the lecture convnet that Python is about 0.35 ms of a 64-image shard's 4.7 ms, and in
``predict``, where two worker threads run shards at once, each waits for the other's
Python (the GIL): replaying the ops alone measured +20% images/s.

:func:`forward` records a model's call once per input shape with the autograd tape
(``cnnlab.autograd.function.tape``): for each Function its class, its parameters and
where each input comes from (a model input, an earlier step's result, or a constant
such as a weight, whose ``.data`` is read anew at every replay, so training between
calls is seen). Later calls with inputs of that shape and dtype run
:meth:`Plan.run`: each Function's ``forward`` on arrays, values dropped after their last
use. It is used only

* for inference inside one ``predict`` or ``evaluate`` call (also the validation of
  ``fit``; :func:`session`): ``training=False``, no gradient recorded. Plans never
  outlive the call, so a constant computed from the weights (BatchNormalization's
  ``1/sqrt(var + eps)``) cannot go stale when training changes them;
* for models made of cnnlab's own layers with cnnlab's activations and no activity
  regularizer: their calls are pure functions of the input and the weights.
  Other Python could compute something from the data outside any Function, which a
  replay would freeze;
* after a check: the first replay of a plan runs beside the normal call, on data other
  than the recorded batch's, and must give exactly its outputs, bit for bit; if it does
  not, the model uses no plan again in that call.

``ENABLED = False`` (or ``CNNLAB_INFERENCE_PLAN=0``) runs every call through the layers.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

from cnnlab.autograd import Tensor
from cnnlab.autograd.function import tape

ENABLED = os.environ.get("CNNLAB_INFERENCE_PLAN", "1") != "0"
MAX_PLANS = 4  # input shapes kept per model (full batches, the last batch, shards of both)

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
        """The outputs (arrays) for ``inputs`` (arrays of the recorded shapes)."""
        results = [None] * len(self.steps)

        def value(source):
            kind, where = source
            if kind == _STEP:
                return results[where]
            return inputs[where] if kind == _INPUT else where.data

        for j, (cls, xp, sources, params) in enumerate(self.steps):
            fn = cls()
            fn.xp, fn.needs_input_grad = xp, (False,) * len(sources)
            results[j] = fn.forward(*[value(s) for s in sources], **params)
            for done in self.drop_after[j]:
                results[done] = None
        return [value(s) for s in self.outputs]


def record(model, inputs: list):
    """Run ``model`` on ``inputs`` (Tensors) with the tape on: ``(outputs, plan)``, the
    plan None when an output is not made by the recorded steps."""
    with tape() as records:
        out = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    outputs = list(out) if isinstance(out, list | tuple) else [out]
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


def plannable(model) -> bool:
    """True when every layer of ``model`` (nested ones too) is one of cnnlab's, with a
    cnnlab activation (if any) and without an activity regularizer."""
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
    """One model's plans by input signature, and whether plans may be used at all."""

    def __init__(self, model):
        self.usable = plannable(model)
        self.plans: dict = {}

    def forward(self, model, x):
        """The model's outputs (a list of Tensors) for ``x`` at inference, or None when
        no plan may run this call (the caller then calls the model)."""
        if not _plain(x):
            return None
        inputs = model._convert_inputs(x)
        inputs = list(inputs) if isinstance(inputs, list | tuple) else [inputs]
        arrays = [t.data for t in inputs]
        key = tuple((a.shape, a.dtype.str) for a in arrays)
        plan = self.plans.get(key)
        if plan is None:
            outputs, plan = record(model, inputs)
            if plan is None:
                self.usable = False
            elif len(self.plans) < MAX_PLANS:
                plan.recorded_on = [a.copy() for a in arrays]
                self.plans[key] = plan
            return outputs
        if not plan.checked:
            return self._check(plan, model, inputs, arrays)
        return [Tensor._from_array(a) for a in plan.run(arrays)]

    def _check(self, plan, model, inputs, arrays) -> list:
        """The normal call's outputs; the plan is trusted once a replay gave exactly
        them on data other than the recorded batch's."""
        outputs = model._forward_layers(inputs if len(inputs) > 1 else inputs[0])
        recorded = plan.recorded_on  # None: another thread has just checked the plan
        if recorded is None or all(_identical(a, b) for a, b in zip(arrays, recorded, strict=True)):
            return outputs  # the same data: a replay would prove nothing yet
        replayed = plan.run(arrays)
        if all(_identical(o.data, r) for o, r in zip(outputs, replayed, strict=True)):
            plan.checked, plan.recorded_on = True, None
        else:
            self.usable = False
        return outputs


def _plain(x) -> bool:
    """An array or Tensor, or a list/tuple of them (not a dict of named inputs)."""
    if isinstance(x, list | tuple):
        return all(isinstance(a, np.ndarray | Tensor) for a in x)
    return isinstance(x, np.ndarray | Tensor)


def _identical(a, b) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


@contextlib.contextmanager
def session(model):
    """Let ``model``'s inference calls use plans inside the block (one ``predict`` or
    ``evaluate``): plans never outlive it, so no weight computed into a constant can be
    stale (the weights do not change within it)."""
    previous = model.__dict__.get("_inference_plans")
    model.__dict__["_inference_plans"] = ModelPlans(model) if ENABLED else None
    try:
        yield
    finally:
        model.__dict__["_inference_plans"] = previous


def forward(model, x):
    """``model``'s inference outputs for ``x`` through its plans, or None to call it
    (outside a :func:`session`, or when plans cannot serve this model or input)."""
    plans = model.__dict__.get("_inference_plans")
    if plans is None or not plans.usable:
        return None
    return plans.forward(model, x)
