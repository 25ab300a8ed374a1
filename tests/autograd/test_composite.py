"""gradcheck through whole small networks: conv -> activation -> pool -> dense -> loss.

Each op has its own gradcheck; these check that the ops compose, i.e. that every
backward accepts the gradient its successor produces (shapes, layouts, dtypes) and that
the chain rule through reshapes and pooling windows is right end to end.
"""

import numpy as np
import pytest

from cnnlab import Tensor, gradcheck, ops


def _input(rng, shape):
    # Values well away from 0 and distinct, so no ReLU kink or max-pool tie sits within
    # the finite-difference step of any input.
    return rng.uniform(0.2, 1.0, shape) * rng.choice([-1.0, 1.0], shape)


def _convnet(x, kernel, bias, dense_kernel, dense_bias):
    """The lecture's convnet in miniature, written with cnnlab.ops only."""
    h = ops.conv2d(x, kernel, bias)  # (2, 6, 6, 2) -> (2, 4, 4, 3)
    h = ops.relu(h)
    h = ops.max_pool(h, 2)  # -> (2, 2, 2, 3)
    h = h.reshape(h.shape[0], -1)  # -> (2, 12)
    logits = ops.dense(h, dense_kernel, dense_bias)  # -> (2, 4)
    return ops.sparse_categorical_crossentropy([1, 3], logits, from_logits=True).mean()


def test_conv_relu_pool_dense_loss(rng):
    result = gradcheck(
        _convnet,
        _input(rng, (2, 6, 6, 2)),
        _input(rng, (3, 3, 2, 3)),
        _input(rng, (3,)),
        _input(rng, (12, 4)),
        _input(rng, (4,)),
    )
    assert result.ok and result.max_relative_error < 1e-5


def test_reports_the_parameter_whose_gradient_is_broken(rng):
    """The composite check localises a wrong gradient: detaching the dense kernel makes
    its analytic gradient zero, and the report names that input."""

    def broken(x, kernel, bias, dense_kernel, dense_bias):
        return _convnet(x, kernel, bias, Tensor(dense_kernel.numpy()), dense_bias)

    inputs = [_input(rng, s) for s in [(2, 6, 6, 2), (3, 3, 2, 3), (3,), (12, 4), (4,)]]
    result = gradcheck(broken, *inputs, raise_exception=False)
    assert not result.ok and result.input_index == 3
    with pytest.raises(AssertionError, match=r"worst relative error .* at input 3, position"):
        gradcheck(broken, *inputs)


def test_strided_same_conv_elu_avg_pool_softmax_categorical(rng):
    """Keras "same" with stride 2 on an odd size (the extra pad row goes at the bottom),
    channels_first, average pooling, softmax probabilities and categorical crossentropy."""
    y_true = np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])

    def net(x, kernel, dense_kernel):
        h = ops.conv2d(x, kernel, strides=2, padding="same", data_format="channels_first")
        h = ops.elu(h)  # (2, 3, 4, 4)
        h = ops.avg_pool(h, 2, data_format="channels_first")  # (2, 3, 2, 2)
        probs = ops.softmax(ops.dense(h.reshape(2, -1), dense_kernel))
        return ops.categorical_crossentropy(y_true, probs)

    assert gradcheck(
        net, _input(rng, (2, 2, 7, 7)), _input(rng, (3, 3, 2, 3)), _input(rng, (12, 3))
    )


def test_padding_modes_depthwise_lp_pool_and_dropout(rng):
    """Copying padding (symmetric), a depthwise convolution, L2 pooling, seeded dropout
    and a mean squared error: every op that routes gradients through index maps."""

    def net(x, depthwise_kernel, dense_kernel):
        h = ops.pad(x, ((0, 0), (1, 2), (2, 1), (0, 0)), mode="symmetric")
        h = ops.depthwise_conv2d(h, depthwise_kernel)  # (1, 6, 6, 4)
        h = ops.tanh(h)
        h = ops.lp_pool(h, 3, p=2)  # (1, 2, 2, 4)
        h = ops.dropout(h, 0.25, training=True, seed=7)
        out = ops.dense(h.reshape(1, -1), dense_kernel)
        return ops.mean_squared_error([[0.5, -1.0]], out)

    assert gradcheck(
        net, _input(rng, (1, 5, 5, 2)), _input(rng, (2, 2, 2, 2)), _input(rng, (16, 2))
    )


def test_stochastic_and_min_pool_in_a_graph(rng):
    """Stochastic pooling (training draws are seeded, so the graph is deterministic) and
    min pooling feeding one loss."""

    def net(x, kernel):
        h = ops.relu(ops.conv2d(x, kernel, padding=1))  # (1, 4, 4, 2)
        drawn = ops.stochastic_pool(h, 2, training=True, seed=3)
        smallest = ops.min_pool(h, 2)
        return (drawn * smallest).sum() + ops.stochastic_pool(h, 2).sum()

    assert gradcheck(net, _input(rng, (1, 4, 4, 1)), _input(rng, (3, 3, 1, 2)))
