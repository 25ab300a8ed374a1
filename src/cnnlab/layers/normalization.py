"""BatchNormalization (Ioffe & Szegedy, 2015) with Keras' defaults."""

from __future__ import annotations

import numbers

from cnnlab import ops
from cnnlab.autograd.function import after_replay
from cnnlab.layers.base import InputSpec, Layer
from cnnlab.layers.core import WeightArgs
from cnnlab.ops import normalization
from cnnlab.utils.batch_shards import first_shard


class BatchNormalization(Layer):
    """Normalise each channel to zero mean and unit variance, then scale and shift.

    Training (``training=True``), with batch statistics over every axis but ``axis``::

        y = gamma * (x - mean_batch) / sqrt(var_batch + epsilon) + beta
        moving_mean     = momentum * moving_mean     + (1 - momentum) * mean_batch
        moving_variance = momentum * moving_variance + (1 - momentum) * var_batch

    Inference uses ``moving_mean`` / ``moving_variance`` instead. The moving statistics
    are non-trainable weights: updated in place during training calls, never by
    gradients. A layer with ``trainable = False`` always runs in inference mode (as
    Keras 3, for fine-tuning). ``var_batch`` is the biased (divide by ``n``) variance,
    as in Keras. When ``fit`` runs a batch as shards on several cores, the shards add
    up their sums (synchronised batch normalisation): the statistics, the gradients and
    the moving statistics are those of the whole batch.

    Args:
        axis: the channel axis (default -1, channels_last).
        momentum: default 0.99.
        epsilon: default 1e-3.
        center, scale: learn ``beta`` / ``gamma``.

    Parameters:
        ``4 * C`` (``2 * C`` trainable: gamma, beta; ``2 * C`` not: the moving stats).

    Example:
        >>> import numpy as np
        >>> from cnnlab.keras import layers
        >>> bn = layers.BatchNormalization()
        >>> y = bn(np.array([[1.0], [3.0]], dtype="float32"), training=True)
        >>> np.round(y.numpy().ravel(), 4)  # (x - 2) / sqrt(1 + 0.001)
        array([-0.9995,  0.9995], dtype=float32)
        >>> bn.moving_mean.numpy()  # 0.99 * 0 + 0.01 * 2
        array([0.02], dtype=float32)
    """

    per_example = replayable = True  # see Layer's capabilities
    supports_masking = True
    keeps_batch_state = syncs_batch_state = True  # batch statistics, summed over shards
    replays_state_update = True  # the moving statistics' update, via after_replay

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        synchronized=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"BatchNormalization: axis must be an int. Received: axis={axis!r}")
        for name, value in (("momentum", momentum), ("epsilon", epsilon)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"BatchNormalization: {name} must be a number. Received: {value!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(
                f"BatchNormalization: momentum must be in [0, 1]. Received: momentum={momentum}"
            )
        if not epsilon > 0:
            raise ValueError(
                f"BatchNormalization: epsilon must be positive. Received: epsilon={epsilon}"
            )
        self.axis, self.momentum, self.epsilon = int(axis), float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self._args = WeightArgs(
            gamma=(gamma_initializer, gamma_regularizer, gamma_constraint),
            beta=(beta_initializer, beta_regularizer, beta_constraint),
            moving_mean=(moving_mean_initializer, None, None),
            moving_variance=(moving_variance_initializer, None, None),
        )
        self.gamma = self.beta = None

    def build(self, input_shape):
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim:
            raise ValueError(
                f'Layer "{self.name}" (BatchNormalization): axis={self.axis} is out of range for '
                f"input shape {tuple(input_shape)}"
            )
        axis = self.axis % ndim
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(
                f'Layer "{self.name}" (BatchNormalization): axis {self.axis} of the input must be '
                f"defined. Received input shape {tuple(input_shape)}"
            )
        shape = (channels,)
        if self.scale:
            self.gamma = self._args.add(self, "gamma", shape)
        if self.center:
            self.beta = self._args.add(self, "beta", shape)
        self.moving_mean = self._add_stat("moving_mean", shape)
        self.moving_variance = self._add_stat("moving_variance", shape)
        self.input_spec = InputSpec(ndim=ndim, axes={self.axis: channels})

    def _add_stat(self, name, shape):
        return self.add_weight(
            shape=shape, name=name, initializer=self._args.initializer[name], trainable=False
        )

    def call(self, inputs, training=False, fused_relu=False):
        """``fused_relu`` (set by the engine for a ReLU layer that alone reads this layer's
        output, see :mod:`cnnlab.engine.fusions`) returns ``relu(y)``."""
        if training and self.trainable:
            stats = {}
            y, _, _ = normalization.batch_norm_training(
                inputs, self.gamma, self.beta, axis=self.axis, epsilon=self.epsilon,
                relu=fused_relu, stats=stats,
            )  # fmt: skip
            self._update_moving_statistics(stats)
            after_replay(lambda: self._update_moving_statistics(stats))  # refilled by a replay
            return y
        y = normalization.batch_norm(
            inputs,
            self.moving_mean.data,
            self.moving_variance.data,
            self.gamma,
            self.beta,
            axis=self.axis,
            epsilon=self.epsilon,
        )
        return ops.relu(y) if fused_relu else y

    def _update_moving_statistics(self, stats):
        """``moving = momentum * moving + (1 - momentum) * batch``, from ``stats`` (the
        whole batch's ``"mean"`` and ``"var"``): once per batch, in its first shard."""
        if first_shard():
            m = self.momentum
            self.moving_mean.data[...] = m * self.moving_mean.data + (1 - m) * stats["mean"]
            self.moving_variance.data[...] = m * self.moving_variance.data + (1 - m) * stats["var"]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            **self._args.config(["beta", "gamma"]),
            "moving_mean_initializer": self._serialize_init("moving_mean"),
            "moving_variance_initializer": self._serialize_init("moving_variance"),
            "synchronized": False,
        }

    def _serialize_init(self, name):
        from cnnlab.initializers import serialize

        return serialize(self._args.initializer[name])


