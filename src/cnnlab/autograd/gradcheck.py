"""Finite-difference gradient check: does an op's backward agree with its forward?

For a function ``f`` of tensors ``x_1 .. x_k`` we compare the analytic gradient of the
scalar ``L = sum(f(x) * r)`` (``r`` a fixed random array, so every output element
matters) with the central difference

    dL/dx[i] ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)

computed in float64, element by element.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlab.autograd.tensor import Tensor


@dataclass
class GradcheckResult:
    """Outcome of :func:`gradcheck`.

    Attributes:
        ok: every element passed (``max_relative_error <= rtol``).
        max_relative_error: worst ``|analytic - numeric| / max(|analytic|, |numeric|, floor)``.
        input_index: which input the worst element belongs to.
        position: that element's index in its input.
        analytic, numeric: the two values there.
    """

    ok: bool
    max_relative_error: float
    input_index: int
    position: tuple
    analytic: float
    numeric: float

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        verdict = "passed" if self.ok else "FAILED"
        return (
            f"gradcheck {verdict}: worst relative error {self.max_relative_error:.3g} at input "
            f"{self.input_index}, position {self.position} "
            f"(analytic {self.analytic:.10g}, numeric {self.numeric:.10g})"
        )


def gradcheck(
    fn,
    *inputs,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    floor: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> GradcheckResult:
    """Check ``fn``'s gradients with respect to every input by central differences.

    Args:
        fn: callable taking the inputs as Tensors and returning a Tensor. It must be
            deterministic (give random ops a fixed seed).
        *inputs: array-likes; each is converted to a float64 Tensor that requires grad.
        eps: the finite-difference step.
        rtol: the largest accepted relative error.
        floor: denominators below this are raised to it, so gradients near zero are
            judged by their absolute error.
        seed: seed of the random output weighting ``r``.
        raise_exception: raise ``AssertionError`` with the report on failure.

    Returns:
        GradcheckResult: truthy when the check passed; ``str()`` gives a report.

    Raises:
        AssertionError: the check failed and ``raise_exception`` is true; the message
            is the report (worst relative error, which input, which element).

    Example:
        >>> from cnnlab import gradcheck, ops
        >>> result = gradcheck(lambda x, k: ops.correlate2d(x, k), [[1, 2, 3], [3, 4, 5]],
        ...                    [[0.5, -1.0]])
        >>> result.ok, result.max_relative_error < 1e-8
        (True, True)
        >>> print(result)  # doctest: +ELLIPSIS
        gradcheck passed: worst relative error ... at input ..., position (...) (analytic ...)
    """
    if not callable(fn):
        raise TypeError(f"gradcheck: fn must be callable. Received: {type(fn).__name__}")
    if not inputs:
        raise ValueError("gradcheck: give at least one input")
    arrays = [np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64) for x in inputs]
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor. Received: {type(out).__name__}")
    weights = np.random.default_rng(seed).standard_normal(out.shape)

    def objective() -> float:
        values = fn(*[Tensor(a) for a in arrays])
        return float(np.sum(np.asarray(values.data, dtype=np.float64) * weights))

    (out * Tensor(weights)).sum().backward()
    worst = GradcheckResult(True, 0.0, 0, (), 0.0, 0.0)
    for k, (array, tensor) in enumerate(zip(arrays, tensors, strict=True)):
        analytic = tensor.grad if tensor.grad is not None else np.zeros_like(array)
        for position in np.ndindex(array.shape):
            original = array[position]
            array[position] = original + eps
            plus = objective()
            array[position] = original - eps
            minus = objective()
            array[position] = original
            numeric = (plus - minus) / (2 * eps)
            a = float(analytic[position])
            error = abs(a - numeric) / max(abs(a), abs(numeric), floor)
            if error > worst.max_relative_error or not np.isfinite(error):
                worst = GradcheckResult(True, error, k, position, a, numeric)
    worst.ok = bool(worst.max_relative_error <= rtol)
    if raise_exception and not worst.ok:
        raise AssertionError(str(worst))
    return worst
