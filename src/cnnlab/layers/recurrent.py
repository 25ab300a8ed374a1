"""Recurrent layers: SimpleRNN, LSTM and GRU, with Keras 3's arguments and weights.

Each holds Keras' three weights, ``kernel`` ``(features, G*units)``,
``recurrent_kernel`` ``(units, G*units)`` and ``bias``, with ``G`` gates in Keras'
order (LSTM i, f, c, o; GRU z, r, h), so weights copied from Keras give the same
outputs. The recurrence itself is :mod:`cnnlab.ops.recurrent`.
"""

from __future__ import annotations

import numbers

import numpy as np

from cnnlab import ops
from cnnlab.layers.base import InputSpec, Layer, to_snake_case
from cnnlab.layers.core import WeightArgs, activation_name, positive_int
from cnnlab.layers.node import flatten
from cnnlab.ops import recurrent
from cnnlab.utils.random import get_generator


def _activation(value, name: str, layer: str) -> str:
    """An activation argument as a name of ``cnnlab.ops.recurrent.ACTIVATIONS``."""
    key = "linear" if value is None else value
    if callable(key):
        key = activation_name(ops.get_activation(key))
    if not isinstance(key, str) or key not in recurrent.ACTIVATIONS:
        raise ValueError(
            f"{layer}: `{name}` must be one of {sorted(recurrent.ACTIVATIONS)} (or None). "
            f"Received: {name}={value!r}"
        )
    return key


