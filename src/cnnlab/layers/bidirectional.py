"""Bidirectional: one recurrent layer reading the sequence forwards, a copy reading it
backwards, their outputs merged."""

from __future__ import annotations

from cnnlab.autograd import basic
from cnnlab.layers.base import Layer, deserialize_layer, serialize_layer
from cnnlab.layers.recurrent import BaseRNN

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _copy(layer: BaseRNN, name: str, **changes) -> BaseRNN:
    return type(layer).from_config({**layer.get_config(), "name": name, **changes})


class Bidirectional(Layer):
    """Run ``layer`` forwards and a copy of it (``go_backwards`` flipped) backwards.

    With ``return_sequences`` the backward outputs are put back in time order, so step
    ``t`` of the result sees ``x[:t+1]`` through the forward layer and ``x[t:]`` through
    the backward one.

    Args:
        layer: a SimpleRNN, LSTM or GRU (its configuration is copied).
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"`` or None
            (a list of the two outputs).
        backward_layer: optional layer for the backward direction (its ``go_backwards``
            should differ from ``layer``'s).

    Output shape:
        the layer's output shape, its last axis doubled for ``"concat"``; with
        ``return_state``, the forward states then the backward states follow.
        Parameters: twice the layer's.

    Example:
        >>> import numpy as np
        >>> from cnnlab.keras import layers
        >>> layer = layers.Bidirectional(layers.LSTM(10, return_sequences=True))
        >>> layer(np.zeros((2, 5, 3), "float32")).shape
        (2, 5, 20)
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, BaseRNN):
            raise TypeError(
                "Bidirectional: `layer` must be a recurrent layer (SimpleRNN, LSTM, GRU). "
                f"Received: layer={layer!r}"
            )
        if merge_mode not in MERGE_MODES:
            raise ValueError(
                f"Bidirectional: `merge_mode` must be one of {list(MERGE_MODES)}. "
                f"Received: merge_mode={merge_mode!r}"
            )
        if backward_layer is not None and not isinstance(backward_layer, BaseRNN):
            raise TypeError(f"Bidirectional: `backward_layer` must be a recurrent layer. "
                            f"Received: backward_layer={backward_layer!r}")  # fmt: skip
        self._custom_backward = backward_layer is not None
        self.forward_layer = _copy(layer, "forward_" + layer.name.removeprefix("forward_"))
        if backward_layer is None:
            backward_layer = _copy(layer, "backward_" + layer.name.removeprefix("backward_"),
                                   go_backwards=not layer.go_backwards)  # fmt: skip
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.per_example = layer.per_example
        self.uses_randomness = layer.uses_randomness or backward_layer.uses_randomness
        self._initial_weights = weights

    def build(self, input_shape):
        self.forward_layer._maybe_build(input_shape)
        self.backward_layer._maybe_build(input_shape)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def __call__(self, inputs, *args, initial_state=None, **kwargs):
        """``initial_state``: the forward layer's states, then the backward layer's."""
        states = () if initial_state is None else tuple(initial_state)
        return super().__call__(inputs, *states, *args, **kwargs)

    def call(self, sequences, *initial_state, mask=None, training=False):
        half = len(initial_state) // 2
        fw_states, bw_states = initial_state[:half], initial_state[half:]
        forward = self.forward_layer.call(sequences, *fw_states, mask=mask, training=training)
        backward = self.backward_layer.call(sequences, *bw_states, mask=mask, training=training)
        states = []
        if self.return_state:
            forward, *fw_final = forward
            backward, *bw_final = backward
            states = [*fw_final, *bw_final]
        if self.return_sequences:
            backward = backward[:, ::-1]
        if self.merge_mode == "concat":
            output = [basic.concatenate([forward, backward], axis=-1)]
        elif self.merge_mode == "sum":
            output = [forward + backward]
        elif self.merge_mode == "ave":
            output = [(forward + backward) * 0.5]
        elif self.merge_mode == "mul":
            output = [forward * backward]
        else:
            output = [forward, backward]
        if not self.return_state and len(output) == 1:
            return output[0]
        return [*output, *states]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, list | tuple):
            mask = mask[0]
        out = mask if self.return_sequences else None
        outputs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            count = self.forward_layer.state_count + self.backward_layer.state_count
            return outputs + [None] * count
        return outputs if self.merge_mode is None else out

    def compute_output_shape(self, input_shape, *state_shapes):
        forward = self.forward_layer.compute_output_shape(input_shape)
        backward = self.backward_layer.compute_output_shape(input_shape)
        fw_states = bw_states = []
        if self.return_state:
            (forward, *fw_states), (backward, *bw_states) = forward, backward
        if self.merge_mode == "concat":
            outputs = [(*forward[:-1], forward[-1] + backward[-1])]
        elif self.merge_mode is None:
            outputs = [forward, backward]
        else:
            outputs = [forward]
        if not self.return_state and len(outputs) == 1:
            return outputs[0]
        return [*outputs, *fw_states, *bw_states]

    def get_config(self):
        layer = _copy(self.forward_layer, self.forward_layer.name.removeprefix("forward_"))
        config = {**super().get_config(), "layer": serialize_layer(layer),
                  "merge_mode": self.merge_mode}  # fmt: skip
        if self._custom_backward:
            config["backward_layer"] = serialize_layer(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(config["backward_layer"])
        return cls(**config)
