"""Recurrent layers over a whole sequence: SimpleRNN, LSTM and GRU, with Keras' weights.

Every op takes ``x`` of shape ``(N, T, F)`` (batch, time steps, features), an initial
state of shape ``(N, U)`` (``U`` units) and the three weights of Keras' layers: a
``kernel`` ``(F, G*U)`` applied to the inputs, a ``recurrent_kernel`` ``(U, G*U)``
applied to the state and an optional ``bias``, with ``G`` gates side by side in Keras'
order. The input projection ``x @ kernel + bias`` of all steps is one matrix product;
only the recurrence loops over time. Backward is back-propagation through time: the
same loop run backwards, the state's gradient carried from step ``t`` to ``t - 1``.

A ``mask`` ``(N, T)`` (True = a real step) skips steps as Keras does: where a step is
masked the state is carried over unchanged, ``s_t = m_t * new_t + (1 - m_t) * s_{t-1}``.
``recurrent_mask`` (recurrent dropout, ``(N, U)``, the same for every step) multiplies
the previous state where it enters the recurrent product.

Step formulas (``a`` = activation, default tanh; ``s`` = recurrent activation, default
sigmoid)::

    SimpleRNN  h = a(x W + b + h_prev R)
    LSTM       i, f, g, o = s(.), s(.), a(.), s(.)  of  x W + b + h_prev R   (gates i,f,c,o)
               c = f * c_prev + i * g,   h = o * a(c)
    GRU        z, r = s(x W_z + b_z + h_prev R_z + rb_z), s(x W_r + b_r + h_prev R_r + rb_r)
               reset_after:  hh = a(x W_h + b_h + r * (h_prev R_h + rb_h))   (Keras 3 default)
               otherwise:    hh = a(x W_h + b_h + (r * h_prev) R_h)
               h = z * h_prev + (1 - z) * hh
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Function, Tensor
from cnnlab.ops.padding import as_float_tensor


def _sigmoid(z):
    return 0.5 * (np.tanh(0.5 * z) + 1.0)  # = 1 / (1 + exp(-z)), without overflow


# name -> (forward f(z), derivative f'(z) written with z and y = f(z))
ACTIVATIONS = {
    "tanh": (np.tanh, lambda z, y: 1 - y * y),
    "sigmoid": (_sigmoid, lambda z, y: y * (1 - y)),
    "relu": (lambda z: np.maximum(z, 0), lambda z, y: (z > 0).astype(z.dtype)),
    "linear": (lambda z: z, lambda z, y: np.ones_like(z)),
    "hard_sigmoid": (
        lambda z: np.clip(z / 6 + 0.5, 0, 1),
        lambda z, y: ((z > -3) & (z < 3)).astype(z.dtype) / 6,
    ),
}


def _step_mask(mask, t, dtype):
    """The mask of step ``t`` as an ``(N, 1)`` column of 0/1, or None."""
    return None if mask is None else mask[:, t, None].astype(dtype)


def _keep(m, new, old):
    """``m * new + (1 - m) * old``: a masked step carries the old state."""
    return new if m is None else m * new + (1 - m) * old


class _RecurrentFunction(Function):
    """Shared by the three: the input projection, and the weight gradients from the
    per-step gradients ``dxw`` of the projection."""

    def project(self, x, kernel, bias):
        n, steps, features = x.shape
        xw = (x.reshape(n * steps, features) @ kernel).reshape(n, steps, -1)  # one product
        return xw + bias if bias is not None else xw

    def input_grads(self, dxw, x, kernel, has_bias):
        flat_dxw = dxw.reshape(-1, dxw.shape[2])
        dx = (flat_dxw @ kernel.T).reshape(x.shape)
        dkernel = x.reshape(-1, x.shape[2]).T @ flat_dxw
        return dx, dkernel, (flat_dxw.sum(axis=0) if has_bias else None)


class SimpleRNNFunction(_RecurrentFunction):
    """``h_t = a(x_t W + b + h_{t-1} R)``; returns every step's state ``(N, T, U)``."""

    def forward(self, x, h0, kernel, recurrent_kernel, *bias, activation, mask, recurrent_mask):
        act, _ = ACTIVATIONS[activation]
        xw = self.project(x, kernel, bias[0] if bias else None)
        rd = 1 if recurrent_mask is None else recurrent_mask
        n, steps, units = x.shape[0], x.shape[1], recurrent_kernel.shape[0]
        states, pre, h = np.empty((n, steps, units), x.dtype), np.empty_like(xw), h0
        for t in range(steps):
            pre[:, t] = xw[:, t] + (h * rd) @ recurrent_kernel
            h = _keep(_step_mask(mask, t, x.dtype), act(pre[:, t]), h)
            states[:, t] = h
        self.save_for_backward(x, h0, kernel, recurrent_kernel, pre, states)
        self.settings = activation, mask, rd, bool(bias)
        return states

    def backward(self, g):
        x, h0, kernel, recurrent_kernel, pre, states = self.saved_arrays
        activation, mask, rd, has_bias = self.settings
        act, dact = ACTIVATIONS[activation]
        dxw, drec, dh = np.zeros_like(pre), np.zeros_like(recurrent_kernel), np.zeros_like(h0)
        for t in reversed(range(x.shape[1])):
            m = _step_mask(mask, t, x.dtype)
            h_prev = states[:, t - 1] if t > 0 else h0
            dh = dh + g[:, t]
            dnew = dh if m is None else m * dh
            dz = dnew * dact(pre[:, t], act(pre[:, t]))
            dxw[:, t] = dz
            drec += (h_prev * rd).T @ dz
            dh = (dz @ recurrent_kernel.T) * rd + (0 if m is None else (1 - m) * dh)
        dx, dkernel, dbias = self.input_grads(dxw, x, kernel, has_bias)
        return (dx, dh, dkernel, drec) + ((dbias,) if has_bias else ())


