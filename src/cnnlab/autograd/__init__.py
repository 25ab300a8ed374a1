"""Automatic differentiation: Tensor, Function, grad, no_grad, gradcheck."""

from cnnlab.autograd.function import Function
from cnnlab.autograd.gradcheck import GradcheckResult, gradcheck
from cnnlab.autograd.tensor import Tensor, as_tensor, grad, is_grad_enabled, no_grad

__all__ = [
    "Function",
    "GradcheckResult",
    "Tensor",
    "as_tensor",
    "gradcheck",
    "grad",
    "is_grad_enabled",
    "no_grad",
]
