"""``Tensor``: an array that remembers how it was made, so it can be differentiated.

Reverse-mode automatic differentiation over a dynamic graph, in the spirit of
micrograd: every result of a :class:`~cnnlab.autograd.function.Function` keeps the
node (``_ctx``) that produced it; ``backward()`` visits the nodes in reverse
topological order (an explicit stack, so deep graphs do not hit Python's recursion
limit) and accumulates ``d loss / d tensor`` into the ``.grad`` of every leaf tensor
that ``requires_grad``.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from cnnlab.backend import DEFAULT_FLOAT, get_array_module

_state = threading.local()


def is_grad_enabled() -> bool:
    """True unless inside a ``no_grad()`` block."""
    return getattr(_state, "grad_enabled", True)


class no_grad:  # noqa: N801 - used as a function, as torch.no_grad
    """Context manager that records no graph (inference, optimizer updates); as a
    decorator, ``@no_grad()``, each call of the function runs inside one. A class, not a
    generator: ``predict`` enters one per batch (2.1 -> 0.8 us)."""

    __slots__ = ("previous",)

    def __call__(self, function):
        if not callable(function):
            raise TypeError(f"no_grad(): decorates a function. Received {function!r}")

        @functools.wraps(function)
        def without_graph(*args, **kwargs):
            with no_grad():
                return function(*args, **kwargs)

        return without_graph

    def __enter__(self):
        self.previous = is_grad_enabled()
        _state.grad_enabled = False

    def __exit__(self, *exc_info) -> bool:
        _state.grad_enabled = self.previous
        return False


def _to_array(data, dtype):
    """Convert ``data`` to an array: floats stay float32/float64, everything else
    becomes ``DEFAULT_FLOAT`` unless ``dtype`` says otherwise."""
    if isinstance(data, Tensor):
        data = data.data
    xp = get_array_module(data)
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind not in "fb":
            raise TypeError(f"Tensor: dtype must be a floating dtype or bool. Received: {dtype}")
    try:
        array = xp.asarray(data)
    except (ValueError, TypeError) as err:
        raise TypeError(
            f"Tensor: data must be array-like numbers. Received: {type(data).__name__} ({err})"
        ) from err
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Tensor: data must be numeric. Received an array of dtype {array.dtype}")
    if dtype is not None:
        return array.astype(dtype, copy=False)
    if array.dtype == np.float64 and not hasattr(data, "dtype"):
        return array.astype(DEFAULT_FLOAT)  # Python floats/lists: float32, as in Keras and torch
    if array.dtype == np.float64 or array.dtype == np.float32 or array.dtype == np.bool_:
        return array
    return array.astype(DEFAULT_FLOAT)


class Tensor:
    """An n-dimensional array with an optional gradient.

    Args:
        data: array-like. float64 arrays stay float64; everything else becomes float32.
        requires_grad: record operations on this tensor so ``backward`` reaches it.
        dtype: ``"float32"`` or ``"float64"`` to force a dtype.

    Example:
        >>> from cnnlab import Tensor
        >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        array([2., 4., 6.], dtype=float32)
    """

    __array_priority__ = 100  # so ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _to_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"Tensor: only floating tensors can require grad, got {self.dtype}")
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._ctx = None
        self._retains_grad = False

    @classmethod
    def _from_array(cls, array, requires_grad=False):
        """Wrap an op's result without copying or converting it."""
        t = cls.__new__(cls)
        t.data = array
        t.requires_grad = requires_grad
        t.grad = None
        t._ctx = None
        t._retains_grad = False
        return t

    # ---- array protocol -------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)

    def numpy(self):
        """The underlying array (not a copy)."""
        return self.data

    def __array__(self, dtype=None, copy=None):
        if dtype is None:
            return self.data
        return self.data.astype(dtype)

    def item(self):
        return self.data.item()

    def __float__(self):
        return float(self.data)

    def __int__(self):
        return int(self.data)

    def __len__(self):
        return len(self.data)

    def __format__(self, spec: str) -> str:
        """``f"{loss:.2f}"`` formats a one-element tensor as its number (as TensorFlow
        and PyTorch do); without a spec, any tensor formats as its ``repr``."""
        value = self.data.item() if self.data.size == 1 else self.data
        return format(value, spec) if spec else repr(self)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        values = np.array2string(self.data, separator=", ", prefix="Tensor(")
        return f"Tensor({values}, dtype={self.dtype}{grad})"

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    def detach(self) -> Tensor:
        """The same data, cut off from the graph."""
        return Tensor._from_array(self.data)

    def retain_grad(self) -> None:
        """Also keep ``.grad`` on this non-leaf tensor during ``backward``."""
        self._retains_grad = True

    def zero_grad(self) -> None:
        self.grad = None

    # ---- backward -------------------------------------------------------------------
    def _topological_order(self):
        order, visited = [], set()
        stack = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            if node._ctx is not None:
                for parent in node._ctx.inputs:
                    if parent.requires_grad and id(parent) not in visited:
                        stack.append((parent, False))
        return order

    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate ``d self / d leaf`` into every leaf's ``.grad``.

        Args:
            grad: the upstream gradient, same shape as ``self``. May be omitted for a
                tensor of one element (it is then 1).
            retain_graph: keep the graph so ``backward`` can run through it again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad (no input had requires_grad=True)"
            )
        xp = get_array_module(self.data)
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    "backward: grad can be omitted only for a tensor of one element. "
                    f"Received a tensor of shape {self.shape}"
                )
            grad = xp.ones_like(self.data)
        else:
            grad = xp.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if grad.shape != self.shape:
                raise ValueError(
                    f"backward: grad must have the tensor's shape {self.shape}. "
                    f"Received: {grad.shape}"
                )
        for tensor, g in _chain_rule(self, grad, retain_graph):
            # copy: g may be shared with another input (Add) or be a view (Reshape)
            tensor.grad = g.copy() if tensor.grad is None else tensor.grad + g

    # ---- operators (the Functions live in autograd/basic.py) -------------------------
    def __add__(self, other):
        return _basic().add(self, other)

    def __radd__(self, other):
        return _basic().add(other, self)

    def __sub__(self, other):
        return _basic().sub(self, other)

    def __rsub__(self, other):
        return _basic().sub(other, self)

    def __mul__(self, other):
        return _basic().mul(self, other)

    def __rmul__(self, other):
        return _basic().mul(other, self)

    def __truediv__(self, other):
        return _basic().div(self, other)

    def __rtruediv__(self, other):
        return _basic().div(other, self)

    def __pow__(self, exponent):
        return _basic().power(self, exponent)

    def __neg__(self):
        return _basic().neg(self)

    def __matmul__(self, other):
        return _basic().matmul(self, other)

    def __rmatmul__(self, other):
        return _basic().matmul(other, self)

    def __getitem__(self, index):
        return _basic().getitem(self, index)

    def __lt__(self, other):
        return _compare(self, other, "less")

    def __le__(self, other):
        return _compare(self, other, "less_equal")

    def __gt__(self, other):
        return _compare(self, other, "greater")

    def __ge__(self, other):
        return _compare(self, other, "greater_equal")

    def __eq__(self, other):  # elementwise, like NumPy and PyTorch
        return _compare(self, other, "equal")

    def __ne__(self, other):
        return _compare(self, other, "not_equal")

    __hash__ = object.__hash__

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = tuple(shape[0])
        return _basic().reshape(self, shape)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], tuple | list):
            axes = tuple(axes[0])
        return _basic().transpose(self, axes or None)

    @property
    def T(self):
        return _basic().transpose(self, None)

    def flatten(self):
        return self.reshape(-1)

    def sum(self, axis=None, keepdims=False, *, dtype=None, out=None):
        return _reduce("sum", self, axis, keepdims, dtype, out)

    def mean(self, axis=None, keepdims=False, *, dtype=None, out=None):
        return _reduce("mean", self, axis, keepdims, dtype, out)

    def max(self, axis=None, keepdims=False, *, dtype=None, out=None):
        return _reduce("max", self, axis, keepdims, dtype, out)

    def min(self, axis=None, keepdims=False, *, dtype=None, out=None):
        return _reduce("min", self, axis, keepdims, dtype, out)

    def exp(self):
        return _basic().exp(self)

    def log(self):
        return _basic().log(self)

    def sqrt(self):
        return _basic().sqrt(self)

    def abs(self):
        return _basic().abs(self)

    def astype(self, dtype):
        return _basic().astype(self, dtype)


