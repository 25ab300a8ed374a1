"""Convolution layers: one ``BaseConv`` and thin subclasses.

``Conv1D``, ``Conv2D`` (and ``DepthwiseConv2D``, ``SeparableConv2D`` in
``depthwise.py``, ``LocallyConnected2D`` in ``locally_connected.py``) differ only in their weights
(``_build_kernels``), the op they call (``_convolve``) and their number of output
channels; arguments, validation, shape arithmetic and config live here once.

Output size along each spatial axis (``conv_arithmetic.conv_output_size``)::

    O = floor((I + P_before + P_after - D*(K-1) - 1) / S) + 1
"""

from __future__ import annotations

import numbers

from cnnlab import ops
from cnnlab.layers.base import InputSpec, Layer
from cnnlab.layers.core import (
    WeightArgs,
    activation_name,
    positive_int,
    standardize_data_format,
)
from cnnlab.ops.conv_arithmetic import (
    check_padding_mode,
    conv_output_size,
    explicit_padding,
    normalize_tuple,
)

_PADDING_NAMES = ("valid", "same", "full", "causal")


def standardize_padding(padding, rank: int, layer: str):
    """A padding name (lower-cased) or explicit ``((before, after), ...)`` pairs."""
    if isinstance(padding, str):
        value = padding.lower()
        if value not in _PADDING_NAMES:
            raise ValueError(
                f"{layer}: padding must be one of 'valid', 'same', 'full' ('causal' for 1-D), "
                f"an int, one int per axis or (before, after) pairs. Received: padding={padding!r}"
            )
        if value == "causal" and rank != 1:
            raise ValueError(
                f"{layer}: padding='causal' is only supported for 1-D convolutions (Conv1D). "
                f"Received: padding={padding!r}"
            )
        return value
    return explicit_padding(padding, rank, layer)


def conv_output_spatial(layer, input_shape, kernel_size, strides, padding, dilations):
    """Spatial output sizes for ``input_shape``; ``None`` stays ``None``."""
    axes = layer.spatial_axes
    sizes = [input_shape[a] for a in axes]
    pads = [padding] * len(axes) if isinstance(padding, str) else list(padding)
    out = []
    for size, k, s, p, d in zip(sizes, kernel_size, strides, pads, dilations, strict=True):
        if size is None:
            out.append(None)
            continue
        try:
            out.append(conv_output_size(size, k, s, p, d))
        except ValueError:
            raise ValueError(
                f'Layer "{layer.name}" ({type(layer).__name__}): computed output size would be '
                f"negative: the kernel {tuple(kernel_size)} (dilation_rate={tuple(dilations)}) "
                f"does not fit the input. Received input shape {tuple(input_shape)} with "
                f"padding={layer.padding!r}."
            ) from None
    return out