class LSTMFunction(_RecurrentFunction):
    """Keras' LSTM (gates i, f, c, o); returns ``[h_t, c_t]`` of every step side by
    side, ``(N, T, 2U)``, so one output carries both states."""

    def forward(self, x, h0, c0, kernel, recurrent_kernel, *bias, activation,
                recurrent_activation, mask, recurrent_mask):  # fmt: skip
        act, _ = ACTIVATIONS[activation]
        ract, _ = ACTIVATIONS[recurrent_activation]
        xw = self.project(x, kernel, bias[0] if bias else None)
        rd = 1 if recurrent_mask is None else recurrent_mask
        n, steps, u = x.shape[0], x.shape[1], recurrent_kernel.shape[0]
        out = np.empty((n, steps, 2 * u), x.dtype)
        gates, cells = np.empty_like(xw), np.empty((n, steps, u), x.dtype)
        pre = np.empty_like(xw)
        h, c = h0, c0
        for t in range(steps):
            z = pre[:, t] = xw[:, t] + (h * rd) @ recurrent_kernel
            i, f, o = ract(z[:, :u]), ract(z[:, u : 2 * u]), ract(z[:, 3 * u :])
            gg = act(z[:, 2 * u : 3 * u])
            gates[:, t] = np.concatenate([i, f, gg, o], axis=1)
            cells[:, t] = c_new = f * c + i * gg
            m = _step_mask(mask, t, x.dtype)
            h, c = _keep(m, o * act(c_new), h), _keep(m, c_new, c)
            out[:, t, :u], out[:, t, u:] = h, c
        self.save_for_backward(x, h0, c0, kernel, recurrent_kernel, pre, gates, cells, out)
        self.settings = activation, recurrent_activation, mask, rd, bool(bias)
        return out

    def backward(self, g):
        x, h0, c0, kernel, recurrent_kernel, pre, gates, cells, out = self.saved_arrays
        activation, recurrent_activation, mask, rd, has_bias = self.settings
        act, dact = ACTIVATIONS[activation]
        dract = ACTIVATIONS[recurrent_activation][1]
        u = h0.shape[1]
        dxw, drec = np.zeros_like(pre), np.zeros_like(recurrent_kernel)
        dh, dc = np.zeros_like(h0), np.zeros_like(c0)
        for t in reversed(range(x.shape[1])):
            m = _step_mask(mask, t, x.dtype)
            h_prev = out[:, t - 1, :u] if t > 0 else h0
            c_prev = out[:, t - 1, u:] if t > 0 else c0
            dh, dc = dh + g[:, t, :u], dc + g[:, t, u:]
            dh_new, dc_new = (dh, dc) if m is None else (m * dh, m * dc)
            i, f, gg, o = (gates[:, t, k * u : (k + 1) * u] for k in range(4))
            c_new = cells[:, t]
            ac = act(c_new)
            dc_new = dc_new + dh_new * o * dact(c_new, ac)
            z = pre[:, t]
            dz = np.concatenate(
                [
                    dc_new * gg * dract(z[:, :u], i),
                    dc_new * c_prev * dract(z[:, u : 2 * u], f),
                    dc_new * i * dact(z[:, 2 * u : 3 * u], gg),
                    dh_new * ac * dract(z[:, 3 * u :], o),
                ],
                axis=1,
            )
            dxw[:, t] = dz
            drec += (h_prev * rd).T @ dz
            keep = 0 if m is None else 1 - m  # a masked step hands the gradient on
            dh, dc = (dz @ recurrent_kernel.T) * rd + keep * dh, dc_new * f + keep * dc
        dx, dkernel, dbias = self.input_grads(dxw, x, kernel, has_bias)
        return (dx, dh, dc, dkernel, drec) + ((dbias,) if has_bias else ())


