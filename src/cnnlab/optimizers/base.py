"""``Optimizer``: the bookkeeping every optimizer shares (Keras 3's BaseOptimizer).

An update is plain NumPy on ``variable.data``, in place and outside any graph:

1. gradients are clipped (``clipnorm`` per variable, ``global_clipnorm`` over all of
   them, or ``clipvalue`` elementwise);
2. decoupled weight decay, if set: ``w -= w * weight_decay * lr``;
3. the subclass's ``update_step(grad, var, slots, lr)`` changes ``var.data`` and its
   slot arrays (momentum, velocity, ...) in place;
4. each variable's ``constraint`` (if any) is applied;
5. with ``use_ema``, the moving average of every variable is updated,
   ``avg <- ema_momentum * avg + (1 - ema_momentum) * w`` (``avg = w`` at the first
   step), and every ``ema_overwrite_frequency`` steps copied into the variables;
   ``finalize_variable_values`` (called by ``fit`` at the end) copies it in too;
6. ``iterations`` increases by one.

The learning rate is a float, a :class:`~cnnlab.optimizers.schedules.LearningRateSchedule`
(called with ``iterations`` before each update) or a callable taking no argument.
float32 variables stay float32: Python-number hyper-parameters do not upcast NumPy
float32 arrays.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from cnnlab.optimizers import schedules as schedules_module

# Keras arguments cnnlab accepts only at their default value (so Keras configs load).
_KERAS_ONLY_DEFAULTS = {
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


def _array(x):
    return x.data if hasattr(x, "data") and not isinstance(x, np.ndarray) else np.asarray(x)


class Optimizer:
    """Base class of the optimizers (see the module docstring).

    Args:
        learning_rate: float, schedule, or callable with no argument.
        weight_decay: optional float, decoupled weight decay.
        clipnorm: optional float, clip each gradient to this L2 norm.
        clipvalue: optional float, clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: optional float, clip all gradients jointly to this L2 norm.
        use_ema: keep an exponential moving average of the variables (module docstring).
        ema_momentum: the average's momentum, in [0, 1]. Defaults to 0.99.
        ema_overwrite_frequency: None or an int >= 1: copy the average into the
            variables every that many steps.
        name: the optimizer's name.
    """

    default_name = "optimizer"

    def __init__(
        self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
        global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
        name=None, **kwargs,
    ):  # fmt: skip
        cls = type(self).__name__
        if kwargs.pop("decay", None):  # removed in Keras 3, which warns and ignores it too
            warnings.warn(
                f"{cls}: the argument `decay` is no longer supported (as in Keras 3) and is "
                "ignored. Use a learning-rate schedule, e.g. "
                "keras.optimizers.schedules.InverseTimeDecay, for the old behaviour.",
                stacklevel=2,
            )
        for key, value in kwargs.items():
            if key not in _KERAS_ONLY_DEFAULTS:
                raise TypeError(f"{cls}: unexpected argument {key!r}")
            if value != _KERAS_ONLY_DEFAULTS[key]:
                raise ValueError(
                    f"{cls}: {key} is not supported by cnnlab. Received: {key}={value!r}"
                )
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(v is not None for v in clips.values()) > 1:
            raise ValueError(
                f"{cls}: only one of clipnorm, clipvalue and global_clipnorm can be set. "
                f"Received: {', '.join(f'{k}={v}' for k, v in clips.items())}"
            )
        for key, value in [*clips.items(), ("weight_decay", weight_decay)]:
            if value is not None and not _is_real(value):
                raise TypeError(f"{cls}: {key} must be a number or None. Received: {value!r}")
        self.use_ema = bool(use_ema)
        self.ema_momentum = check_range(ema_momentum, "ema_momentum", cls, 0, 1)
        if ema_overwrite_frequency is not None and (
            isinstance(ema_overwrite_frequency, bool)
            or not isinstance(ema_overwrite_frequency, numbers.Integral)
            or ema_overwrite_frequency < 1
        ):
            raise ValueError(
                f"{cls}: ema_overwrite_frequency must be an integer >= 1 or None. "
                f"Received: ema_overwrite_frequency={ema_overwrite_frequency!r}"
            )
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.name = name or self.default_name
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self._learning_rate = self._check_learning_rate(learning_rate)
        self.iterations = 0
        self.built = False
        self._variables = []
        self._index = {}
        self._slots = {}
        self._scratch_buffers = {}
        self._exclude_ids = set()
        self._exclude_names = ()

    # ---- learning rate ----------------------------------------------------------------
    def _check_learning_rate(self, lr):
        if isinstance(lr, schedules_module.LearningRateSchedule) or (
            callable(lr) and not _is_real(lr)
        ):
            return lr
        if not _is_real(lr):
            raise TypeError(
                f"{type(self).__name__}: learning_rate must be a float, a "
                f"LearningRateSchedule or a callable. Received: learning_rate={lr!r}"
            )
        if not lr >= 0:
            raise ValueError(
                f"{type(self).__name__}: learning_rate must be >= 0. Received: learning_rate={lr}"
            )
        return float(lr)

    @property
    def learning_rate(self) -> float:
        """The learning rate of the next update (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        if isinstance(lr, schedules_module.LearningRateSchedule):
            return float(lr(self.iterations))
        if callable(lr):
            return float(lr())
        return lr

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(self._learning_rate, schedules_module.LearningRateSchedule) and _is_real(
            value
        ):
            raise TypeError(
                "This optimizer was created with a LearningRateSchedule as its learning_rate, "
                "so its learning rate cannot be set to a number. Create the optimizer with a "
                "float learning_rate to be able to change it."
            )
        self._learning_rate = self._check_learning_rate(value)

    # ---- state --------------------------------------------------------------------------
    def _slot_names(self) -> list[str]:
        """Names of the per-variable state arrays, in their saving order."""
        return []

    def _state_names(self) -> list[str]:
        """The slot names plus ``"average"`` (the moving average) with ``use_ema``."""
        return self._slot_names() + (["average"] if self.use_ema else [])

    def _scratch(self, var, count: int) -> list[np.ndarray]:
        """``count`` work arrays shaped like ``var``, kept between steps (not state: they
        are never saved), so updates run in place without allocating temporaries."""
        buffers = self._scratch_buffers.get(id(var))
        if buffers is None or len(buffers) < count or buffers[0].shape != var.shape:
            buffers = [np.empty_like(var) for _ in range(count)]
            self._scratch_buffers[id(var)] = buffers
        return buffers[:count]

    def build(self, var_list) -> None:
        """Create the zero-filled state arrays for ``var_list`` (done on the first update)."""
        if self.built:
            return
        self._variables = list(var_list)
        self._index = {id(v): i for i, v in enumerate(self._variables)}
        self._slots = {
            name: [np.zeros_like(_array(v)) for v in self._variables]
            for name in self._state_names()
        }
        self.built = True

    def variables(self) -> list[np.ndarray]:
        """The optimizer's state as arrays in a fixed order: ``iterations`` (int64),
        the learning rate (float32, unless it is a schedule or callable), then each
        slot for every variable (``[velocity of var 0, velocity of var 1, ..., momentum
        of var 0, ...]``). Empty slots before :meth:`build`."""
        arrays = [np.array(self.iterations, dtype=np.int64)]
        if _is_real(self._learning_rate):
            arrays.append(np.array(self._learning_rate, dtype=np.float32))
        for name in self._state_names() if self.built else []:
            arrays.extend(self._slots[name])
        return arrays

    def variable_names(self) -> list[str]:
        """Names matching :meth:`variables`, e.g. ``"dense_kernel_velocity"``."""
        names = ["iteration"]
        if _is_real(self._learning_rate):
            names.append("learning_rate")
        for name in self._state_names() if self.built else []:
            for i, v in enumerate(self._variables):
                path = getattr(v, "path", None) or getattr(v, "name", None) or f"variable_{i}"
                names.append(f"{str(path).replace('/', '_')}_{name}")
        return names

    def set_state(self, arrays) -> None:
        """Restore what :meth:`variables` returned (build the optimizer first)."""
        arrays = list(arrays)
        expected = self.variables()
        if len(arrays) != len(expected):
            hint = "" if self.built else " Call optimizer.build(model.trainable_weights) first."
            raise ValueError(
                f"{type(self).__name__}.set_state: expected {len(expected)} arrays, "
                f"received {len(arrays)}.{hint}"
            )
        for i, (target, value) in enumerate(zip(expected, arrays, strict=True)):
            if np.shape(value) != target.shape:
                raise ValueError(
                    f"{type(self).__name__}.set_state: array {i} should have shape "
                    f"{target.shape}. Received: {np.shape(value)}"
                )
        self.iterations = int(arrays[0])
        rest = arrays[1:]
        if _is_real(self._learning_rate):
            self._learning_rate = float(rest[0])
            rest = rest[1:]
        slots = [s for name in self._state_names() for s in self._slots[name]]
        for slot, value in zip(slots, rest, strict=True):
            np.copyto(slot, np.asarray(value, dtype=slot.dtype))

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Skip weight decay for these variables, or those whose name contains a string
        of ``var_names`` (e.g. ``["bias"]``)."""
        self._exclude_ids = {id(v) for v in var_list or ()}
        self._exclude_names = tuple(var_names or ())

    # ---- updates ------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars) -> int:
        """Update each variable from its gradient; pairs with a ``None`` gradient are skipped.

        Returns:
            the new ``iterations``.
        """
        pairs = list(grads_and_vars)
        if not pairs:
            return self.iterations
        grads, variables = zip(*pairs, strict=True)
        self.apply(list(grads), list(variables))
        return self.iterations

    def apply(self, grads, trainable_variables=None) -> None:
        """Like :meth:`apply_gradients` with separate lists (Keras' ``apply``)."""
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    f"{type(self).__name__}.apply: pass trainable_variables on the first call "
                    "or build the optimizer first"
                )
            trainable_variables = self._variables
        trainable_variables = list(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(
                f"{type(self).__name__}.apply: got {len(grads)} gradients for "
                f"{len(trainable_variables)} variables"
            )
        self.build(trainable_variables)
        pairs = []
        for g, v in zip(grads, trainable_variables, strict=True):
            if id(v) not in self._index:
                raise ValueError(
                    f"Unknown variable {getattr(v, 'path', v)!r}: this optimizer was built for "
                    "other variables. Create a new optimizer for a new set of variables. If "
                    "you set `trainable = True` on layers after training began (fine-tuning), "
                    "call model.compile(...) again with a new optimizer, as Keras requires."
                )
            if g is not None:
                data = _array(v)
                g = _array(g)
                if g.shape != data.shape:
                    raise ValueError(
                        f"{type(self).__name__}: gradient of shape {g.shape} for a variable of "
                        f"shape {data.shape} ({getattr(v, 'path', '')})"
                    )
                pairs.append((g.astype(data.dtype, copy=False), v))
        if not pairs:
            raise ValueError("No gradients provided for any variable.")
        grads = self._clip([g for g, _ in pairs])
        lr = self.learning_rate
        for g, v in zip(grads, (v for _, v in pairs), strict=True):
            data = _array(v)
            if self.weight_decay and self._decays(v):
                data -= data * (self.weight_decay * lr)
            i = self._index[id(v)]
            slots = {name: self._slots[name][i] for name in self._slot_names()}
            self.update_step(g, data, slots, lr)
            constraint = getattr(v, "constraint", None)
            if constraint is not None:
                data[...] = constraint(data)
        if self.use_ema:
            self._update_moving_average()
        self.iterations += 1

    # ---- exponential moving average of the variables (use_ema) ----------------------
    def _update_moving_average(self) -> None:
        momentum = self.ema_momentum if self.iterations else 0.0  # first step: avg = w
        for v, average in zip(self._variables, self._slots["average"], strict=True):
            average *= momentum
            average += (1 - momentum) * _array(v)
        if (
            self.ema_overwrite_frequency
            and (self.iterations + 1) % self.ema_overwrite_frequency == 0
        ):
            self._overwrite_with_average(self._variables)

    def _overwrite_with_average(self, var_list) -> None:
        for v in var_list:
            i = self._index.get(id(v))
            if i is None:
                raise ValueError(
                    f"{type(self).__name__}: variable {getattr(v, 'path', v)!r} is not one "
                    "this optimizer was built for"
                )
            _array(v)[...] = self._slots["average"][i]

    def finalize_variable_values(self, var_list) -> None:
        """Called by ``fit`` when training ends: with ``use_ema``, the variables take
        their moving average's values (Keras 3); otherwise nothing happens."""
        if self.use_ema and self.built:
            self._overwrite_with_average(list(var_list))

    def update_step(self, grad, var, slots, lr) -> None:  # pragma: no cover - abstract
        """Update the array ``var`` (and the ``slots`` arrays) in place."""
        raise NotImplementedError

    def _decays(self, v) -> bool:
        if id(v) in self._exclude_ids:
            return False
        name = str(getattr(v, "path", None) or getattr(v, "name", ""))
        return not any(s in name for s in self._exclude_names)

    def _clip(self, grads):
        if self.clipnorm is not None and self.clipnorm > 0:
            c = self.clipnorm
            return [g * (c / max(float(np.sqrt((g * g).sum())), c)) for g in grads]
        if self.global_clipnorm is not None and self.global_clipnorm > 0:
            c = self.global_clipnorm
            norm = float(np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads)))
            scale = c * min(1.0 / norm, 1.0 / c) if norm > 0 else 1.0
            if not np.isfinite(norm):
                scale = float("nan")
            return [g * scale for g in grads]
        if self.clipvalue is not None and self.clipvalue > 0:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    # ---- config -------------------------------------------------------------------------
    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, schedules_module.LearningRateSchedule):
            lr = schedules_module.serialize(lr)
        elif callable(lr):
            raise ValueError(
                f"{type(self).__name__}.get_config: a callable learning_rate cannot be "
                "serialized; use a LearningRateSchedule"
            )
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
        }

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules_module.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} learning_rate={self._learning_rate!r}>"


def check_range(value, name: str, cls: str, low=None, high=None) -> float:
    """``value`` as a float, checked to be a number in ``[low, high]``."""
    if not _is_real(value):
        raise TypeError(f"{cls}: {name} must be a number. Received: {name}={value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{cls}: {name} must be {bounds}. Received: {name}={value!r}")
    return float(value)


def _is_real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)
