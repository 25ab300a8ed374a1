"""keras.ops on arrays and Tensors: values against NumPy, Keras' dtype rules, and
float64 finite-difference gradient checks of the differentiable functions."""

import numpy as np
import pytest

from cnnlab import Tensor, gradcheck
from cnnlab.keras import ops

RNG = np.random.default_rng(0)
A = RNG.normal(size=(3, 4))
B = RNG.normal(size=(3, 4))
P = RNG.uniform(0.5, 2.0, size=(3, 4))


@pytest.mark.parametrize(
    ("fn", "reference", "args"),
    [
        (ops.add, np.add, (A, B)),
        (ops.subtract, np.subtract, (A, B)),
        (ops.multiply, np.multiply, (A, B)),
        (ops.divide, np.divide, (A, P)),
        (ops.maximum, np.maximum, (A, B)),
        (ops.minimum, np.minimum, (A, B)),
        (ops.power, np.power, (P, 3)),
        (ops.square, np.square, (A,)),
        (ops.sqrt, np.sqrt, (P,)),
        (ops.exp, np.exp, (A,)),
        (ops.log, np.log, (P,)),
        (ops.abs, np.abs, (A,)),
        (ops.tanh, np.tanh, (A,)),
        (ops.matmul, np.matmul, (A, B.T)),
        (ops.clip, np.clip, (A, -0.5, 0.5)),
        (ops.where, np.where, (A > 0, A, B)),
        (lambda x: ops.sum(x, axis=1), lambda x: np.sum(x, axis=1), (A,)),
        (lambda x: ops.mean(x, axis=0, keepdims=True), lambda x: x.mean(0, keepdims=True), (A,)),
        (lambda x: ops.max(x, axis=-1), lambda x: x.max(-1), (A,)),
        (lambda x: ops.var(x, axis=1), lambda x: x.var(1), (A,)),
        (lambda x: ops.std(x), np.std, (A,)),
        (lambda x: ops.cumsum(x, axis=1), lambda x: np.cumsum(x, axis=1), (A,)),
        (lambda x: ops.reshape(x, (4, 3)), lambda x: x.reshape(4, 3), (A,)),
        (lambda x: ops.transpose(x), np.transpose, (A,)),
        (lambda x: ops.expand_dims(x, 1), lambda x: np.expand_dims(x, 1), (A,)),
        (lambda x: ops.squeeze(x[:1]), lambda x: np.squeeze(x[:1]), (A,)),
        (lambda a, b: ops.concatenate([a, b], 1), lambda a, b: np.concatenate([a, b], 1), (A, B)),
        (lambda a, b: ops.stack([a, b], axis=1), lambda a, b: np.stack([a, b], 1), (A, B)),
        (lambda x: ops.tile(x, (2, 1)), lambda x: np.tile(x, (2, 1)), (A,)),
        (lambda x: ops.repeat(x, 2, axis=1), lambda x: np.repeat(x, 2, axis=1), (A,)),
        (lambda x: ops.flip(x, axis=1), lambda x: np.flip(x, 1), (A,)),
        (lambda x: ops.pad(x, ((1, 0), (2, 1))), lambda x: np.pad(x, ((1, 0), (2, 1))), (A,)),
        (lambda x: ops.take(x, [2, 0], axis=1), lambda x: np.take(x, [2, 0], axis=1), (A,)),
        (lambda x: ops.sort(x, axis=1), lambda x: np.sort(x, axis=1), (A,)),
        (lambda x: ops.broadcast_to(x[:1], (3, 4)), lambda x: np.broadcast_to(x[:1], (3, 4)), (A,)),
        (lambda x: ops.get_item(x, (slice(None), slice(None, None, -1))), np.fliplr, (A,)),
        (ops.relu, lambda x: np.maximum(x, 0), (A,)),
        (ops.sigmoid, lambda x: 1 / (1 + np.exp(-x)), (A,)),
        (ops.softplus, lambda x: np.log1p(np.exp(x)), (A,)),
        (ops.silu, lambda x: x / (1 + np.exp(-x)), (A,)),
        (ops.relu6, lambda x: np.clip(x, 0, 6), (A * 10,)),
        (ops.softmax, lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True), (A,)),
    ],
)
def test_values_match_numpy(fn, reference, args):
    got = ops.convert_to_numpy(fn(*args))
    np.testing.assert_allclose(got, reference(*args), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("fn", "inputs"),
    [
        (lambda a, b: ops.maximum(a, b) * ops.minimum(a, b), (A, B)),
        (lambda a, b: ops.where(a > 0, a * b, ops.square(b)), (A, B)),
        (lambda a: ops.clip(a, -0.5, 0.5), (A,)),
        (lambda a: ops.sqrt(a) + ops.log(a) + ops.reciprocal(a), (P,)),
        (lambda a: ops.sigmoid(a) + ops.tanh(a) + ops.softplus(a) + ops.silu(a), (A,)),
        (lambda a: ops.gelu(a) + ops.gelu(a, approximate=False) + ops.selu(a) + ops.elu(a), (A,)),
        (lambda a: ops.softsign(a) + ops.leaky_relu(a, 0.1) + ops.hard_sigmoid(a * 4), (A,)),
        (lambda a: ops.tile(a, (2, 3)) * 2.0, (A,)),
        (lambda a: ops.pad(a, ((1, 1), (0, 2)), constant_values=3.0), (A,)),
        (lambda a: ops.pad(a, ((1, 1), (2, 2)), mode="reflect"), (A,)),
        (lambda a: ops.take_along_axis(a, np.argsort(a, axis=1), axis=1), (A,)),
        (lambda a: ops.cumsum(a, axis=0) + ops.sort(a, axis=0), (A,)),
        (lambda a, b: ops.var(a, axis=1) * ops.std(b, axis=1), (A, P)),
        (lambda a, b: ops.power(b, a), (A, P)),
        (lambda a: ops.log_softmax(a, axis=0) + ops.softmax(a), (A,)),
        (lambda a, b: ops.norm(a - b, axis=1), (A, B)),
        (lambda a: ops.prod(a, axis=1), (P,)),
        (lambda a: ops.logsumexp(a, axis=1) + ops.log_sigmoid(a).sum(), (A,)),
        (lambda a: ops.top_k(a, 2)[0].sum() * 1.5 + ops.normalize(a, axis=0), (A,)),
    ],
)
def test_gradients_match_finite_differences(fn, inputs):
    result = gradcheck(fn, *inputs)
    assert result.ok, str(result)