def _rate(value, name: str, layer: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{layer}: `{name}` must be a float in [0, 1). Received: {name}={value!r}")
    return float(value)


class _CellWeights(Layer):
    """Holds a recurrent layer's three weights under the attribute ``cell``, where Keras 3
    keeps them (its ``LSTMCell`` ...), so ``.weights.h5`` files line up with Keras'
    ``layers/lstm/cell/vars``. It is not a cell that can run on its own."""


class BaseRNN(Layer):
    """What SimpleRNN, LSTM and GRU share: arguments, dropout, masks, outputs and states.

    Args:
        units: size of the state.
        activation: default ``"tanh"``; recurrent_activation (LSTM, GRU): default
            ``"sigmoid"``. Supported: tanh, sigmoid, relu, linear (None), hard_sigmoid.
        use_bias: add the bias.
        kernel_initializer, recurrent_initializer, bias_initializer: default
            ``"glorot_uniform"``, ``"orthogonal"``, ``"zeros"``; the matching
            ``*_regularizer`` and ``*_constraint`` arguments are optional.
        dropout: fraction of the input features dropped in training (one mask for all
            steps of a sequence, as Keras).
        recurrent_dropout: the same for the state entering the recurrent product.
        seed: int seed of the dropout masks (else cnnlab's global generator).
        return_sequences: return the output of every step ``(batch, steps, units)``
            instead of the last one ``(batch, units)``.
        return_state: also return the final state(s): ``[output, *states]``.
        go_backwards: read the sequence from the end (outputs come in that order).
        zero_output_for_mask: masked steps of a returned sequence are 0 (else they repeat
            the previous output).
        unroll: accepted and ignored (the loop is never unrolled).

    Call arguments:
        sequences: ``(batch, steps, features)``.
        initial_state: optional list of states (LSTM: ``[h, c]``), each ``(batch, units)``.
        mask: optional ``(batch, steps)`` booleans (passed on from Embedding(mask_zero=True)
            or Masking); a masked step leaves the state unchanged.
        training: apply dropout.
    """

    gates = 1
    state_count = 1
    per_example = True  # see Layer's capabilities
    supports_masking = True

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False,
                 **kwargs):  # fmt: skip
        kwargs.pop("use_cudnn", None)  # a GPU choice in Keras; nothing to choose here
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        layer = type(self).__name__
        self.units = positive_int(units, "units", layer)
        self.activation = _activation(activation, "activation", layer)
        self.recurrent_activation = _activation(recurrent_activation, "recurrent_activation", layer)
        self.use_bias = bool(use_bias)
        self._args = WeightArgs(
            kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            recurrent=(recurrent_initializer, recurrent_regularizer, recurrent_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint),
        )
        self.dropout = _rate(dropout, "dropout", layer)
        self.recurrent_dropout = _rate(recurrent_dropout, "recurrent_dropout", layer)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise TypeError(f"{layer}: seed must be an int or None. Received: seed={seed!r}")
        self.seed = seed
        self._generator = None if seed is None else np.random.default_rng(seed)
        self.uses_randomness = self.dropout > 0 or self.recurrent_dropout > 0
        if stateful:
            raise ValueError(f"{layer}: stateful=True is not supported. Received: stateful=True")
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.input_spec = InputSpec(ndim=3)
        self.kernel = self.recurrent_kernel = self.bias = None

    # ---- weights --------------------------------------------------------------------
    def _bias_shape(self) -> tuple:
        return (self.gates * self.units,)

    def _bias_initializer(self):
        return self._args.initializer["bias"]

    def build(self, input_shape):
        features = input_shape[-1]
        if features is None:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): the last axis of the input must '
                f"be defined. Received input shape {tuple(input_shape)}"
            )
        width = self.gates * self.units
        cell_name = f"{to_snake_case(type(self).__name__)}_cell"
        self.cell = cell = _CellWeights(name=cell_name, dtype=self.dtype)
        self.kernel = self._args.add(cell, "kernel", (features, width))
        self.recurrent_kernel = self._args.add(cell, "recurrent", (self.units, width),
                                               weight_name="recurrent_kernel")  # fmt: skip
        if self.use_bias:
            self.bias = cell.add_weight(
                shape=self._bias_shape(), initializer=self._bias_initializer(), name="bias",
                regularizer=self._args.regularizer["bias"],
                constraint=self._args.constraint["bias"],
            )  # fmt: skip
        for weight in cell.weights:  # Keras' paths: lstm/lstm_cell/kernel
            weight.path = f"{self.name}/{cell_name}/{weight.name}"
        cell.built = True
        cell.trainable = self.trainable
        self.input_spec = InputSpec(ndim=3, axes={-1: features})

    # ---- calling --------------------------------------------------------------------
    def __call__(self, inputs, *args, initial_state=None, **kwargs):
        """``layer(x, initial_state=[...])`` passes the states on as positional tensors,
        so the functional API records them as inputs of the node."""
        states = () if initial_state is None else tuple(flatten(initial_state))
        return super().__call__(inputs, *states, *args, **kwargs)

    def run(self, x, states, mask, recurrent_mask):
        """The op over the whole sequence: (the output of every step, the final states)."""
        raise NotImplementedError

    def call(self, sequences, *initial_state, mask=None, training=False):
        x = sequences
        if isinstance(mask, list | tuple):
            mask = mask[0]
        if mask is not None:
            mask = np.asarray(getattr(mask, "data", mask)).astype(bool)
        states = list(initial_state) or None
        if states is not None and len(states) != self.state_count:
            raise ValueError(
                f'Layer "{self.name}" expects {self.state_count} initial state(s). '
                f"Received {len(states)}"
            )
        if self.go_backwards:
            x = x[:, ::-1]
            mask = None if mask is None else mask[:, ::-1]
        generator = self._generator if self._generator is not None else get_generator()
        if training and self.dropout > 0:
            x = ops.dropout(x, self.dropout, training=True, seed=generator,
                            noise_shape=(x.shape[0], 1, x.shape[2]))  # fmt: skip
        rd = None
        if training and self.recurrent_dropout > 0:
            keep = generator.random((x.shape[0], self.units)) >= self.recurrent_dropout
            rd = (keep / (1 - self.recurrent_dropout)).astype(x.dtype)
        sequence, finals = self.run(x, states, mask, rd)
        if self.return_sequences:
            output = sequence
            if self.zero_output_for_mask and mask is not None:
                output = output * mask[..., None].astype(output.dtype)
        else:
            output = sequence[:, -1]
        return [output, *finals] if self.return_state else output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, list | tuple):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        return [output_mask] + [None] * self.state_count if self.return_state else output_mask

    def compute_output_shape(self, input_shape, *state_shapes):
        batch, steps = input_shape[0], input_shape[1]
        out = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        return [out] + [(batch, self.units)] * self.state_count if self.return_state else out

    def get_config(self):
        config = {**super().get_config(), "units": self.units, "activation": self.activation}
        if self.gates > 1:
            config["recurrent_activation"] = self.recurrent_activation
        config.update(
            {
                "use_bias": self.use_bias,
                **self._args.config(),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
                "return_sequences": self.return_sequences,
                "return_state": self.return_state,
                "go_backwards": self.go_backwards,
                "stateful": False,
                "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask,
            }
        )
        return config


