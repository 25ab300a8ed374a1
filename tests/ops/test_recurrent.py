"""Recurrent ops and embedding against PyTorch's nn.RNN/nn.LSTM/nn.GRU/nn.Embedding (forward
and backward of inputs, initial states and every weight, with PyTorch's weights mapped to
Keras' layout), finite differences, and a plain loop for masking."""

import numpy as np
import pytest
import torch

from cnnlab import Tensor, gradcheck
from cnnlab.ops.embedding import embedding
from cnnlab.ops.recurrent import gru, lstm, simple_rnn

N, T, F, U = 3, 5, 4, 6


def _tol(dtype):
    return {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-5}


def _torch_dtype(dtype):
    return torch.float64 if dtype == np.float64 else torch.float32


def _run_torch(module, x, h0, g_out, g_state):
    """Forward and backward through a PyTorch recurrent module (batch_first)."""
    xt = torch.tensor(x, requires_grad=True)
    states = [torch.tensor(s[None], requires_grad=True) for s in h0]
    out, final = module(xt, states[0] if len(states) == 1 else tuple(states))
    loss = (out * torch.tensor(g_out)).sum()
    finals = [final] if len(states) == 1 else list(final)
    for f, g in zip(finals, g_state, strict=True):
        loss = loss + (f[0] * torch.tensor(g)).sum()
    loss.backward()
    return out.detach().numpy(), xt.grad.numpy(), [s.grad.numpy()[0] for s in states]


