"""keras.ops.einsum against torch.einsum (forward and every operand's gradient),
finite differences, and as a graph node of a functional model."""

import numpy as np
import pytest
import torch

from cnnlab import Tensor, gradcheck, keras
from cnnlab.keras import ops

CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bhwc,cd->bhwd", [(2, 3, 3, 4), (4, 6)]),
    ("...ij->...ji", [(2, 3, 4, 5)]),
    ("b...c,c->b...", [(2, 3, 4, 5), (5,)]),
    ("ii->", [(4, 4)]),
    ("ii->i", [(4, 4)]),
    ("iji->j", [(3, 2, 3)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,jk", [(3, 4), (4, 2)]),
    ("ba", [(3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bqhd,bkhd->bhqk", [(2, 5, 2, 3), (2, 4, 2, 3)]),
    ("ij,kl->", [(2, 3), (4, 1)]),
]


@pytest.mark.parametrize("spec, shapes", CASES)
def test_forward_and_gradients_match_torch(spec, shapes):
    rng = np.random.default_rng(len(spec))
    arrays = [rng.standard_normal(s) for s in shapes]
    mine = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = ops.einsum(spec, *mine)
    y_t = torch.einsum(spec, *theirs)
    np.testing.assert_allclose(y.numpy(), y_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(tuple(y_t.shape))
    y.backward(g)
    y_t.backward(torch.tensor(g))
    for a, b in zip(mine, theirs, strict=True):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_gradcheck_and_dtypes():
    rng = np.random.default_rng(0)
    assert gradcheck(
        lambda a, b: ops.einsum("bij,jk->bik", a, b),
        rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 2)),
    )  # fmt: skip
    assert gradcheck(lambda a: ops.einsum("ii->i", a), rng.standard_normal((3, 3)))
    f32 = ops.einsum("ij,jk->ik", np.ones((2, 2), "float32"), np.ones((2, 2), "int32"))
    assert f32.dtype == np.float32  # int meets float: the float type, as Keras
    assert ops.einsum("i,i->", np.arange(3), np.arange(3)).numpy() == 5


def test_einsum_in_a_functional_model_trains_and_round_trips(tmp_path):
    keras.backend.clear_session()
    inputs = keras.Input((5, 3))
    projected = keras.layers.Dense(4)(inputs)
    gram = ops.einsum("btc,bsc->bts", projected, projected)  # a graph node
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(gram))
    model = keras.Model(inputs, outputs)
    assert tuple(gram.shape) == (None, 5, 5)
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((16, 5, 3)).astype("float32"), rng.standard_normal((16, 1))
    model.compile("adam", "mse")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=5, batch_size=4, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
    path = tmp_path / "einsum.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5)  # fmt: skip


def test_bad_subscripts_are_named():
    with pytest.raises(ValueError, match="name 2 operands but 1 were given"):
        ops.einsum("ij,jk->ik", np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"do not match an operand of shape \(2, 2, 2\)"):
        ops.einsum("ij->i", np.ones((2, 2, 2)))
    with pytest.raises(TypeError, match="subscripts must be a string"):
        ops.einsum(3, np.ones(2))