class GRUFunction(_RecurrentFunction):
    """Keras' GRU (gates z, r, h); returns every step's state ``(N, T, U)``. With
    ``reset_after`` the bias is ``(2, 3U)``: input bias, then recurrent bias."""

    def forward(self, x, h0, kernel, recurrent_kernel, *bias, activation,
                recurrent_activation, reset_after, mask, recurrent_mask):  # fmt: skip
        act, _ = ACTIVATIONS[activation]
        ract, _ = ACTIVATIONS[recurrent_activation]
        b = bias[0] if bias else None
        in_bias = b[0] if b is not None and reset_after else b
        rec_bias = b[1] if b is not None and reset_after else 0
        xw = self.project(x, kernel, in_bias)
        rd = 1 if recurrent_mask is None else recurrent_mask
        n, steps, u = x.shape[0], x.shape[1], recurrent_kernel.shape[0]
        states, gates = np.empty((n, steps, u), x.dtype), np.empty_like(xw)
        pre, rh_all, h = np.empty_like(xw), np.empty((n, steps, u), x.dtype), h0
        for t in range(steps):
            hd = h * rd
            if reset_after:
                rec = hd @ recurrent_kernel + rec_bias
                pre[:, t, : 2 * u] = xw[:, t, : 2 * u] + rec[:, : 2 * u]
            else:
                pre[:, t, : 2 * u] = xw[:, t, : 2 * u] + hd @ recurrent_kernel[:, : 2 * u]
            zg, r = ract(pre[:, t, :u]), ract(pre[:, t, u : 2 * u])
            if reset_after:
                rh_all[:, t] = rec[:, 2 * u :]
                pre[:, t, 2 * u :] = xw[:, t, 2 * u :] + r * rec[:, 2 * u :]
            else:
                rh_all[:, t] = r * hd
                pre[:, t, 2 * u :] = xw[:, t, 2 * u :] + rh_all[:, t] @ recurrent_kernel[:, 2 * u :]
            hh = act(pre[:, t, 2 * u :])
            gates[:, t] = np.concatenate([zg, r, hh], axis=1)
            h = _keep(_step_mask(mask, t, x.dtype), zg * h + (1 - zg) * hh, h)
            states[:, t] = h
        self.save_for_backward(x, h0, kernel, recurrent_kernel, pre, gates, rh_all, states)
        self.settings = activation, recurrent_activation, reset_after, mask, rd, b is not None
        return states

    def backward(self, g):
        x, h0, kernel, recurrent_kernel, pre, gates, rh_all, states = self.saved_arrays
        activation, recurrent_activation, reset_after, mask, rd, has_bias = self.settings
        _, dact = ACTIVATIONS[activation]
        _, dract = ACTIVATIONS[recurrent_activation]
        u = h0.shape[1]
        dxw, drec, dh = np.zeros_like(pre), np.zeros_like(recurrent_kernel), np.zeros_like(h0)
        drec_bias = np.zeros(3 * u, x.dtype)
        for t in reversed(range(x.shape[1])):
            m = _step_mask(mask, t, x.dtype)
            h_prev = states[:, t - 1] if t > 0 else h0
            hd = h_prev * rd
            dh = dh + g[:, t]
            dnew = dh if m is None else m * dh
            zg, r, hh = (gates[:, t, k * u : (k + 1) * u] for k in range(3))
            da_h = dnew * (1 - zg) * dact(pre[:, t, 2 * u :], hh)
            da_z = dnew * (h_prev - hh) * dract(pre[:, t, :u], zg)
            dh_prev = dnew * zg + (0 if m is None else (1 - m) * dh)
            if reset_after:
                dr = da_h * rh_all[:, t]
                da_r = dr * dract(pre[:, t, u : 2 * u], r)
                drec_in = np.concatenate([da_z, da_r, da_h * r], axis=1)
                drec += hd.T @ drec_in
                drec_bias += drec_in.sum(axis=0)
                dhd = drec_in @ recurrent_kernel.T
            else:
                drh = da_h @ recurrent_kernel[:, 2 * u :].T
                drec[:, 2 * u :] += rh_all[:, t].T @ da_h
                da_r = drh * hd * dract(pre[:, t, u : 2 * u], r)
                dzr = np.concatenate([da_z, da_r], axis=1)
                drec[:, : 2 * u] += hd.T @ dzr
                dhd = dzr @ recurrent_kernel[:, : 2 * u].T + drh * r
            dxw[:, t] = np.concatenate([da_z, da_r, da_h], axis=1)
            dh = dh_prev + dhd * rd
        dx, dkernel, dbias = self.input_grads(dxw, x, kernel, has_bias)
        if has_bias and reset_after:
            dbias = np.stack([dbias, drec_bias])
        return (dx, dh, dkernel, drec) + ((dbias,) if has_bias else ())