def check_axis(axis, layer: str):
    """An int, or a list of ints (as Keras stores a tuple or list)."""
    axes = [axis] if isinstance(axis, numbers.Integral) else list(axis)
    if not axes or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool)
                           for a in axes):  # fmt: skip
        raise TypeError(f"{layer}: axis must be an int or a list of ints. Received: axis={axis!r}")
    return int(axis) if isinstance(axis, numbers.Integral) else [int(a) for a in axes]


def normalized_axes(layer, ndim: int) -> tuple:
    """``layer.axis`` as sorted non-negative axes of a rank-``ndim`` input (never 0)."""
    axes = [layer.axis] if isinstance(layer.axis, int) else layer.axis
    if any(not -ndim <= a < ndim or a % ndim == 0 for a in axes):
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}): axis {layer.axis} is out of range '
            f"or the batch axis for an input of rank {ndim}"
        )
    return tuple(sorted(a % ndim for a in axes))


class LayerNormalization(Layer):
    """Normalise each example over its feature axes (Ba et al., 2016), then scale and shift.

    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta`` with the mean and variance of
    one example over ``axis`` (:func:`cnnlab.ops.layer_norm.layer_norm`): no batch
    statistics, so training and inference compute the same thing.

    Args:
        axis: int or list of ints, the normalised axes (default -1, the features).
        epsilon: default 1e-3.
        center: learn ``beta``. scale: learn ``gamma``.
        rms_scaling: divide by the root mean square, without centring (no ``beta``):
            RMS normalisation as ``keras.layers.RMSNormalization`` computes it (Keras 3
            deprecated this argument of LayerNormalization, which divided by the variance).
        beta_initializer, gamma_initializer: default ``"zeros"``, ``"ones"``.
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: optional.

    Output shape:
        The input shape. Parameters: ``2 * prod(input_shape[axis])`` (one each without
        ``center`` or ``scale``).

    Example:
        >>> from cnnlab.keras import layers
        >>> import numpy as np
        >>> layer = layers.LayerNormalization()
        >>> y = layer(np.array([[1.0, 2.0, 3.0]]))
        >>> layer.count_params(), bool(abs(y.numpy().mean()) < 1e-6)
        (6, True)
    """

    per_example = replayable = True  # see Layer's capabilities
    supports_masking = True

    def __init__(
        self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
        beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
        gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        self.axis = check_axis(axis, "LayerNormalization")
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or epsilon < 0:
            raise ValueError(
                f"LayerNormalization: epsilon must be a number >= 0. Received: epsilon={epsilon!r}"
            )
        self.epsilon = float(epsilon)
        self.rms_scaling = bool(rms_scaling)
        self.center = bool(center) and not self.rms_scaling
        self.scale = bool(scale)
        self._args = WeightArgs(
            gamma=(gamma_initializer, gamma_regularizer, gamma_constraint),
            beta=(beta_initializer, beta_regularizer, beta_constraint),
        )
        self.gamma = self.beta = None

    def _axes(self, ndim):
        return normalized_axes(self, ndim)

    def build(self, input_shape):
        axes = self._axes(len(input_shape))
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None for d in shape):
            raise ValueError(
                f'Layer "{self.name}" (LayerNormalization): the normalised axes must have a '
                f"known size. Received input shape {tuple(input_shape)}"
            )
        if self.scale or self.rms_scaling:
            self.gamma = self._args.add(self, "gamma", shape)
        if self.center:
            self.beta = self._args.add(self, "beta", shape)
        self.input_spec = InputSpec(ndim=len(input_shape))

    def call(self, inputs):
        from cnnlab.ops.layer_norm import layer_norm

        return layer_norm(inputs, self.gamma, self.beta, axis=self._axes(inputs.ndim),
                          epsilon=self.epsilon, rms_scaling=self.rms_scaling)  # fmt: skip

    def compute_output_shape(self, input_shape):
        self._axes(len(input_shape))
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            **self._args.config(["beta", "gamma"]),
        }


