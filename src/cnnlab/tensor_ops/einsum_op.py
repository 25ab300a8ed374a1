"""``keras.ops.einsum``: Einstein summation, differentiable with respect to every operand.

``einsum("ij,jk->ik", a, b)`` is ``sum_j a[i, j] b[j, k]``: every letter names an
axis; letters missing from the output are summed over. The gradient of operand ``t``
is again an einsum: the output gradient ``g`` (subscripts ``out``) times all other
operands, summed into ``t``'s subscripts,

    ``dL/dt = einsum("out,s_1,...(without t)...->s_t", g, *others)``

then broadcast along letters that only ``t`` has (they were summed away) and placed
on the diagonal when ``t`` repeats a letter (``"ii->i"`` reads a diagonal).

Example:
    >>> from cnnlab import Tensor
    >>> a = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = einsum("ij,j->i", a, [1.0, 10.0])
    >>> y.numpy()
    array([21., 43.], dtype=float32)
    >>> y.sum().backward(); a.grad
    array([[ 1., 10.],
           [ 1., 10.]], dtype=float32)
"""

from __future__ import annotations

import string

import numpy as np

from cnnlab.autograd import Function
from cnnlab.tensor_ops._dispatch import cast_tensor, keras_op, to_tensor


def explicit_subscripts(subscripts: str, shapes) -> tuple[list[str], str]:
    """Per-operand letters and output letters with ``...`` spelled out and an implicit
    output made explicit (NumPy's rule: broadcast axes first, then the letters used
    once, in alphabetical order)."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string. Received: {subscripts!r}")
    text = subscripts.replace(" ", "")
    inputs_text, arrow, output = text.partition("->")
    inputs = inputs_text.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(
            f"einsum: subscripts {subscripts!r} name {len(inputs)} operands but "
            f"{len(shapes)} were given"
        )
    used = set(text) - set(".,->")
    spare = [c for c in string.ascii_letters if c not in used]
    ellipsis_rank = max(
        (len(shape) - len(s.replace("...", "")) for s, shape in zip(inputs, shapes, strict=True)
         if "..." in s), default=0,
    )  # fmt: skip
    broadcast = "".join(spare[:ellipsis_rank])
    expanded = []
    for s, shape in zip(inputs, shapes, strict=True):
        if "..." in s:
            rank = len(shape) - len(s.replace("...", ""))
            s = s.replace("...", broadcast[ellipsis_rank - rank :])
        if len(s) != len(shape):
            raise ValueError(
                f"einsum: subscripts {s!r} do not match an operand of shape {tuple(shape)}"
            )
        expanded.append(s)
    if arrow:
        output = output.replace("...", broadcast)
    else:
        letters = "".join(expanded)
        output = broadcast + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1 and c not in broadcast)
        )
    return expanded, output


def _expand_to(grad, letters, target, shape):
    """A gradient over ``letters`` laid out over ``target`` (shape ``shape``):
    broadcast along letters it lacks, zero off the diagonal of repeated letters."""
    sizes = dict(zip(target, shape, strict=True))
    unique = "".join(dict.fromkeys(target))
    for c in unique:
        if c not in letters:  # summed over in the forward pass: every entry gets g
            grad = np.expand_dims(grad, -1)
            letters += c
    grad = np.broadcast_to(np.einsum(f"{letters}->{unique}", grad),
                           tuple(sizes[c] for c in unique))  # fmt: skip
    if len(unique) == len(target):
        return np.ascontiguousarray(grad)
    coords = np.indices(shape)
    first = {c: target.index(c) for c in unique}
    on_diagonal = np.ones(shape, dtype=bool)
    for axis, c in enumerate(target):
        on_diagonal &= coords[axis] == coords[first[c]]
    picked = grad[tuple(coords[first[c]] for c in unique)]
    return np.where(on_diagonal, picked, 0).astype(grad.dtype)


class EinsumFunction(Function):
    """``y = einsum(s_1,...,s_n->out)``; backward as in the module docstring."""

    def forward(self, *operands, inputs, output):
        self.operand_letters, self.output = inputs, output
        self.save_for_backward(*operands)
        spec = ",".join(inputs) + "->" + output
        return np.asarray(np.einsum(spec, *operands, optimize=len(operands) > 2))

    def backward(self, g):
        operands = self.saved_arrays
        grads = []
        for i, (letters, operand) in enumerate(zip(self.operand_letters, operands, strict=True)):
            others = [s for j, s in enumerate(self.operand_letters) if j != i]
            available = set(self.output).union(*others)
            wanted = "".join(c for c in dict.fromkeys(letters) if c in available)
            spec = ",".join([self.output, *others]) + "->" + wanted
            arrays = [g, *(a for j, a in enumerate(operands) if j != i)]
            grad = np.einsum(spec, *arrays, optimize=len(arrays) > 2)
            grads.append(_expand_to(grad, wanted, letters, operand.shape).astype(operand.dtype))
        return tuple(grads)


@keras_op
def einsum(subscripts, *operands, **kwargs):
    """Einstein summation over the operands (Keras 3's ``keras.ops.einsum``).

    Args:
        subscripts: e.g. ``"ij,jk->ik"`` (matmul), ``"bhwc,cd->bhwd"``, ``"...ij->...ji"``,
            ``"ii->"`` (trace); without ``->`` the output is NumPy's implicit one.
        *operands: arrays, Tensors (differentiable) or KerasTensors (a graph node).

    Returns:
        A Tensor; operands of mixed dtypes meet in their common type (ints with floats
        give the float type).

    Raises:
        ValueError: subscripts that do not match the operands.
        TypeError: subscripts that are not a string, or keyword arguments.
    """
    if kwargs:
        raise TypeError(f"einsum: unexpected keyword arguments {sorted(kwargs)}")
    if not operands:
        raise ValueError("einsum: at least one operand is required")
    tensors = [to_tensor(x) for x in operands]
    kinds = {t.dtype.kind for t in tensors}
    dtype = np.result_type(*(t.dtype for t in tensors))
    if "f" in kinds:
        dtype = np.result_type(*(t.dtype for t in tensors if t.dtype.kind == "f"))
    tensors = [cast_tensor(t, dtype) for t in tensors]
    inputs, output = explicit_subscripts(subscripts, [t.shape for t in tensors])
    return EinsumFunction.apply(*tensors, inputs=tuple(inputs), output=output)


__all__ = ["einsum"]