def _check(x, state, kernel, recurrent_kernel, bias, gates, fn, mask, recurrent_mask, act_names):
    """Shapes and names shared by the three public functions; returns tensors and arrays."""
    x = as_float_tensor(x, "x", fn)
    if x.ndim != 3:
        raise ValueError(f"{fn}: x must be (batch, steps, features). Received shape {x.shape}")
    kernel = as_float_tensor(kernel, "kernel", fn)
    recurrent_kernel = as_float_tensor(recurrent_kernel, "recurrent_kernel", fn)
    units = recurrent_kernel.shape[0] if recurrent_kernel.ndim == 2 else -1
    if kernel.shape != (x.shape[2], gates * units) or recurrent_kernel.shape != (
        units,
        gates * units,
    ):
        raise ValueError(
            f"{fn}: kernel must be (features, {gates}*units) and recurrent_kernel "
            f"(units, {gates}*units) for x of shape {x.shape}. Received kernel "
            f"{kernel.shape}, recurrent_kernel {recurrent_kernel.shape}"
        )
    for name, value in act_names.items():
        if value not in ACTIVATIONS:
            raise ValueError(
                f"{fn}: {name} must be one of {sorted(ACTIVATIONS)}. Received: {value!r}"
            )
    n, steps = x.shape[0], x.shape[1]
    if state is None:
        state = np.zeros((n, units), x.dtype)
    state = as_float_tensor(state, "initial_state", fn)
    if state.shape != (n, units):
        raise ValueError(
            f"{fn}: initial_state must be (batch, units) = {(n, units)}. Received {state.shape}"
        )
    if mask is not None:
        mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask).astype(bool)
        if mask.shape != (n, steps):
            raise ValueError(f"{fn}: mask must be (batch, steps) = {(n, steps)}. "
                             f"Received {mask.shape}")  # fmt: skip
    if recurrent_mask is not None:
        recurrent_mask = np.asarray(recurrent_mask, dtype=x.dtype).reshape(n, units)
    bias = () if bias is None else (as_float_tensor(bias, "bias", fn),)
    return x, state, kernel, recurrent_kernel, bias, mask, recurrent_mask