def _chain_rule(root: Tensor, seed, retain_graph: bool) -> list:
    """The one reverse walk behind ``backward()`` and :func:`grad`: the chain rule from
    ``root`` (its gradient ``seed``) down the graph, in reverse topological order.
    Returns ``(tensor, d root / d tensor)`` for every leaf reached and every tensor that
    retains its grad; no ``.grad`` is read or written here."""
    grads, reached = {id(root): seed}, []
    for node in reversed(root._topological_order()):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        if node._ctx is None or node._retains_grad:
            reached.append((node, g))
        if node._ctx is None:
            continue
        ctx = node._ctx
        if ctx is _FREED:
            raise RuntimeError(
                "backward: this part of the graph was already freed by an earlier "
                "backward(); pass retain_graph=True to the first call to go through it twice"
            )
        input_grads = ctx.backward(g)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for parent, pg in zip(ctx.inputs, input_grads, strict=True):
            if pg is None or not parent.requires_grad:
                continue
            if pg.shape != parent.shape:  # internal invariant of every Function
                raise RuntimeError(
                    f"{type(ctx).__name__}.backward returned a gradient of shape {pg.shape} "
                    f"for an input of shape {parent.shape}"
                )
            if pg.dtype != parent.dtype:
                pg = pg.astype(parent.dtype)
            key = id(parent)
            grads[key] = pg if key not in grads else grads[key] + pg
        if not retain_graph:
            node._ctx = _FREED  # drop the saved arrays, keep "not a leaf"
    return reached