class BaseConv(Layer):
    """Shared arguments of the convolution layers (see :class:`Conv2D`)."""

    abstract_base = True  # a shared base: a saved config may not name it

    per_example = replayable = True  # see Layer's capabilities

    rank = 2
    _weight_names = ("kernel", "bias")

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        padding_mode="zeros",
        pad_value=0.0,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        cls = type(self).__name__
        self.filters = None if filters is None else positive_int(filters, "filters", cls)
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
            raise ValueError(
                f"The number of groups must be a positive integer. Received: groups={groups}."
            )
        self.groups = int(groups)
        if self.filters is not None and self.filters % self.groups:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={self.groups}, filters={self.filters}."
            )
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size", cls)
        self.strides = normalize_tuple(strides, self.rank, "strides", cls)
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate", cls)
        self.padding = standardize_padding(padding, self.rank, cls)
        self.data_format = standardize_data_format(data_format)
        self.padding_mode = check_padding_mode(padding_mode, cls)
        if isinstance(pad_value, bool) or not isinstance(pad_value, numbers.Real):
            raise TypeError(f"{cls}: pad_value must be a number. Received: {pad_value!r}")
        self.pad_value = float(pad_value)
        self.activation = ops.get_activation(activation)
        self.use_bias = bool(use_bias)
        self._args = self._weight_args(
            kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint),
        )
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self.kernel = self.bias = None

    def _weight_args(self, **triples):
        return WeightArgs(**triples)

    @property
    def channel_axis(self) -> int:
        return 1 if self.data_format == "channels_first" else -1

    @property
    def spatial_axes(self) -> range:
        first = 2 if self.data_format == "channels_first" else 1
        return range(first, first + self.rank)

    # ---- hooks for subclasses ----------------------------------------------------------
    def _build_kernels(self, channels: int, input_shape) -> None:
        shape = (*self.kernel_size, channels // self.groups, self.filters)
        self.kernel = self._args.add(self, "kernel", shape)

    def _output_channels(self, channels):
        return self.filters

    def _convolve(self, x, activation):  # pragma: no cover - abstract
        """The convolution of ``x``; subclasses with ``_fuses_activation`` apply
        ``activation`` inside the op, the others ignore it."""
        raise NotImplementedError

    def _common_op_args(self) -> dict:
        return {
            "strides": self.strides,
            "padding": self.padding,
            "dilation_rate": self.dilation_rate,
            "padding_mode": self.padding_mode,
            "pad_value": self.pad_value,
            "data_format": self.data_format,
        }

    # ---- Layer -------------------------------------------------------------------------
    def build(self, input_shape):
        channels = input_shape[self.channel_axis]
        if channels is None:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): the channel dimension of the '
                f"inputs must be defined. Received input shape {tuple(input_shape)}"
            )
        if channels % self.groups:
            raise ValueError(
                "The number of input channels must be evenly divisible by the number of "
                f"groups. Received groups={self.groups}, but the input has {channels} channels "
                f"(full input shape is {tuple(input_shape)})."
            )
        self.compute_output_shape(input_shape)  # the kernel must fit
        self._build_kernels(channels, input_shape)
        out_channels = self._output_channels(channels)
        if self.use_bias:
            self.bias = self._args.add(self, "bias", self._bias_shape(out_channels, input_shape))
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self.channel_axis: channels})

    def _bias_shape(self, out_channels, input_shape):
        return (out_channels,)

    _fuses_activation = False  # True when the op applies the activation itself

    def call(self, inputs):
        self._check_fits(inputs.shape)
        y = self._convolve(inputs, self.activation)
        return y if self._fuses_activation else self.activation(y)

    def compute_output_shape(self, input_shape):
        spatial = conv_output_spatial(
            self, input_shape, self.kernel_size, self.strides, self.padding, self.dilation_rate
        )
        channels = self._output_channels(input_shape[self.channel_axis])
        if self.data_format == "channels_first":
            return (input_shape[0], channels, *spatial)
        return (input_shape[0], *spatial, channels)

    def get_config(self):
        padding = self.padding if isinstance(self.padding, str) else [list(p) for p in self.padding]
        config = {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "groups": self.groups,
            "activation": activation_name(self.activation),
            "use_bias": self.use_bias,
            **self._args.config(),
            "padding_mode": self.padding_mode,
            "pad_value": self.pad_value,
        }
        return config


class Conv1D(BaseConv):
    """1-D convolution over sequences ``(batch, steps, channels)``.

    Same arguments as :class:`Conv2D` with single integers; ``padding="causal"`` pads
    only on the left so output ``t`` never sees inputs after ``t``.

    Output shape:
        ``(batch, new_steps, filters)``; ``new_steps = floor((L + P - D*(K-1) - 1)/S) + 1``.
        Parameters: ``K * C/groups * filters + filters``.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.Conv1D(8, 3, padding="causal").compute_output_shape((None, 10, 4))
        (None, 10, 8)
    """

    rank = 1
    _fuses_activation = True

    def _convolve(self, x, activation):
        return ops.conv1d(
            x, self.kernel, self.bias, groups=self.groups, activation=activation,
            **self._common_op_args(),
        )  # fmt: skip


