"""Turning the arrays given to fit/evaluate/predict into checked, batched arrays.

Inputs (``x``) become the model's float dtype (float32 by default): integers and
booleans are cast, as Keras does, and so is float64 data (no silent float64 compute).
Targets (``y``) keep integer labels as integers and bring float targets to the
model's dtype. Strings or other non-numbers raise a TypeError naming the argument.
``x`` and ``y`` may be one array or a list of arrays (several inputs or outputs).
"""

from __future__ import annotations

import math

import numpy as np

from cnnlab.autograd import Tensor


def _is_array_list(data) -> bool:
    return isinstance(data, list | tuple) and any(isinstance(a, np.ndarray | Tensor) for a in data)


def _to_numeric(data, name: str, fn: str) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, dict):
        raise TypeError(f"{fn}: {name} as a dict is not supported; pass arrays or lists of arrays")
    if hasattr(data, "__next__") or (hasattr(data, "__iter__") and not hasattr(data, "__len__")):
        raise TypeError(
            f"{fn}: {name} must be a NumPy array (or a list of arrays). Generators and "
            f"iterators are not supported. Received: {type(data).__name__}"
        )
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{fn}: {name} must be an array of numbers ({err})") from err
    if array.dtype.kind == "O":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"{fn}: {name} must hold numbers. Received an array of Python objects ({err})"
            ) from err
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{fn}: {name} must hold numbers. Received an array of dtype {array.dtype}"
            + (" (strings)" if array.dtype.kind in "US" else "")
        )
    if array.ndim == 0:
        raise ValueError(f"{fn}: {name} must have a batch axis. Received a scalar: {array!r}")
    return array


def as_inputs(x, dtype, fn: str):
    """``x`` as an ndarray (or a list of them) of the float ``dtype`` (or, given a
    list of dtypes, each input in its own dtype)."""
    if x is None:
        raise ValueError(f"{fn}: x is required. Received: x=None")
    if isinstance(x, dict):  # a subclassed model's call takes the dict as it is
        float_dtype = (
            next((d for d in dtype if d.kind == "f"), None) if isinstance(dtype, list) else dtype
        )
        return {key: as_inputs(value, float_dtype or np.dtype("float32"), f"{fn} (x[{key!r}])")
                for key, value in x.items()}  # fmt: skip
    if isinstance(dtype, list):
        if _is_array_list(x) and len(x) == len(dtype):
            return [as_inputs(a, d, fn) for a, d in zip(x, dtype, strict=True)]
        if len(dtype) == 1 and not _is_array_list(x):
            return as_inputs(x, dtype[0], fn)
        dtype = next((d for d in dtype if d.kind == "f"), np.dtype("float32"))
    if _is_array_list(x):
        return [as_inputs(a, dtype, fn) for a in x]
    array = _to_numeric(x, "x", fn)
    return array if array.dtype == dtype else array.astype(dtype)


def as_targets(y, dtype, fn: str, name: str = "y"):
    """``y`` with integer labels kept and floats in ``dtype`` (``None`` stays ``None``)."""
    if y is None:
        return None
    if _is_array_list(y):
        return [as_targets(a, dtype, fn, name) for a in y]
    array = _to_numeric(y, name, fn)
    if array.dtype.kind == "f" and array.dtype != dtype:
        return array.astype(dtype)
    if array.dtype.kind == "b":
        return array.astype(dtype)
    return array


def as_sample_weights(sample_weight, fn: str) -> np.ndarray:
    """One float32 weight per sample, ``(N,)`` (``(N, 1)`` is accepted and flattened)."""
    weights = as_targets(sample_weight, np.dtype("float32"), fn, "sample_weight")
    if not isinstance(weights, np.ndarray):
        raise TypeError(
            f"{fn}: sample_weight must be one array of shape (num_samples,), shared by all "
            f"outputs. Received: {type(sample_weight).__name__}"
        )
    if weights.ndim == 2 and weights.shape[1] == 1:
        weights = weights[:, 0]
    if weights.ndim != 1:
        raise ValueError(
            f"{fn}: sample_weight must have shape (num_samples,): one weight per sample. "
            f"Received: sample_weight.shape={weights.shape}"
        )
    finite = np.isfinite(weights)
    if not finite.all():
        raise ValueError(
            f"{fn}: sample_weight must hold finite numbers. Received: "
            f"{int(finite.size - np.count_nonzero(finite))} NaN or infinite weight(s)"
        )
    return weights


def flat(data) -> list:
    if data is None:
        return []
    if isinstance(data, dict):
        return list(data.values())
    return list(data) if isinstance(data, list) else [data]