class SimpleRNN(BaseRNN):
    """Fully connected recurrence ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel
    + bias)`` (see :class:`BaseRNN` for the arguments).

    Parameters: ``features * units + units * units + units``.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.SimpleRNN(4)(np.zeros((2, 10, 8), "float32")).shape
        (2, 4)
    """

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, activation=activation, **kwargs)

    def run(self, x, states, mask, recurrent_mask):
        sequence = recurrent.simple_rnn(
            x, self.kernel, self.recurrent_kernel, self.bias, None if states is None else states[0],
            mask, self.activation, recurrent_mask,
        )  # fmt: skip
        return sequence, [sequence[:, -1]]


class LSTM(BaseRNN):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), Keras' gate order i, f, c, o.

    ``i, f, o = recurrent_activation(.)``, ``g = activation(.)`` of ``x_t @ kernel +
    h_{t-1} @ recurrent_kernel + bias``; ``c_t = f * c_{t-1} + i * g``, ``h_t = o *
    activation(c_t)``. States: ``[h, c]``.

    Args:
        unit_forget_bias: start the forget gate's bias at 1 (Jozefowicz et al. 2015).
        Others: see :class:`BaseRNN`.

    Parameters: ``4 * (features * units + units * units + units)``.

    Example:
        >>> from cnnlab.keras import layers
        >>> layer = layers.LSTM(32)
        >>> layer(np.zeros((1, 5, 128), "float32")).shape
        (1, 32)
        >>> layer.count_params()
        20608
    """

    gates = 4
    state_count = 2

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_initializer(self):
        base = self._args.initializer["bias"]
        if not self.unit_forget_bias:
            return base

        def forget_gate_ones(shape, dtype=None):
            u = shape[0] // 4
            return np.concatenate([base((u,), dtype=dtype), np.ones(u, dtype),
                                   base((2 * u,), dtype=dtype)])  # fmt: skip

        return forget_gate_ones

    def run(self, x, states, mask, recurrent_mask):
        both = recurrent.lstm(
            x, self.kernel, self.recurrent_kernel, self.bias, states, mask, self.activation,
            self.recurrent_activation, recurrent_mask,
        )  # fmt: skip
        u = self.units
        return both[..., :u], [both[:, -1, :u], both[:, -1, u:]]

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRU(BaseRNN):
    """Gated recurrent unit (Cho et al. 2014), Keras' gate order z, r, h.

    ``z, r = recurrent_activation(.)``; with ``reset_after=True`` (Keras 3's default,
    cuDNN's form) ``hh = activation(x_t W_h + b_h + r * (h_{t-1} R_h + rb_h))`` and the
    bias is ``(2, 3 * units)`` (input and recurrent biases); ``h_t = z * h_{t-1} + (1 - z)
    * hh``.

    Parameters: ``3 * (features * units + units * units + units)``, plus ``3 * units``
    with ``reset_after``.

    Example:
        >>> from cnnlab.keras import layers
        >>> layer = layers.GRU(4, return_sequences=True)
        >>> layer(np.zeros((2, 10, 8), "float32")).shape
        (2, 10, 4)
        >>> layer.count_params()
        168
    """

    gates = 3

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self) -> tuple:
        width = 3 * self.units
        return (2, width) if self.reset_after else (width,)

    def run(self, x, states, mask, recurrent_mask):
        sequence = recurrent.gru(
            x, self.kernel, self.recurrent_kernel, self.bias,
            None if states is None else states[0], mask, self.activation,
            self.recurrent_activation, self.reset_after, recurrent_mask,
        )  # fmt: skip
        return sequence, [sequence[:, -1]]

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}