class _FreedGraph:
    """Marks a node whose Function was released by ``backward``."""

    inputs = ()


_FREED = _FreedGraph()


def _basic():
    from cnnlab.autograd import basic

    return basic


def _compare(a, b, name):
    a_data = a.data if isinstance(a, Tensor) else a
    b_data = b.data if isinstance(b, Tensor) else b
    xp = get_array_module(a_data, b_data)
    return Tensor._from_array(getattr(xp, name)(a_data, b_data))


def as_tensor(x, dtype=None) -> Tensor:
    """Return ``x`` if it is a Tensor, else a new constant Tensor (float32 by default)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, float | int) and not isinstance(x, bool) and dtype is None:
        # A Python number adopts the other operand's dtype through NumPy's promotion.
        return Tensor._from_array(np.asarray(x, dtype=DEFAULT_FLOAT))
    return Tensor(x, dtype=dtype)


def grad(output: Tensor, inputs, retain_graph: bool = False) -> list:
    """``d output / d leaf`` for each leaf tensor in ``inputs``, returned as arrays.

    The same chain rule as ``output.backward()``, but no ``.grad`` is read or written:
    two graphs built from the same weights (the shards of one batch, in two threads)
    can be differentiated at once. An input that ``output`` does not depend on gets
    ``None``.

    Args:
        output: a Tensor of one element that requires grad (a loss).
        inputs: a list of leaf Tensors (weights, or inputs made with requires_grad=True).
        retain_graph: keep the graph for another backward pass.

    Example:
        >>> w = Tensor([1.0, 2.0], requires_grad=True)
        >>> loss = (w * w).sum()
        >>> grad(loss, [w])
        [array([2., 4.], dtype=float32)]
        >>> w.grad is None
        True
    """
    if not isinstance(output, Tensor) or not output.requires_grad or output.data.size != 1:
        raise ValueError(
            "grad: output must be a one-element Tensor that requires grad. Received: "
            + (f"shape {output.shape}" if isinstance(output, Tensor) else type(output).__name__)
        )
    inputs = list(inputs)
    for i, leaf in enumerate(inputs):
        if not isinstance(leaf, Tensor) or leaf._ctx is not None:
            raise ValueError(
                f"grad: inputs must be leaf Tensors (not results of an operation). "
                f"Received a non-leaf at position {i}: {type(leaf).__name__}"
            )
    seed = get_array_module(output.data).ones_like(output.data)
    found = {id(t): g for t, g in _chain_rule(output, seed, retain_graph) if t._ctx is None}
    return [None if id(leaf) not in found else found[id(leaf)].copy() for leaf in inputs]


def _reduce(name, t, axis, keepdims, dtype, out):
    """``t.sum/mean/max/min``; ``dtype`` and ``out`` are what ``np.sum(t)`` and its kind pass."""
    if out is not None:
        raise TypeError(
            f"Tensor.{name}: out= is not supported, a reduction makes a new Tensor. "
            f"Received: out={type(out).__name__}"
        )
    result = getattr(_basic(), name)(t, axis=axis, keepdims=keepdims)
    return result if dtype is None else result.astype(dtype)
