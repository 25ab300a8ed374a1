"""An optimizer's state in Keras 3's HDF5 layout (the ``optimizer/vars`` group of
``model.weights.h5`` inside a ``.keras`` archive), so that training resumes exactly.

Keras 3 saves ``optimizer.variables`` in the order they were created, as datasets
``"0"``, ``"1"``, ...:

1. ``iteration`` (an integer scalar), then ``learning_rate`` (a float32 scalar; absent
   when the learning rate is a schedule or a callable);
2. with ``use_ema``, one ``average`` per trainable variable;
3. the optimizer's slots. Keras creates the slots named in one ``build`` call variable
   by variable: Adam's ``["momentum", "velocity"]`` come as ``m0, v0, m1, v1, ...``,
   while RMSprop creates its ``velocity`` slots and then, in a second call, its
   ``momentum`` slots (``v0, v1, ..., m0, m1, ...``). :data:`SLOT_GROUPS` lists the
   calls per optimizer; an optimizer not listed makes one call per slot name.
4. Nadam then adds ``u_product``, the product of its momentum schedule so far (cnnlab
   recomputes it from the step count, so it is written for Keras and checked on reading).

cnnlab keeps the same arrays in its own order (:meth:`Optimizer.variables`); this module
only translates between the two orders.
"""

from __future__ import annotations

import math

import numpy as np

# class name -> the slot names Keras creates together, in the order of its build() calls
SLOT_GROUPS = {
    "Adam": lambda o: [["momentum", "velocity"]] + ([["velocity_hat"]] if o.amsgrad else []),
    "AdamW": lambda o: [["momentum", "velocity"]] + ([["velocity_hat"]] if o.amsgrad else []),
    "Adamax": lambda o: [["momentum", "norm"]],
    "Nadam": lambda o: [["momentum", "velocity"]],
    "Adadelta": lambda o: [["accumulated_grad", "accumulated_delta_var"]],
}


def _slot_order(optimizer) -> list[tuple[str, int]]:
    """``(slot name, variable index)`` in Keras' order of creation."""
    groups = SLOT_GROUPS.get(type(optimizer).__name__)
    slot_names = optimizer._slot_names()
    calls = groups(optimizer) if groups else [[name] for name in slot_names]
    if sorted(n for call in calls for n in call) != sorted(slot_names):
        calls = [[name] for name in slot_names]  # a subclass with other slots
    if optimizer.use_ema:
        calls = [["average"], *calls]
    count = len(optimizer._variables)
    return [(name, i) for call in calls for i in range(count) for name in call]


def _has_lr_variable(optimizer) -> bool:
    lr = optimizer._learning_rate
    return isinstance(lr, int | float) and not isinstance(lr, bool)


def _u_product(optimizer) -> np.ndarray:
    product = math.prod(optimizer._u(i) for i in range(1, optimizer.iterations + 1))
    return np.array(product, dtype=np.float32)


def keras_optimizer_arrays(optimizer) -> list[np.ndarray]:
    """The state of a built optimizer in Keras 3's order (see the module docstring)."""
    arrays = [np.array(optimizer.iterations, dtype=np.int64)]
    if _has_lr_variable(optimizer):
        arrays.append(np.array(optimizer._learning_rate, dtype=np.float32))
    arrays += [optimizer._slots[name][i] for name, i in _slot_order(optimizer)]
    if type(optimizer).__name__ == "Nadam":
        arrays.append(_u_product(optimizer))
    return arrays


def expected_shapes(optimizer) -> list[tuple]:
    """The shapes :func:`keras_optimizer_arrays` gives, without copying anything."""
    shapes = [()] + ([()] if _has_lr_variable(optimizer) else [])
    shapes += [tuple(optimizer._slots[name][i].shape) for name, i in _slot_order(optimizer)]
    return shapes + ([()] if type(optimizer).__name__ == "Nadam" else [])


def set_keras_optimizer_arrays(optimizer, arrays: list[np.ndarray]) -> None:
    """Restore what :func:`keras_optimizer_arrays` gives (the optimizer built, counts and
    shapes already checked against :func:`expected_shapes`)."""
    iterations = np.asarray(arrays[0])
    if iterations.dtype.kind not in "iuf" or iterations.shape != () or iterations < 0:
        raise ValueError(f"the optimizer's iteration count is not a count: {iterations!r}")
    optimizer.iterations = int(iterations)
    rest = list(arrays[1:])
    if _has_lr_variable(optimizer):
        optimizer._learning_rate = float(rest.pop(0))
    order = _slot_order(optimizer)
    for (name, i), value in zip(order, rest, strict=False):
        slot = optimizer._slots[name][i]
        np.copyto(slot, np.asarray(value, dtype=slot.dtype))


# ---- the "optimizer/vars" group ---------------------------------------------------------
OPTIMIZER_GROUP = "optimizer/vars"


def write_optimizer_group(f, model) -> None:
    """Write the model's optimizer state (if it has an optimizer) into the open file."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "_slot_names"):
        return
    group = f.create_group(OPTIMIZER_GROUP)
    group.attrs["name"] = str(optimizer.name)
    if optimizer.built:
        arrays = keras_optimizer_arrays(optimizer)
    else:  # Keras writes an optimizer that never stepped as its two scalars
        arrays = keras_optimizer_arrays(optimizer)[:2]
    for i, array in enumerate(arrays):
        group.create_dataset(str(i), data=array)


def read_optimizer_group(f, model, where: str) -> bool:
    """Restore the model's optimizer from the open file ``f``; returns whether it did.

    An optimizer group that is missing, holds only the two scalars of an optimizer that
    never stepped, or a different number of arrays than the model's optimizer has (a
    different optimizer) leaves the optimizer as it is, as Keras does (with a warning
    in the last case). Wrong shapes are an error.
    """
    import warnings

    from cnnlab.models.h5_weights import indexed_group, plain_array

    optimizer = getattr(model, "optimizer", None)
    group = f.get(OPTIMIZER_GROUP)
    if optimizer is None or group is None or not hasattr(optimizer, "_slot_names"):
        return False
    count = len(group.keys())
    optimizer.build(model.trainable_weights)
    shapes = expected_shapes(optimizer)
    if count <= 2 and len(shapes) > 2:
        return False
    if count != len(shapes):
        warnings.warn(
            f"{where}: the optimizer state holds {count} arrays but the model's "
            f"{type(optimizer).__name__} has {len(shapes)}; the optimizer keeps its state.",
            stacklevel=3,
        )
        return False
    group = indexed_group(f, OPTIMIZER_GROUP, count, where, "optimizer variables")
    arrays = [plain_array(group, str(i), where, shape) for i, shape in enumerate(shapes)]
    set_keras_optimizer_arrays(optimizer, arrays)
    return True
