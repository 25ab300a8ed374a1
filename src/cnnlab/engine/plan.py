"""A recorded forward pass: the Functions a model applied, in order, and where each of
their inputs came from, so the pass can run again without the Python around it.

A forward pass is, underneath, a short list of Functions (``Conv2dFunction``,
``MaxPoolFunction``, ``DenseFunction``, ...) applied to arrays. :func:`record` runs a
model once with the autograd tape on (``cnnlab.autograd.function.tape``) and keeps, for
each Function, its class, its parameters and the source of each input: a model input,
an earlier step's result, or a constant such as a weight (the live Variable, so updates
are seen). :meth:`Plan.run` replays it at inference (each Function's ``forward`` on
arrays, no graph); :meth:`Plan.apply` in training (each Function's ``apply``, which links
the graph that backward walks as usual, then the state updates layers asked for with
``cnnlab.autograd.function.after_replay``). Either way a step's result is let go after
its last reader.
"""

from __future__ import annotations

from cnnlab.autograd.function import StateUpdate, tape

INPUT, STEP, CONSTANT = 0, 1, 2


class Step:
    """One recorded Function call: its class, array module, input sources, parameters."""

    __slots__ = ("function", "params", "sources", "xp")

    def __init__(self, function, xp, sources, params):
        self.function, self.xp, self.sources, self.params = function, xp, sources, params


class Plan:
    """The ``steps`` of a forward pass and its ``outputs`` (sources, as a step's
    inputs); ``drop_after[j]`` lists the step results no step after ``j`` reads."""

    def __init__(self, steps: list, outputs: list, updates: list = ()):
        self.steps, self.outputs, self.updates = steps, outputs, list(updates)
        self.drop_after = _last_uses(steps, outputs)
        self.checked = False  # set once a replay matched the layers' outputs
        self.recorded_on = None  # the recorded inputs, until then

    def run(self, inputs: list) -> list:
        """Inference: the output arrays for ``inputs`` (arrays of the recorded shapes),
        each Function's ``forward`` called directly, no graph."""

        def forward(step, args):
            fn = step.function()
            fn.xp, fn.needs_input_grad = step.xp, (False,) * len(args)
            return fn.forward(*args, **step.params)

        return self._replay(inputs, forward, lambda constant: constant.data)

    def apply(self, inputs: list, updates: bool = True) -> list:
        """Training: the output Tensors for ``inputs`` (Tensors), each Function applied
        as the layers apply it, so the graph for ``backward`` is recorded; then, with
        ``updates``, the layers' state updates (``updates=False`` when the layers have
        just run on the same batch and made them)."""
        outputs = self._replay(
            inputs, lambda step, args: step.function.apply(*args, **step.params), lambda t: t
        )
        if updates:
            for update in self.updates:
                update()
        return outputs

    def _replay(self, inputs, call, constant_value) -> list:
        results = [None] * len(self.steps)
        for j, step in enumerate(self.steps):  # runs per batch: the sources read inline
            args = [
                results[where] if kind == STEP
                else inputs[where] if kind == INPUT
                else constant_value(where)
                for kind, where in step.sources
            ]  # fmt: skip
            results[j] = call(step, args)
            for done in self.drop_after[j]:
                results[done] = None
        return [results[where] if kind == STEP else inputs[where] for kind, where in self.outputs]


def record(call, inputs: list):
    """Run ``call(inputs)`` (a list of Tensors in, a list of Tensors out) with the tape
    on: ``(outputs, plan)``, the plan None when an output is not made by the steps."""
    with tape() as records:
        outputs = call(inputs)
    where = {id(t): (INPUT, i) for i, t in enumerate(inputs)}
    steps, updates = [], []
    for record in records:
        if isinstance(record, StateUpdate):
            updates.append(record.update)
            continue
        fn, tensors, params, result = record
        sources = tuple(where.get(id(t), (CONSTANT, t)) for t in tensors)
        where[id(result)] = (STEP, len(steps))
        steps.append(Step(type(fn), fn.xp, sources, params))
    output_sources = [where.get(id(t)) for t in outputs]
    if any(s is None or s[0] == CONSTANT for s in output_sources):
        return outputs, None
    return outputs, Plan(steps, output_sources, updates)


def _last_uses(steps, outputs) -> list:
    last = {}
    for j, step in enumerate(steps):
        for kind, where in step.sources:
            if kind == STEP:
                last[where] = j
    kept = {where for kind, where in outputs if kind == STEP}
    drop_after = [[] for _ in steps]
    for step, j in last.items():
        if step not in kept:
            drop_after[j].append(step)
    return drop_after
