"""Layers that change the spatial size without weights: UpSampling1D/2D/3D, Cropping1D/2D/3D.

``UpSampling`` repeats (or, in 2-D, linearly interpolates) every cell ``size`` times per
axis (:func:`cnnlab.ops.upsampling.upsample`); ``Cropping`` removes ``(before, after)``
cells from each spatial axis (a slice, whose gradient puts ``g`` back in place).
"""

from __future__ import annotations

import numbers

from cnnlab.layers.base import InputSpec, Layer
from cnnlab.layers.core import standardize_data_format
from cnnlab.ops.conv_arithmetic import explicit_padding, normalize_tuple
from cnnlab.ops.upsampling import INTERPOLATIONS, upsample


class _Spatial(Layer):
    per_example = replayable = True  # see Layer's capabilities
    rank = 2

    def _init_layout(self, data_format):
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _spatial_axes(self):
        first = 2 if self.data_format == "channels_first" else 1
        return range(first, first + self.rank)


# ---- upsampling ---------------------------------------------------------------------------
class _UpSampling(_Spatial):
    def __init__(self, size=2, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.size = normalize_tuple(size, self.rank, "size", name)
        if interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"{name}: interpolation must be one of {INTERPOLATIONS}. "
                f"Received: interpolation={interpolation!r}"
            )
        self.interpolation = interpolation
        self._init_layout(data_format)

    def call(self, inputs):
        return upsample(inputs, self.size, self.interpolation, self.data_format)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, s in zip(self._spatial_axes(), self.size, strict=True):
            shape[axis] = None if shape[axis] is None else shape[axis] * s
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "size": list(self.size), "data_format": self.data_format,
                "interpolation": self.interpolation}  # fmt: skip


class UpSampling1D(_UpSampling):
    """Repeat each time step ``size`` times: ``(batch, steps, C) -> (batch, steps*size, C)``.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.UpSampling1D(3).compute_output_shape((None, 4, 2))
        (None, 12, 2)
    """

    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size=size, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size[0]
        del config["data_format"], config["interpolation"]
        return config


class UpSampling2D(_UpSampling):
    """Upsample images by ``size = (sh, sw)``: ``"nearest"`` repeats rows and columns,
    ``"bilinear"`` interpolates linearly (half-pixel centres, as Keras/TensorFlow).

    Output shape:
        ``(batch, H * sh, W * sw, C)``. No parameters.

    Example:
        >>> from cnnlab.keras import layers
        >>> import numpy as np
        >>> layers.UpSampling2D()(np.ones((1, 3, 3, 2), "float32")).shape
        (1, 6, 6, 2)
    """

    rank = 2


class UpSampling3D(_UpSampling):
    """Repeat each voxel ``size = (sd, sh, sw)`` times (nearest neighbour).

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.UpSampling3D((1, 2, 2)).compute_output_shape((None, 4, 5, 5, 3))
        (None, 4, 10, 10, 3)
    """

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size=size, data_format=data_format, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["interpolation"]
        return config


# ---- cropping -----------------------------------------------------------------------------
class _Cropping(_Spatial):
    def __init__(self, cropping=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        if self.rank > 1 and not isinstance(cropping, numbers.Integral):
            items = tuple(cropping)
            if len(items) == self.rank and all(isinstance(p, numbers.Integral) for p in items):
                cropping = tuple((int(p), int(p)) for p in items)
        try:
            self.cropping = explicit_padding(cropping, self.rank, name)
        except (TypeError, ValueError) as err:  # the rule is padding's, the name is cropping
            raise type(err)(str(err).replace("padding", "cropping")) from None
        self._init_layout(data_format)

    def _window(self, input_shape):
        index = [slice(None)] * len(input_shape)
        for axis, (before, after) in zip(self._spatial_axes(), self.cropping, strict=True):
            size = input_shape[axis]
            if size is not None and before + after >= size:
                raise ValueError(
                    f'Layer "{self.name}" ({type(self).__name__}): cropping {self.cropping} '
                    f"removes every cell of axis {axis} of an input of shape "
                    f"{tuple(input_shape)}"
                )
            index[axis] = slice(before, None if size is None else size - after)
        return tuple(index)

    def call(self, inputs):
        return inputs[self._window(inputs.shape)]

    def compute_output_shape(self, input_shape):
        self._window(input_shape)
        shape = list(input_shape)
        for axis, (before, after) in zip(self._spatial_axes(), self.cropping, strict=True):
            if shape[axis] is not None:
                shape[axis] -= before + after
        return tuple(shape)

    def get_config(self):
        cropping = [list(p) for p in self.cropping] if self.rank > 1 else list(self.cropping[0])
        config = {**super().get_config(), "cropping": cropping}
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class Cropping1D(_Cropping):
    """Remove ``cropping = (start, end)`` steps of each sequence.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.Cropping1D((1, 2)).compute_output_shape((None, 10, 3))
        (None, 7, 3)
    """

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping=cropping, **kwargs)


class Cropping2D(_Cropping):
    """Remove rows and columns at the borders of images (e.g. to match a U-Net skip).

    Args:
        cropping: ``c`` (all four sides), ``(ch, cw)`` (symmetric per axis) or
            ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Output shape:
        ``(batch, H - top - bottom, W - left - right, C)``.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.Cropping2D(((2, 2), (4, 4))).compute_output_shape((None, 28, 28, 3))
        (None, 24, 20, 3)
    """

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping=cropping, data_format=data_format, **kwargs)


class Cropping3D(_Cropping):
    """Remove voxels at the borders of volumes: ``cropping`` as :class:`Cropping2D` with
    three axes.

    Example:
        >>> from cnnlab.keras import layers
        >>> layers.Cropping3D(1).compute_output_shape((None, 5, 6, 7, 2))
        (None, 3, 4, 5, 2)
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping=cropping, data_format=data_format, **kwargs)