def test_logsumexp_top_k_in_top_k_match_numpy():
    np.testing.assert_allclose(
        ops.convert_to_numpy(ops.logsumexp(A * 50, axis=-1)),
        np.log(np.sum(np.exp(A * 50), axis=-1)),
        rtol=1e-5,
    )
    values, indices = ops.top_k(A, 2)
    np.testing.assert_allclose(ops.convert_to_numpy(values), -np.sort(-A, axis=-1)[:, :2])
    assert ops.convert_to_numpy(indices).dtype == np.int32
    hits = ops.in_top_k(np.argmin(A, axis=-1), A, 1)
    assert not ops.convert_to_numpy(hits).any()
    np.testing.assert_allclose(
        ops.convert_to_numpy(ops.normalize(A)),
        A / np.linalg.norm(A, axis=-1, keepdims=True),
        rtol=1e-5,
    )


def test_dtype_rules_follow_keras():
    assert ops.convert_to_tensor([1, 2]).dtype == np.int32
    assert ops.convert_to_tensor(1.5).dtype == np.float32
    assert ops.convert_to_tensor(np.ones(2)).dtype == np.float64
    ints = ops.arange(4)
    assert ints.dtype == np.int32
    assert (ints + 1.5).dtype == np.float32  # a Python number takes the tensor's float type
    assert ops.add(ints, np.ones(4, np.float32)).dtype == np.float32  # not float64
    assert ops.divide(ints, 2).dtype == np.float32
    assert ops.mean(ints).dtype == np.float32
    assert ops.argmax(np.eye(3), axis=-1).dtype == np.int32
    assert ops.cast(Tensor([1.7, -2.2]), "int32").numpy().tolist() == [1, -2]
    assert ops.equal([1, 2], [1, 3]).numpy().tolist() == [True, False]


def test_one_hot_and_crossentropy_match_keras_definitions():
    labels = np.array([2, 0, 5])
    encoded = ops.convert_to_numpy(ops.one_hot(labels, 3))
    np.testing.assert_array_equal(encoded, [[0, 0, 1], [1, 0, 0], [0, 0, 0]])  # 5 is out of range
    logits = RNG.normal(size=(2, 3))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    got = ops.sparse_categorical_crossentropy(np.array([1, 2]), logits, from_logits=True)
    np.testing.assert_allclose(ops.convert_to_numpy(got), -np.log(probs[[0, 1], [1, 2]]), rtol=1e-5)
    target = np.array([[1.0, 0.0]])
    out = np.array([[0.8, 0.3]])
    bce = ops.binary_crossentropy(target, out)
    expected = -(target * np.log(out) + (1 - target) * np.log(1 - out))
    np.testing.assert_allclose(ops.convert_to_numpy(bce), expected, rtol=1e-5)
    bce_logits = ops.binary_crossentropy(target, np.log(out / (1 - out)), from_logits=True)
    np.testing.assert_allclose(ops.convert_to_numpy(bce_logits), expected, rtol=1e-5)


def test_conv_and_pool_use_the_lesson_ops():
    from cnnlab import ops as lesson

    x = RNG.normal(size=(2, 6, 6, 3))
    k = RNG.normal(size=(3, 3, 3, 4))
    np.testing.assert_allclose(
        ops.convert_to_numpy(ops.conv(x, k, padding="same")),
        lesson.conv2d(x, k, padding="same").numpy(),
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(ops.max_pool(x, 2)), lesson.max_pool(x, 2).numpy()
    )


def test_ops_train_a_custom_weight():
    w = Tensor(np.zeros(3), requires_grad=True)
    x = RNG.normal(size=(8, 3))
    y = x @ np.array([1.0, -2.0, 0.5])
    for _ in range(200):
        loss = ops.mean(ops.square(ops.matmul(x, w) - y))
        w.grad = None
        loss.backward()
        w.data -= 0.1 * w.grad
    np.testing.assert_allclose(w.data, [1.0, -2.0, 0.5], atol=1e-3)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="dtype"):
        ops.ones((2,), dtype=object)
    with pytest.raises(ValueError, match="ord"):
        ops.norm(A, ord=3)
    with pytest.raises(ValueError, match="x1 and x2"):
        ops.where(A > 0, A)
    with pytest.raises(TypeError, match="numbers"):
        ops.convert_to_tensor(["a", "b"])
