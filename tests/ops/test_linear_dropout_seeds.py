"""Seeds of the random ops (dropout, stochastic pooling): one rule, one message."""

import numpy as np
import pytest

from cnnlab.ops import dropout, stochastic_pool


@pytest.mark.parametrize(
    "call",
    [
        lambda seed: dropout(np.ones((4, 8)), 0.5, training=True, seed=seed),
        lambda seed: stochastic_pool(
            np.arange(1.0, 65).reshape(1, 8, 8, 1), 2, training=True, seed=seed
        ),
    ],
)
def test_seed_forms(call):
    first = call(np.random.default_rng(5)).numpy()
    np.testing.assert_array_equal(first, call(np.random.default_rng(5)).numpy())
    np.testing.assert_array_equal(call(3).numpy(), call(3).numpy())
    assert not np.array_equal(call(3).numpy(), call(4).numpy())  # the seed matters
    with pytest.raises(TypeError, match=r"seed must be None, an int or a numpy\.random\.Gen"):
        call("x")


def test_dropout_names_itself_for_bad_data():
    with pytest.raises(TypeError, match=r"^dropout: x must hold real numbers"):
        dropout(["a"], 0.5, training=True)
    assert dropout(np.arange(4), 0.5, training=True, seed=0).dtype == np.float32