class Conv2D(BaseConv):
    """2-D convolution (cross-correlation, as in Keras) over images.

    Args:
        filters: number of output channels ``F``.
        kernel_size: ``K`` or ``(KH, KW)``.
        strides: ``S`` or ``(SH, SW)``, default 1.
        padding: ``"valid"`` (default, no padding), ``"same"`` (output ``ceil(I / S)``,
            Keras/TF rule), ``"full"``, an int, ``(PH, PW)`` or ``((top, bottom), (left,
            right))``.
        data_format: ``"channels_last"`` (default, ``(N, H, W, C)``) or
            ``"channels_first"``.
        dilation_rate: ``D`` or ``(DH, DW)``.
        groups: split channels into ``groups`` independent convolutions.
        activation: name, callable or ``None``.
        use_bias: add one bias per filter.
        kernel_initializer, bias_initializer: default ``"glorot_uniform"``, ``"zeros"``.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional penalties.
        kernel_constraint, bias_constraint: optional constraints.
        padding_mode: cnnlab extension, what the padded border holds: ``"zeros"``
            (Keras), ``"constant"``, ``"replicate"``, ``"reflect"``, ``"symmetric"``,
            ``"circular"``.
        pad_value: cnnlab extension, the fill value of ``padding_mode="constant"``.

    Input shape:
        ``(batch, H, W, C)`` (or ``(batch, C, H, W)``).

    Output shape:
        ``(batch, OH, OW, filters)`` with ``O = floor((I + P_total - D*(K-1) - 1) / S) + 1``.
        Parameters: ``KH * KW * C/groups * filters + filters``.

    Raises:
        ValueError: at construction for bad arguments, e.g. "The number of filters must
            be evenly divisible by the number of groups. Received: groups=2, filters=5.";
            at build/call for an input of the wrong rank or channel count.

    Example:
        >>> from cnnlab.keras import layers
        >>> import numpy as np
        >>> conv = layers.Conv2D(filters=32, kernel_size=3, activation="relu")
        >>> conv(np.zeros((1, 28, 28, 1), dtype="float32")).shape
        (1, 26, 26, 32)
        >>> conv.count_params()  # 3*3*1*32 + 32
        320
    """

    rank = 2
    _fuses_activation = True

    def _convolve(self, x, activation):
        return ops.conv2d(
            x, self.kernel, self.bias, groups=self.groups, activation=activation,
            **self._common_op_args(),
        )  # fmt: skip


class Conv3D(BaseConv):
    """3-D convolution over volumes ``(batch, D, H, W, C)`` (CT scans, video clips).

    Same arguments as :class:`Conv2D` with 3 values per tuple (``groups`` included),
    except that ``padding_mode`` must be ``"zeros"`` (what :func:`cnnlab.ops.conv3d`
    computes).

    Output shape:
        ``(batch, OD, OH, OW, filters)``, ``O = floor((I + P - D*(K-1) - 1)/S) + 1``.
        Parameters: ``KD * KH * KW * C/groups * filters + filters``.

    Example:
        >>> from cnnlab.keras import layers
        >>> conv = layers.Conv3D(8, 3, padding="same")
        >>> conv.compute_output_shape((None, 16, 32, 32, 1))
        (None, 16, 32, 32, 8)
    """

    rank = 3

    def __init__(self, filters, kernel_size, *args, **kwargs):
        super().__init__(filters, kernel_size, *args, **kwargs)
        if self.padding_mode != "zeros":
            raise ValueError(
                "Conv3D supports padding_mode='zeros' only. "
                f"Received: padding_mode={self.padding_mode!r}"
            )

    def _convolve(self, x, activation):
        return ops.conv3d(
            x, self.kernel, self.bias, strides=self.strides, padding=self.padding,
            dilation_rate=self.dilation_rate, data_format=self.data_format, groups=self.groups,
        )  # fmt: skip
