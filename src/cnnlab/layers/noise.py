"""Regularisation layers that perturb activations in training only: GaussianNoise,
GaussianDropout and SpatialDropout1D/2D/3D (whole feature maps dropped).

At inference every one of them is the identity. Random draws come from the layer's own
generator when it has a ``seed``, else from cnnlab's global one (``set_random_seed``).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from cnnlab.autograd import Tensor
from cnnlab.layers.base import InputSpec, Layer
from cnnlab.layers.core import Dropout, standardize_data_format


def _seed(seed, layer):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"{layer}: seed must be an int or None. Received: seed={seed!r}")
    return None if seed is None else int(seed)


class _Noise(Layer):
    per_example = replayable = True  # see Layer's capabilities
    supports_masking = True
    uses_randomness = draws_per_shard = True  # random draws, from shard_stream

    def _generator(self):
        from cnnlab.utils.batch_shards import shard_stream
        from cnnlab.utils.random import get_generator

        if self.seed is None:
            return shard_stream(get_generator())
        if self.__dict__.get("_own_generator") is None:
            self._own_generator = np.random.default_rng(self.seed)
        return shard_stream(self._own_generator)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class GaussianNoise(_Noise):
    """Add zero-mean Gaussian noise of standard deviation ``stddev`` in training:
    ``y = x + N(0, stddev^2)`` (a data-augmentation style regulariser).

    Example:
        >>> from cnnlab.keras import layers
        >>> import numpy as np
        >>> layer = layers.GaussianNoise(0.1, seed=0)
        >>> bool((layer(np.zeros((2, 3)), training=True).numpy() != 0).all())
        True
        >>> layer(np.zeros((2, 3))).numpy().sum()  # inference: identity
        np.float32(0.0)
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, numbers.Real) or stddev < 0:
            raise ValueError(
                f"GaussianNoise: stddev must be a number >= 0. Received: stddev={stddev!r}"
            )
        self.stddev = float(stddev)
        self.seed = _seed(seed, "GaussianNoise")

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        noise = self._generator().normal(0.0, self.stddev, inputs.shape).astype(inputs.dtype)
        return inputs + Tensor(noise)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_Noise):
    """Multiply by Gaussian noise of mean 1 and standard deviation
    ``sqrt(rate / (1 - rate))`` in training (Srivastava et al.'s continuous dropout).

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.GaussianDropout(0.2)([[1.0, 2.0]]).numpy()  # inference: identity
        array([[1., 2.]], dtype=float32)
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
            raise ValueError(
                f"GaussianDropout: rate must be a float in [0, 1). Received: rate={rate!r}"
            )
        self.rate = float(rate)
        self.seed = _seed(seed, "GaussianDropout")

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = self._generator().normal(1.0, stddev, inputs.shape).astype(inputs.dtype)
        return inputs * Tensor(noise)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class _SpatialDropout(Dropout):
    """Dropout of whole channels: one keep/drop decision per (example, channel)."""

    rank = 2
    draws_per_shard = False  # call sets noise_shape on the layer: one thread at a time

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs, training=False):
        n, ones = inputs.shape[0], (1,) * self.rank
        channels = inputs.shape[1] if self.data_format == "channels_first" else inputs.shape[-1]
        self.noise_shape = (n, channels, *ones) if self.data_format == "channels_first" else (
            n, *ones, channels)  # fmt: skip
        try:
            return super().call(inputs, training=training)
        finally:
            self.noise_shape = None

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format}
        del config["noise_shape"]
        if self.rank == 1:
            del config["data_format"]
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drop whole channels of sequences ``(batch, steps, C)`` in training.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.SpatialDropout1D(0.5).compute_output_shape((None, 10, 4))
        (None, 10, 4)
    """

    rank = 1

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Drop whole feature maps of images in training (neighbouring pixels are strongly
    correlated, so dropping single pixels regularises little). Kept maps are scaled by
    ``1 / (1 - rate)``.

    Example:
        >>> from cnnlab.keras import layers
        >>> import numpy as np
        >>> y = layers.SpatialDropout2D(0.5, seed=1)(np.ones((1, 4, 4, 8)), training=True)
        >>> sorted(set(np.unique(y.numpy()).tolist()))  # each map all 0 or all 2
        [0.0, 2.0]
    """

    rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Drop whole feature volumes of ``(batch, D, H, W, C)`` inputs in training."""

    rank = 3
