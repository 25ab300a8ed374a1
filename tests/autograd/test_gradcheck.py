"""gradcheck itself: it passes correct ops and catches (and locates) wrong backwards."""

import numpy as np
import pytest

from cnnlab import Function, Tensor, gradcheck
from cnnlab.autograd import GradcheckResult


class WrongSquare(Function):
    """x**2 with the classic slip d/dx = x instead of 2x."""

    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, g):
        (x,) = self.saved_arrays
        return (g * x,)


class WrongAtOnePosition(Function):
    """a * b with the gradient of ``b`` corrupted at a single element, (1, 2)."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, g):
        a, b = self.saved_arrays
        gb = g * a
        gb[1, 2] += 0.5
        return g * b, gb


class NaNGradient(Function):
    def forward(self, x):
        return 2 * x

    def backward(self, g):
        return (g * np.nan,)


def test_passes_on_correct_ops(rng):
    result = gradcheck(
        lambda a, b: (a * b).exp() / (b * b + 1),
        rng.standard_normal((2, 3)),
        rng.standard_normal((2, 3)),
    )
    assert isinstance(result, GradcheckResult)
    assert result.ok and bool(result)
    assert result.max_relative_error < 1e-7
    assert "gradcheck passed" in str(result)


def test_fails_on_a_wrong_backward(rng):
    x = rng.uniform(0.5, 1.5, (2, 2))
    result = gradcheck(WrongSquare.apply, x, raise_exception=False)
    assert not result.ok and not bool(result)
    assert result.input_index == 0
    np.testing.assert_allclose(result.max_relative_error, 0.5, rtol=1e-6)  # x vs 2x
    np.testing.assert_allclose(result.numeric, 2 * result.analytic, rtol=1e-6)
    with pytest.raises(AssertionError, match=r"gradcheck FAILED: worst relative error 0.5"):
        gradcheck(WrongSquare.apply, x)


def test_report_names_the_input_and_position(rng):
    a, b = rng.uniform(1, 2, (2, 4)), rng.uniform(1, 2, (2, 4))
    result = gradcheck(WrongAtOnePosition.apply, a, b, raise_exception=False)
    assert not result.ok
    assert result.input_index == 1
    assert result.position == (1, 2)
    assert "at input 1, position (1, 2)" in str(result)


def test_non_finite_gradient_fails():
    result = gradcheck(NaNGradient.apply, np.ones(3), raise_exception=False)
    assert not result.ok


def test_unused_input_has_zero_gradient_and_passes(rng):
    assert gradcheck(lambda a, b: a * 2, rng.standard_normal(3), rng.standard_normal(2))


def test_float32_inputs_are_checked_in_float64(rng):
    x = rng.standard_normal(4).astype(np.float32)
    seen = []

    def fn(t):
        seen.append(t.dtype)
        return t * t

    assert gradcheck(fn, x)
    assert set(seen) == {np.dtype(np.float64)}
    assert gradcheck(fn, Tensor(x))


def test_argument_errors():
    with pytest.raises(TypeError, match="fn must be callable"):
        gradcheck(3, np.ones(2))
    with pytest.raises(ValueError, match="at least one input"):
        gradcheck(lambda: None)
    with pytest.raises(TypeError, match="fn must return a Tensor"):
        gradcheck(lambda t: t.numpy(), np.ones(2))