def num_samples(fn: str, **named) -> int:
    """The common batch size of every given array; ValueError naming any mismatch."""
    sizes = {}
    for name, data in named.items():
        for i, array in enumerate(flat(data)):
            label = name if not isinstance(data, list) else f"{name}[{i}]"
            sizes[label] = len(array)
    distinct = set(sizes.values())
    if len(distinct) > 1:
        detail = ", ".join(f"{k} has {v}" for k, v in sizes.items())
        raise ValueError(
            f"{fn}: all arrays must have the same number of samples (first axis). "
            f"Received: {detail}"
        )
    n = distinct.pop() if distinct else 0
    if n == 0:
        raise ValueError(f"{fn}: received empty data (0 samples)")
    return n


def take(data, index):
    """Rows ``index`` (a slice or an index array) of an array or list of arrays."""
    if data is None:
        return None
    if isinstance(data, list):
        return [a[index] for a in data]
    if isinstance(data, dict):
        return {key: a[index] for key, a in data.items()}
    return data[index]


def split_validation(arrays: list, validation_split: float, n: int, fn: str):
    """Keras' split: the *last* ``validation_split`` fraction (before any shuffling)."""
    if not 0 < validation_split < 1:
        raise ValueError(f"{fn}: validation_split must be in [0, 1). Received: {validation_split}")
    split_at = math.floor(n * (1.0 - validation_split))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"{fn}: training data contains {n} samples, which is not sufficient to split it "
            f"into a validation and training set as specified by "
            f"validation_split={validation_split}. Provide more data or change validation_split."
        )
    train = [take(a, slice(0, split_at)) for a in arrays]
    val = [take(a, slice(split_at, n)) for a in arrays]
    return train, val


def class_weights_to_sample_weights(y, class_weight: dict, fn: str) -> np.ndarray:
    """One weight per sample from ``{class index: weight}`` (integer or one-hot labels).

    Classes missing from ``class_weight`` weigh 1.0, as in Keras 3."""
    if not isinstance(class_weight, dict):
        raise TypeError(
            f"{fn}: class_weight must be a dict {{class index: weight}}. "
            f"Received: {type(class_weight).__name__} {class_weight!r}"
        )
    if isinstance(y, list):
        raise ValueError(f"{fn}: class_weight is only supported for models with one output")
    labels = y
    if labels.ndim > 1 and labels.shape[-1] > 1:
        labels = np.argmax(labels, axis=-1)
    labels = labels.reshape(len(labels), -1)[:, 0] if labels.ndim > 1 else labels
    labels = np.round(labels).astype(np.int64)
    keys = []
    for key, weight in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, int | np.integer) or key < 0:
            raise ValueError(
                f"{fn}: class_weight keys must be class indices (ints >= 0). Received: {key!r}"
            )
        if isinstance(weight, bool) or not isinstance(weight, int | float | np.number):
            raise TypeError(
                f"{fn}: class_weight values must be numbers. Received: {key!r}: {weight!r}"
            )
        keys.append(int(key))
    table = np.ones(max(max(keys, default=0), int(labels.max(initial=0))) + 1, dtype=np.float32)
    for key, weight in class_weight.items():
        table[int(key)] = weight
    return table[labels]


def rows_in(index) -> int:
    """How many samples a batch index of :func:`batch_slices` takes (a slice within the
    data, or an index array)."""
    return index.stop - index.start if isinstance(index, slice) else len(index)


def batch_slices(n: int, batch_size: int, order=None):
    """Index batches over ``n`` samples: slices in order, or chunks of ``order``."""
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        yield slice(start, stop) if order is None else order[start:stop]


def check_positive_int(value, name: str, fn: str, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{fn}: {name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def check_initial_epoch(value, fn: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{fn}: initial_epoch must be an int. Received: {value!r}")
    if value < 0:
        raise ValueError(f"{fn}: initial_epoch must be >= 0. Received: {value}")
    return int(value)


def callback_list(callbacks, model, verbose, epochs, steps):
    """The callbacks of one ``fit``/``evaluate``/``predict`` call, with History and the
    progress bar added."""
    from cnnlab.callbacks.callback import CallbackList

    return CallbackList(
        callbacks, add_history=True, add_progbar=verbose != 0, model=model, verbose=verbose,
        epochs=epochs, steps=steps,
    )  # fmt: skip


def check_verbose(verbose, fn):
    """``verbose`` as 0, 1 or 2 (``"auto"`` is 1)."""
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"{fn}: verbose must be 'auto', 0, 1 or 2. Received: {verbose!r}")
    return verbose


def bad_loss_error(value, epoch, step, steps):
    """The error ``fit`` raises when the loss stops being finite."""
    return FloatingPointError(
        f"fit: the loss became {value} at epoch {epoch + 1}, batch {step + 1} of {steps}; "
        "training stopped before this batch changed the weights. Common causes: a learning "
        "rate that is too high, NaN/inf or unscaled inputs (e.g. pixels in 0-255), or a loss "
        "that does not match the outputs. Pass callbacks=[keras.callbacks.TerminateOnNaN()] "
        "to stop without an error."
    )
