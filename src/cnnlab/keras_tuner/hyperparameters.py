"""``HyperParameters``: KerasTuner's define-by-run search space, sampled by Optuna.

Inside ``build_model(hp)`` each call such as ``hp.Int("units", 32, 256, step=32)``
both declares a hyper-parameter and returns its value for the current trial:

- during a search the value comes from the Optuna trial (``trial.suggest_int`` ...),
  so the tuner's sampler (random, TPE, a Gaussian process, a grid) picks it;
- outside a search (a fresh ``HyperParameters()``) it is the default: ``min_value``
  for ``Int``/``Float``, the first of ``values`` for ``Choice``, ``False`` for
  ``Boolean``; a ``HyperParameters`` returned by ``get_best_hyperparameters``
  answers with the values that trial used.

A hyper-parameter declared inside ``with hp.conditional_scope(parent, values):`` is
active only when the parent's value is one of ``values``; when inactive it is not
sampled and returns ``None`` (as in KerasTuner, so an inactive value is never used).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

SAMPLINGS = ("linear", "log")


@dataclass
class HyperParameter:
    """One declared hyper-parameter: its kind, range or values, default, conditions."""

    name: str
    kind: str  # "Int", "Float", "Choice", "Boolean" or "Fixed"
    config: dict
    default: object
    conditions: list = field(default_factory=list)  # [(parent_name, parent_values), ...]

    def distribution(self):
        """The Optuna distribution this hyper-parameter samples from."""
        from optuna import distributions as d

        c = self.config
        if self.kind == "Int":
            return d.IntDistribution(
                c["min_value"], c["max_value"], log=c["sampling"] == "log", step=c["step"] or 1
            )
        if self.kind == "Float":
            return d.FloatDistribution(
                c["min_value"], c["max_value"], log=c["sampling"] == "log", step=c["step"]
            )
        if self.kind == "Choice":
            return d.CategoricalDistribution(c["values"])
        if self.kind == "Boolean":
            return d.CategoricalDistribution([False, True])
        return d.CategoricalDistribution([c["value"]])

    def grid_values(self) -> list:
        """Every value a grid search visits (a ``Float`` needs a ``step``)."""
        c = self.config
        if self.kind == "Int":
            return list(range(c["min_value"], c["max_value"] + 1, c["step"] or 1))
        if self.kind == "Float":
            if c["step"] is None:
                raise ValueError(
                    f"GridSearch needs a step for every Float hyper-parameter, so that it has "
                    f"finitely many values. Received: hp.Float({self.name!r}, ...) without step"
                )
            count = math.floor((c["max_value"] - c["min_value"]) / c["step"] + 1e-9) + 1
            return [c["min_value"] + i * c["step"] for i in range(count)]
        if self.kind == "Choice":
            return list(c["values"])
        if self.kind == "Boolean":
            return [False, True]
        return [c["value"]]

    def summary(self) -> dict:
        return {"default": self.default, "conditions": list(self.conditions), **self.config}


def _check_name(name, fn):
    if not isinstance(name, str) or not name:
        raise TypeError(f"hp.{fn}: name must be a non-empty string. Received: name={name!r}")


def _check_number(value, arg, name, fn, kind):
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "Int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok or not math.isfinite(value):
        raise TypeError(
            f"hp.{fn}({name!r}): {arg} must be a finite {'integer' if kind == 'Int' else 'number'}."
            f" Received: {arg}={value!r}"
        )


def _check_range(name, fn, kind, min_value, max_value, step, sampling):
    _check_number(min_value, "min_value", name, fn, kind)
    _check_number(max_value, "max_value", name, fn, kind)
    if min_value > max_value:
        raise ValueError(
            f"hp.{fn}({name!r}): min_value must not exceed max_value. "
            f"Received: min_value={min_value}, max_value={max_value}"
        )
    if sampling not in SAMPLINGS:
        raise ValueError(
            f"hp.{fn}({name!r}): sampling must be one of {', '.join(SAMPLINGS)}. "
            f"Received: sampling={sampling!r}"
        )
    if sampling == "log" and min_value <= 0:
        raise ValueError(
            f"hp.{fn}({name!r}): sampling='log' needs min_value > 0. "
            f"Received: min_value={min_value}"
        )
    if step is not None:
        _check_number(step, "step", name, fn, kind)
        if step <= 0:
            raise ValueError(f"hp.{fn}({name!r}): step must be positive. Received: step={step}")
        if sampling == "log":
            raise ValueError(
                f"hp.{fn}({name!r}): step cannot be combined with sampling='log' (Optuna samples "
                f"log-uniformly without a step). Received: step={step}, sampling='log'"
            )


class HyperParameters:
    """A search space and the values of one trial (KerasTuner's ``HyperParameters``).

    Example:
        >>> hp = HyperParameters()
        >>> hp.Int("units", min_value=32, max_value=256, step=32)
        32
        >>> hp.Float("lr", 1e-4, 1e-2, sampling="log")
        0.0001
        >>> hp.Choice("activation", ["relu", "tanh"])
        'relu'
        >>> with hp.conditional_scope("activation", ["tanh"]):
        ...     print(hp.Boolean("scale"))
        None
        >>> sorted(hp.values)
        ['activation', 'lr', 'units']
    """

    def __init__(self):
        self.space: dict[str, HyperParameter] = {}
        self.values: dict[str, object] = {}
        self._conditions: list = []
        self._trial = None  # an optuna.Trial while a search builds a model

    # ---- declaring ------------------------------------------------------------------------
    def Int(
        self,
        name,
        min_value,
        max_value,
        step=None,
        sampling="linear",
        default=None,
        parent_name=None,
        parent_values=None,
    ):
        """An integer in ``[min_value, max_value]`` (every ``step``-th one); default min_value."""
        _check_name(name, "Int")
        _check_range(name, "Int", "Int", min_value, max_value, step, sampling)
        config = {
            "min_value": min_value,
            "max_value": max_value,
            "step": step,
            "sampling": sampling,
        }
        return self._declare(name, "Int", config, default, min_value, parent_name, parent_values)

    def Float(
        self,
        name,
        min_value,
        max_value,
        step=None,
        sampling="linear",
        default=None,
        parent_name=None,
        parent_values=None,
    ):
        """A float in ``[min_value, max_value]``; ``sampling="log"`` samples ``log(value)``
        uniformly (for learning rates); default min_value."""
        _check_name(name, "Float")
        _check_range(name, "Float", "Float", min_value, max_value, step, sampling)
        config = {
            "min_value": float(min_value),
            "max_value": float(max_value),
            "step": None if step is None else float(step),
            "sampling": sampling,
        }
        return self._declare(
            name, "Float", config, default, float(min_value), parent_name, parent_values
        )

    def Choice(
        self, name, values, ordered=None, default=None, parent_name=None, parent_values=None
    ):
        """One of ``values`` (all ints, all floats, all strings or all bools); default the first."""
        _check_name(name, "Choice")
        if not isinstance(values, list | tuple) or len(values) == 0:
            raise ValueError(
                f"hp.Choice({name!r}): values must be a non-empty list. Received: values={values!r}"
            )
        kinds = {type(v) for v in values}
        if len(kinds) != 1 or next(iter(kinds)) not in (int, float, str, bool):
            raise TypeError(
                f"hp.Choice({name!r}): values must all be of one type, int, float, str or bool. "
                f"Received: values={values!r}"
            )
        if len(set(values)) != len(values):
            raise ValueError(
                f"hp.Choice({name!r}): values must be distinct. Received: values={values!r}"
            )
        config = {"values": list(values), "ordered": ordered}
        return self._declare(name, "Choice", config, default, values[0], parent_name, parent_values)

    def Boolean(self, name, default=False, parent_name=None, parent_values=None):
        """``True`` or ``False``; default False."""
        _check_name(name, "Boolean")
        return self._declare(name, "Boolean", {}, default, False, parent_name, parent_values)

    def Fixed(self, name, value, parent_name=None, parent_values=None):
        """A constant recorded with the trial (not searched)."""
        _check_name(name, "Fixed")
        if not isinstance(value, int | float | str | bool):
            raise TypeError(
                f"hp.Fixed({name!r}): value must be an int, float, str or bool. Received: {value!r}"
            )
        return self._declare(
            name, "Fixed", {"value": value}, None, value, parent_name, parent_values
        )

    @contextlib.contextmanager
    def conditional_scope(self, parent_name, parent_values):
        """Hyper-parameters declared inside are active only when ``parent_name``'s value
        is in ``parent_values`` (a value or a list of values)."""
        if parent_name not in self.space:
            raise ValueError(
                "conditional_scope: the parent hyper-parameter must be declared before the "
                f"scope. Received: parent_name={parent_name!r}"
            )
        if not isinstance(parent_values, list | tuple):
            parent_values = [parent_values]
        self._conditions.append((parent_name, list(parent_values)))
        try:
            yield
        finally:
            self._conditions.pop()

    # ---- reading ----------------------------------------------------------------------------
    def get(self, name):
        """The current value of ``name`` (``None`` if it is inactive)."""
        if name not in self.space:
            raise KeyError(f"HyperParameters.get: no hyper-parameter is named {name!r}")
        return self.values.get(name) if self.is_active(name) else None

    def __getitem__(self, name):
        return self.get(name)

    def __contains__(self, name):
        return name in self.space

    def is_active(self, name) -> bool:
        """Are the conditions of ``name`` met by the current values?"""
        return self._met(self.space[name].conditions)

    def _met(self, conditions) -> bool:
        return all(self.values.get(parent) in values for parent, values in conditions)

    def copy(self) -> HyperParameters:
        """A copy of the space and values (not bound to a trial)."""
        hp = HyperParameters()
        hp.space = dict(self.space)
        hp.values = dict(self.values)
        return hp

    # ---- internals --------------------------------------------------------------------------
    def _declare(self, name, kind, config, default, fallback, parent_name, parent_values):
        conditions = list(self._conditions)
        if parent_name is not None:
            if parent_values is None:
                raise ValueError(f"hp.{kind}({name!r}): parent_name needs parent_values too.")
            values = parent_values if isinstance(parent_values, list | tuple) else [parent_values]
            conditions.append((parent_name, list(values)))
        if name not in self.space:
            hp = HyperParameter(
                name, kind, config, fallback if default is None else default, conditions
            )
            if kind == "Choice" and hp.default not in config["values"]:
                raise ValueError(
                    f"hp.Choice({name!r}): default must be one of values. Received: "
                    f"default={default!r}, values={config['values']!r}"
                )
            if kind in ("Int", "Float") and not (
                config["min_value"] <= hp.default <= config["max_value"]
            ):
                raise ValueError(
                    f"hp.{kind}({name!r}): default must lie in [min_value, max_value]. "
                    f"Received: default={default!r}"
                )
            self.space[name] = hp
        hp = self.space[name]
        if not self._met(hp.conditions):
            return None
        if name not in self.values:
            self.values[name] = self._sample(hp)
        return self.values[name]

    def _sample(self, hp: HyperParameter):
        if self._trial is None:
            return hp.default
        trial, c = self._trial, hp.config
        if hp.kind == "Int":
            return trial.suggest_int(
                hp.name,
                c["min_value"],
                c["max_value"],
                step=c["step"] or 1,
                log=c["sampling"] == "log",
            )
        if hp.kind == "Float":
            return trial.suggest_float(
                hp.name, c["min_value"], c["max_value"], step=c["step"], log=c["sampling"] == "log"
            )
        return trial.suggest_categorical(hp.name, hp.distribution().choices)