def _gates(w, order):
    """PyTorch's stacked gate blocks reordered (``order`` lists PyTorch block indices)."""
    blocks = np.split(w, len(order), axis=0)
    return np.concatenate([blocks[i] for i in order], axis=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lstm_matches_torch(dtype):
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    module = torch.nn.LSTM(F, U, batch_first=True).to(_torch_dtype(dtype))
    x = rng.standard_normal((N, T, F)).astype(dtype)
    h0, c0 = (rng.standard_normal((N, U)).astype(dtype) for _ in range(2))
    g_out, g_h, g_c = (rng.standard_normal(s).astype(dtype) for s in [(N, T, U), (N, U), (N, U)])
    ref_out, ref_dx, (ref_dh, ref_dc) = _run_torch(module, x, (h0, c0), g_out, (g_h, g_c))
    # PyTorch's gates i, f, g, o are Keras' i, f, c, o: the same order, transposed
    kernel = Tensor(module.weight_ih_l0.detach().numpy().T, requires_grad=True)
    rec = Tensor(module.weight_hh_l0.detach().numpy().T, requires_grad=True)
    bias = Tensor((module.bias_ih_l0 + module.bias_hh_l0).detach().numpy(), requires_grad=True)
    xs, hs, cs = (Tensor(a, requires_grad=True) for a in (x, h0, c0))
    out = lstm(xs, kernel, rec, bias, initial_state=[hs, cs])
    g = np.zeros(out.shape, dtype)
    g[..., :U] = g_out
    g[:, -1, :U] += g_h
    g[:, -1, U:] += g_c
    out.backward(g)
    tol = _tol(dtype)
    np.testing.assert_allclose(out.numpy()[..., :U], ref_out, **tol)
    for ours, theirs in [(xs, ref_dx), (hs, ref_dh), (cs, ref_dc)]:
        np.testing.assert_allclose(ours.grad, theirs, **tol)
    np.testing.assert_allclose(kernel.grad, module.weight_ih_l0.grad.numpy().T, **tol)
    np.testing.assert_allclose(rec.grad, module.weight_hh_l0.grad.numpy().T, **tol)
    np.testing.assert_allclose(bias.grad, module.bias_hh_l0.grad.numpy(), **tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gru_reset_after_matches_torch(dtype):
    rng = np.random.default_rng(1)
    torch.manual_seed(1)
    module = torch.nn.GRU(F, U, batch_first=True).to(_torch_dtype(dtype))
    x = rng.standard_normal((N, T, F)).astype(dtype)
    h0 = rng.standard_normal((N, U)).astype(dtype)
    g_out, g_h = rng.standard_normal((N, T, U)).astype(dtype), rng.standard_normal((N, U))
    ref_out, ref_dx, (ref_dh,) = _run_torch(module, x, (h0,), g_out, (g_h.astype(dtype),))
    # PyTorch stacks r, z, n; Keras z, r, h: blocks (1, 0, 2)
    order = (1, 0, 2)
    kernel = Tensor(_gates(module.weight_ih_l0.detach().numpy(), order).T, requires_grad=True)
    rec = Tensor(_gates(module.weight_hh_l0.detach().numpy(), order).T, requires_grad=True)
    b = [_gates(getattr(module, n).detach().numpy(), order) for n in ("bias_ih_l0", "bias_hh_l0")]
    bias = Tensor(np.stack(b), requires_grad=True)
    xs, hs = Tensor(x, requires_grad=True), Tensor(h0, requires_grad=True)
    out = gru(xs, kernel, rec, bias, initial_state=hs)
    g = g_out.copy()
    g[:, -1] += g_h.astype(dtype)
    out.backward(g)
    tol = _tol(dtype)
    np.testing.assert_allclose(out.numpy(), ref_out, **tol)
    np.testing.assert_allclose(xs.grad, ref_dx, **tol)
    np.testing.assert_allclose(hs.grad, ref_dh, **tol)
    np.testing.assert_allclose(
        kernel.grad, _gates(module.weight_ih_l0.grad.numpy(), order).T, **tol
    )
    np.testing.assert_allclose(rec.grad, _gates(module.weight_hh_l0.grad.numpy(), order).T, **tol)
    ref_db = [_gates(getattr(module, n).grad.numpy(), order) for n in ("bias_ih_l0", "bias_hh_l0")]
    np.testing.assert_allclose(bias.grad, np.stack(ref_db), **tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_simple_rnn_matches_torch(dtype, activation):
    rng = np.random.default_rng(2)
    torch.manual_seed(2)
    module = torch.nn.RNN(F, U, nonlinearity=activation, batch_first=True).to(_torch_dtype(dtype))
    x = rng.standard_normal((N, T, F)).astype(dtype)
    h0 = rng.standard_normal((N, U)).astype(dtype)
    g_out = rng.standard_normal((N, T, U)).astype(dtype)
    ref_out, ref_dx, (ref_dh,) = _run_torch(module, x, (h0,), g_out, (np.zeros((N, U), dtype),))
    kernel = Tensor(module.weight_ih_l0.detach().numpy().T, requires_grad=True)
    rec = Tensor(module.weight_hh_l0.detach().numpy().T, requires_grad=True)
    bias = Tensor((module.bias_ih_l0 + module.bias_hh_l0).detach().numpy(), requires_grad=True)
    xs, hs = Tensor(x, requires_grad=True), Tensor(h0, requires_grad=True)
    out = simple_rnn(xs, kernel, rec, bias, initial_state=hs, activation=activation)
    out.backward(g_out)
    tol = _tol(dtype)
    np.testing.assert_allclose(out.numpy(), ref_out, **tol)
    np.testing.assert_allclose(xs.grad, ref_dx, **tol)
    np.testing.assert_allclose(hs.grad, ref_dh, **tol)
    np.testing.assert_allclose(kernel.grad, module.weight_ih_l0.grad.numpy().T, **tol)
    np.testing.assert_allclose(rec.grad, module.weight_hh_l0.grad.numpy().T, **tol)
    np.testing.assert_allclose(bias.grad, module.bias_hh_l0.grad.numpy(), **tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_embedding_matches_torch_with_repeated_ids(dtype):
    rng = np.random.default_rng(3)
    table = rng.standard_normal((7, 4)).astype(dtype)
    ids = np.array([[1, 3, 1], [6, 0, 1]])
    g = rng.standard_normal((2, 3, 4)).astype(dtype)
    ours = Tensor(table, requires_grad=True)
    out = embedding(ids, ours)
    out.backward(g)
    theirs = torch.tensor(table, requires_grad=True)
    ref = torch.nn.functional.embedding(torch.tensor(ids), theirs)
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **_tol(dtype))
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), **_tol(dtype))


# ---- finite differences, including masks, recurrent dropout masks and other activations --
MASK = np.array([[1, 1, 0, 1, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 1]], bool)


def _weights(rng, gates, bias_shape):
    return (
        rng.standard_normal((F, gates * U)) * 0.5,
        rng.standard_normal((U, gates * U)) * 0.5,
        rng.standard_normal(bias_shape) * 0.5,
    )


@pytest.mark.parametrize("ract", ["sigmoid", "hard_sigmoid"])
def test_lstm_gradcheck_with_mask_and_recurrent_dropout(ract):
    rng = np.random.default_rng(4)
    x, h0, c0 = rng.standard_normal((N, T, F)), *rng.standard_normal((2, N, U))
    rd = (rng.random((N, U)) > 0.3) / 0.7
    gradcheck(
        lambda x, h, c, k, r, b: lstm(x, k, r, b, initial_state=[h, c], mask=MASK,
                                      recurrent_activation=ract, recurrent_mask=rd),
        x, h0, c0, *_weights(rng, 4, (4 * U,)),
    )  # fmt: skip


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_gradcheck_both_variants_with_mask(reset_after):
    rng = np.random.default_rng(5)
    x, h0 = rng.standard_normal((N, T, F)), rng.standard_normal((N, U))
    rd = (rng.random((N, U)) > 0.3) / 0.7
    bias_shape = (2, 3 * U) if reset_after else (3 * U,)
    gradcheck(
        lambda x, h, k, r, b: gru(x, k, r, b, initial_state=h, mask=MASK,
                                  reset_after=reset_after, recurrent_mask=rd),
        x, h0, *_weights(rng, 3, bias_shape),
    )  # fmt: skip


def test_simple_rnn_gradcheck_with_mask():
    rng = np.random.default_rng(6)
    x, h0 = rng.standard_normal((N, T, F)), rng.standard_normal((N, U))
    gradcheck(
        lambda x, h, k, r, b: simple_rnn(x, k, r, b, initial_state=h, mask=MASK),
        x, h0, *_weights(rng, 1, (U,)),
    )  # fmt: skip


def test_embedding_gradcheck():
    ids = np.array([[0, 2, 2], [1, 0, 4]])
    gradcheck(lambda t: embedding(ids, t), np.random.default_rng(7).standard_normal((5, 3)))


# ---- masking against a plain loop: a masked step leaves the state as it was --------------
def _loop_gru(x, h, kernel, rec, bias, mask):
    """One example at a time, skipping masked steps (Keras' rule), reset_after=True."""
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    out = []
    for n in range(x.shape[0]):
        state, seq = h[n].copy(), []
        for t in range(x.shape[1]):
            if mask[n, t]:
                xw, hr = x[n, t] @ kernel + bias[0], state @ rec + bias[1]
                z, r = sig(xw[:U] + hr[:U]), sig(xw[U : 2 * U] + hr[U : 2 * U])
                cand = np.tanh(xw[2 * U :] + r * hr[2 * U :])
                state = z * state + (1 - z) * cand
            seq.append(state.copy())
        out.append(seq)
    return np.array(out)


def test_gru_mask_matches_plain_loop():
    rng = np.random.default_rng(8)
    x, h0 = rng.standard_normal((N, T, F)), rng.standard_normal((N, U))
    k, r, b = _weights(rng, 3, (2, 3 * U))
    ours = gru(x, k, r, b, initial_state=h0, mask=MASK).numpy()
    np.testing.assert_allclose(ours, _loop_gru(x, h0, k, r, b, MASK), rtol=1e-12, atol=1e-12)


def test_lstm_mask_equals_running_only_the_real_steps():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((1, T, F))
    k, r, b = _weights(rng, 4, (4 * U,))
    mask = np.array([[1, 0, 1, 0, 1]], bool)
    masked = lstm(x, k, r, b, mask=mask).numpy()[0, -1]
    kept = lstm(x[:, mask[0]], k, r, b).numpy()[0, -1]
    np.testing.assert_allclose(masked, kept, rtol=1e-12, atol=1e-12)


def test_bad_arguments_name_what_was_received():
    x = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="kernel must be"):
        lstm(x, np.zeros((4, 8)), np.zeros((3, 8)))
    with pytest.raises(ValueError, match="x must be"):
        gru(np.zeros((2, 3)), np.zeros((3, 6)), np.zeros((2, 6)))
    with pytest.raises(ValueError, match="activation must be one of"):
        simple_rnn(x, np.zeros((4, 2)), np.zeros((2, 2)), activation="softmax")
    with pytest.raises(ValueError, match="mask must be"):
        simple_rnn(x, np.zeros((4, 2)), np.zeros((2, 2)), mask=np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"ids must be in \[0, 3\)"):
        embedding([[0, 3]], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="whole numbers"):
        embedding([0.5], np.zeros((3, 2)))