class RMSNormalization(Layer):
    """Root-mean-square normalization (Zhang & Sennrich, 2019), Keras 3's layer:
    ``y = x / sqrt(mean(x^2 over axis) + epsilon) * scale``, no centring, no offset.

    Args:
        axis: int or list of ints, the normalised axes (default -1).
        epsilon: default 1e-6.

    Output shape:
        The input shape. Parameters: ``prod(input_shape[axis])`` (the ``scale``).

    Example:
        >>> from cnnlab.keras import layers
        >>> import numpy as np
        >>> y = layers.RMSNormalization(epsilon=0.0)(np.array([[3.0, 4.0]]))
        >>> np.round(y.numpy(), 4)  # divided by sqrt((9 + 16) / 2)
        array([[0.8485, 1.1314]], dtype=float32)
    """

    per_example = replayable = True  # see Layer's capabilities
    supports_masking = True

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_axis(axis, "RMSNormalization")
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or epsilon < 0:
            raise ValueError(
                f"RMSNormalization: epsilon must be a number >= 0. Received: epsilon={epsilon!r}"
            )
        self.epsilon = float(epsilon)
        self.scale = None

    def build(self, input_shape):
        axes = normalized_axes(self, len(input_shape))
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None for d in shape):
            raise ValueError(
                f'Layer "{self.name}" (RMSNormalization): the normalised axes must have a '
                f"known size. Received input shape {tuple(input_shape)}"
            )
        self.scale = self.add_weight(name="scale", shape=shape, initializer="ones")

    def call(self, inputs):
        from cnnlab.ops.layer_norm import layer_norm

        return layer_norm(inputs, self.scale, axis=normalized_axes(self, inputs.ndim),
                          epsilon=self.epsilon, rms_scaling=True)  # fmt: skip

    def compute_output_shape(self, input_shape):
        normalized_axes(self, len(input_shape))
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