def simple_rnn(x, kernel, recurrent_kernel, bias=None, initial_state=None, mask=None,
               activation="tanh", recurrent_mask=None) -> Tensor:  # fmt: skip
    """Keras' SimpleRNN over a sequence (module docstring).

    Args:
        x: ``(N, T, F)``. kernel: ``(F, U)``. recurrent_kernel: ``(U, U)``. bias: ``(U,)``.
        initial_state: ``(N, U)``, default zeros. mask: ``(N, T)`` booleans.
        activation: a name of ``ACTIVATIONS``. recurrent_mask: ``(N, U)`` dropout mask.

    Returns:
        The state after every step, ``(N, T, U)``.

    Example:
        >>> import numpy as np
        >>> simple_rnn(np.ones((1, 2, 1)), [[1.0]], [[1.0]], activation="linear").numpy()
        array([[[1.],
                [2.]]])
    """
    x, h0, kernel, rec, bias, mask, rd = _check(
        x, initial_state, kernel, recurrent_kernel, bias, 1, "simple_rnn", mask,
        recurrent_mask, {"activation": activation},
    )  # fmt: skip
    return SimpleRNNFunction.apply(x, h0, kernel, rec, *bias, activation=activation,
                                   mask=mask, recurrent_mask=rd)  # fmt: skip


def lstm(x, kernel, recurrent_kernel, bias=None, initial_state=None, mask=None,
         activation="tanh", recurrent_activation="sigmoid",
         recurrent_mask=None) -> Tensor:  # fmt: skip
    """Keras' LSTM over a sequence (module docstring), gates i, f, c, o.

    Args:
        x: ``(N, T, F)``. kernel: ``(F, 4U)``. recurrent_kernel: ``(U, 4U)``.
        bias: ``(4U,)`` or None. initial_state: ``[h0, c0]``, each ``(N, U)``, default zeros.
        mask: ``(N, T)`` booleans. recurrent_mask: ``(N, U)`` dropout mask on ``h_prev``.

    Returns:
        ``(N, T, 2U)``: ``[..., :U]`` the output ``h_t``, ``[..., U:]`` the cell ``c_t``.
    """
    h0, c0 = (None, None) if initial_state is None else initial_state
    x, h0, kernel, rec, bias, mask, rd = _check(
        x, h0, kernel, recurrent_kernel, bias, 4, "lstm", mask, recurrent_mask,
        {"activation": activation, "recurrent_activation": recurrent_activation},
    )  # fmt: skip
    c0 = as_float_tensor(np.zeros(h0.shape, x.dtype) if c0 is None else c0, "initial_state", "lstm")
    if c0.shape != h0.shape:
        raise ValueError(f"lstm: the cell state must be {h0.shape}. Received {c0.shape}")
    return LSTMFunction.apply(
        x, h0, c0, kernel, rec, *bias, activation=activation,
        recurrent_activation=recurrent_activation, mask=mask, recurrent_mask=rd,
    )  # fmt: skip


def gru(x, kernel, recurrent_kernel, bias=None, initial_state=None, mask=None,
        activation="tanh", recurrent_activation="sigmoid", reset_after=True,
        recurrent_mask=None) -> Tensor:  # fmt: skip
    """Keras' GRU over a sequence (module docstring), gates z, r, h.

    Args:
        x: ``(N, T, F)``. kernel: ``(F, 3U)``. recurrent_kernel: ``(U, 3U)``.
        bias: ``(2, 3U)`` with ``reset_after`` (input and recurrent bias), else ``(3U,)``.
        initial_state: ``(N, U)``. mask: ``(N, T)``. recurrent_mask: ``(N, U)``.

    Returns:
        The state after every step, ``(N, T, U)``.
    """
    x, h0, kernel, rec, bias, mask, rd = _check(
        x, initial_state, kernel, recurrent_kernel, bias, 3, "gru", mask, recurrent_mask,
        {"activation": activation, "recurrent_activation": recurrent_activation},
    )  # fmt: skip
    expected = (2, kernel.shape[1]) if reset_after else (kernel.shape[1],)
    if bias and bias[0].shape != expected:
        raise ValueError(f"gru: bias must be {expected} (reset_after={reset_after}). "
                         f"Received {bias[0].shape}")  # fmt: skip
    return GRUFunction.apply(
        x, h0, kernel, rec, *bias, activation=activation,
        recurrent_activation=recurrent_activation, reset_after=bool(reset_after), mask=mask,
        recurrent_mask=rd,
    )  # fmt: skip
