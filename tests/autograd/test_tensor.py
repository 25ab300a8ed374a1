"""Tensor: dtype rules, the basic ops' gradients against PyTorch, graph mechanics."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cnnlab
from cnnlab import Tensor, gradcheck, no_grad
from cnnlab.autograd import is_grad_enabled


def torch_grads(fn, *arrays, grad=None):
    """Value and input gradients of ``fn`` computed by PyTorch (float64)."""
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    out.backward(torch.ones_like(out) if grad is None else torch.tensor(grad))
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


def our_grads(fn, *arrays, grad=None):
    tensors = [Tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*tensors)
    out.backward(np.ones(out.shape) if grad is None else grad)
    return out.numpy(), [t.grad for t in tensors]


def assert_same_as_torch(ours, theirs, *arrays, grad=None):
    value, grads = our_grads(ours, *arrays, grad=grad)
    ref_value, ref_grads = torch_grads(theirs, *arrays, grad=grad)
    np.testing.assert_allclose(value, ref_value, rtol=1e-10, atol=1e-12)
    for g, ref in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(g, ref, rtol=1e-10, atol=1e-12)


# ---- dtype rules ------------------------------------------------------------------------
def test_dtype_rules():
    assert Tensor([1.0, 2.0]).dtype == np.float32  # Python floats: float32 by default
    assert Tensor(2.5).dtype == np.float32
    assert Tensor(np.zeros(3)).dtype == np.float64  # a float64 array stays float64
    assert Tensor(np.zeros(3, dtype=np.float32)).dtype == np.float32
    assert Tensor([1, 2, 3]).dtype == np.float32  # ints become float32
    assert Tensor(np.arange(3)).dtype == np.float32
    assert Tensor(np.array([True, False])).dtype == np.bool_
    assert Tensor([1.0], dtype="float64").dtype == np.float64
    assert Tensor(np.zeros(2), dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="dtype must be a floating dtype"):
        Tensor([1], dtype="int32")
    with pytest.raises(TypeError, match="must be numeric"):
        Tensor(["a", "b"])
    with pytest.raises(TypeError, match="must be numeric"):  # not a bare NumPy ValueError
        Tensor(["a", "b"], dtype="float64")
    with pytest.raises(TypeError, match="must be array-like numbers"):
        Tensor([[1.0], [2.0, 3.0]], dtype="float32")
    with pytest.raises(TypeError, match="only floating tensors can require grad"):
        Tensor(np.array([True]), requires_grad=True)


def test_python_scalars_keep_the_tensor_dtype():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    for y in (x + 2.5, 2.5 + x, x * 3, 1 / x, x - 1, 1 - x, x**2, -x, x / 2.0):
        assert y.dtype == np.float32
    (x * 0.5).sum().backward()
    assert x.grad.dtype == np.float32


def test_array_protocol_and_numpy():
    data = np.arange(6.0).reshape(2, 3)
    t = Tensor(data)
    assert t.numpy() is t.data
    assert np.asarray(t) is t.data
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    np.testing.assert_array_equal(np.add(t, 1), data + 1)
    assert Tensor([3.0]).item() == 3.0
    assert "requires_grad=True" in repr(Tensor([1.0], requires_grad=True))


def test_comparisons_return_bool_without_grad():
    x = Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    for result, expected in [
        (x > 0, [False, False, True]),
        (x >= 0, [False, True, True]),
        (x < 0, [True, False, False]),
        (x <= 0, [True, True, False]),
        (x == 0, [False, True, False]),
        (x != 0, [True, False, True]),
        (x > Tensor(np.array([-2.0, 1.0, 1.0])), [True, False, True]),
    ]:
        assert result.dtype == np.bool_ and not result.requires_grad
        np.testing.assert_array_equal(result.numpy(), expected)


# ---- elementwise arithmetic with broadcasting -------------------------------------------
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
    seed=st.integers(0, 99),
)
def test_broadcasting_binary_ops_match_torch(name, shapes, seed):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 2, shapes.input_shapes[0]) * rng.choice([-1, 1], shapes.input_shapes[0])
    b = rng.uniform(0.5, 2, shapes.input_shapes[1]) * rng.choice([-1, 1], shapes.input_shapes[1])
    g = rng.standard_normal(shapes.result_shape)
    assert_same_as_torch(*BINARY[name], a, b, grad=g)


@pytest.mark.parametrize(
    "shapes",
    [
        ((3,), (3,)),
        ((3,), (3, 2)),
        ((2, 3), (3,)),
        ((2, 3), (3, 4)),
        ((5, 2, 3), (3, 4)),
        ((5, 2, 3), (5, 3, 4)),
        ((5, 2, 3), (3,)),
        ((3,), (5, 3, 4)),
    ],
)
def test_matmul_matches_torch(shapes, rng):
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    assert_same_as_torch(
        lambda x, y: x @ y, torch.matmul, a, b, grad=rng.standard_normal(np.matmul(a, b).shape)
    )


def test_matmul_shape_error():
    with pytest.raises(ValueError, match=r"matmul: inner sizes differ: \(2, 3\) @ \(4, 5\)"):
        Tensor(np.zeros((2, 3))) @ Tensor(np.zeros((4, 5)))


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda x: x.exp(), torch.exp),
        (lambda x: x.log(), torch.log),
        (lambda x: x.sqrt(), torch.sqrt),
        (lambda x: (x - 1.5).abs(), lambda x: (x - 1.5).abs()),
        (lambda x: x**3, lambda x: x**3),
        (lambda x: x**0.5, lambda x: x**0.5),
        (lambda x: -x, lambda x: -x),
        (lambda x: x.reshape(3, 2), lambda x: x.reshape(3, 2)),
        (lambda x: x.flatten(), lambda x: x.flatten()),
        (lambda x: x.T, lambda x: x.T),
        (lambda x: x.transpose(-1, 0), lambda x: x.permute(-1, 0)),
        (lambda x: x[:, 1:], lambda x: x[:, 1:]),
        (lambda x: x[x.numpy() > 1], lambda x: x[x > 1]),
    ],
)
def test_unary_and_shape_ops_match_torch(ours, theirs, rng):
    x = rng.uniform(0.5, 2.5, (2, 3))
    out = np.asarray(ours(Tensor(x)))
    assert_same_as_torch(ours, theirs, x, grad=rng.standard_normal(out.shape))


def test_getitem_with_repeated_fancy_indices_accumulates(rng):
    x = rng.standard_normal((4, 3))
    g = rng.standard_normal((5, 3))
    idx = [0, 2, 0, 0, 3]
    assert_same_as_torch(lambda t: t[idx], lambda t: t[idx], x, grad=g)
    assert_same_as_torch(
        lambda t: t[Tensor(np.array(idx)).numpy().astype(int), 1],
        lambda t: t[idx, 1],
        x,
        grad=g[:, 0],
    )
    _, (grad,) = our_grads(lambda t: t[[1, 1, 1]].sum(), np.zeros(3))
    np.testing.assert_array_equal(grad, [0, 3, 0])


def test_astype_round_trip_gradient_dtypes():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = x.astype("float64")
    assert y.dtype == np.float64
    (y * 2).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2, 2, 2])


# ---- reductions -------------------------------------------------------------------------
AXES = [None, 0, 1, -1, (0, 2), (0, 1, 2)]


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_reductions_match_torch_including_ties(name, axis, keepdims, rng):
    x = rng.integers(0, 3, (2, 3, 4)).astype(np.float64)  # many ties for max/min
    dim = tuple(range(3)) if axis is None else axis
    torch_fn = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax, "min": torch.amin}[name]
    out_shape = getattr(x, name)(axis=axis, keepdims=keepdims).shape
    assert_same_as_torch(
        lambda t: getattr(t, name)(axis=axis, keepdims=keepdims),
        lambda t: torch_fn(t, dim=dim, keepdim=keepdims),
        x,
        grad=rng.standard_normal(out_shape),
    )


def test_max_tie_splits_gradient_evenly():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


# ---- concatenate / stack ----------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack_match_torch(axis, rng):
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    cat_shape = np.concatenate([a, b, c], axis=axis).shape
    assert_same_as_torch(
        lambda *t: cnnlab.concatenate(t, axis=axis),
        lambda *t: torch.cat(t, dim=axis),
        a,
        b,
        c,
        grad=rng.standard_normal(cat_shape),
    )
    stack_shape = np.stack([a, b, c], axis=axis).shape
    assert_same_as_torch(
        lambda *t: cnnlab.stack(t, axis=axis),
        lambda *t: torch.stack(t, dim=axis),
        a,
        b,
        c,
        grad=rng.standard_normal(stack_shape),
    )
    with pytest.raises(ValueError, match="stack: all tensors must have the same shape"):
        cnnlab.stack([a, a[:, :2]])


# ---- graph mechanics --------------------------------------------------------------------
def test_a_tensor_used_twice_accumulates():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.numpy() + 1)
    y = x * 2
    (y + y * y).sum().backward()  # diamond through a shared intermediate; adds to .grad
    np.testing.assert_allclose(x.grad, 2 * x.numpy() + 1 + 2 + 8 * x.numpy())


def test_leaf_gradients_are_not_shared_arrays():
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    a.grad *= 10  # an in-place update of one gradient (clipping, weight decay ...)
    np.testing.assert_array_equal(b.grad, [1, 1, 1])


def test_deep_graph_has_no_recursion_error():
    x = Tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0 + 0.5
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0])
    z = x
    for _ in range(20_000):
        z = z + 1.0
    del z  # freeing an un-differentiated deep graph must not crash either


def test_no_grad_records_nothing():
    x = Tensor(np.ones(2), requires_grad=True)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        with no_grad():
            pass
        assert not is_grad_enabled()  # the inner block restored the outer state
        y = x * 2
    assert is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_as_a_decorator_and_after_an_error():
    x = Tensor(np.ones(2), requires_grad=True)

    @no_grad()
    def doubled(t):
        """Docstring kept."""
        assert not is_grad_enabled()
        return t * 2

    assert not doubled(x).requires_grad and doubled.__doc__ == "Docstring kept."
    assert is_grad_enabled()
    with pytest.raises(KeyError), no_grad():
        raise KeyError("inside")
    assert is_grad_enabled()  # restored on the way out of an error
    with pytest.raises(TypeError, match=r"decorates a function\. Received 3"):
        no_grad()(3)


def test_backward_errors_and_retain_graph():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * x
    with pytest.raises(ValueError, match="grad can be omitted only for a tensor of one element"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad must have the tensor's shape \(2,\)"):
        y.backward(np.ones(3))
    loss = y.sum()
    loss.backward(retain_graph=True)
    loss.backward()  # retained: runs again and accumulates
    np.testing.assert_array_equal(x.grad, 2 * 2 * x.numpy())
    with pytest.raises(RuntimeError, match="already freed"):
        loss.backward()


def test_detach_retain_grad_and_zero_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 3
    h.retain_grad()
    d = h.detach()
    assert not d.requires_grad and d.is_leaf and not h.is_leaf
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad, 2 * h.numpy())
    np.testing.assert_array_equal(x.grad, 3 * 2 * h.numpy())
    x.zero_grad()
    assert x.grad is None


def test_gradcheck_on_a_composite_graph(rng):
    def composite(a, b):
        hidden = (a @ b).exp() / (a * a).sum(axis=1, keepdims=True)
        return (hidden.max(axis=0) + hidden.mean(axis=1).reshape(1, -1).T.sum()).sqrt()

    assert gradcheck(composite, rng.uniform(0.1, 1, (3, 4)), rng.uniform(-1, 1, (4, 2)))


def test_one_element_tensors_format_as_numbers():
    loss = Tensor(np.array([[0.123456]], "float32"))
    assert f"loss: {loss:.2f}" == "loss: 0.12" and f"{Tensor(3.0):>5.1f}" == "  3.0"
    assert f"{Tensor([1.0, 2.0])}" == repr(Tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="format"):
        f"{Tensor([1.0, 2.0]):.2f}"


def test_numpy_reductions_take_tensors_and_keep_the_graph():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    mean = np.mean(t)
    assert isinstance(mean, Tensor) and float(mean.data) == 2.5
    mean.backward()
    np.testing.assert_allclose(t.grad, np.full((2, 3), 1 / 6))
    np.testing.assert_array_equal(np.sum(t, axis=0).data, [3.0, 5.0, 7.0])
    assert float(np.max(t).data) == 5.0 and np.min(t, axis=1, keepdims=True).shape == (2, 1)
    assert np.mean(t, dtype="float32").dtype == np.float32
    with pytest.raises(TypeError, match=r"Tensor.sum: out= is not supported.*ndarray"):
        np.sum(t, out=np.zeros(()))
