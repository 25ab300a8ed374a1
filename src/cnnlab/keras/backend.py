"""``keras.backend``: clear_session, floatx, epsilon, image_data_format."""

from cnnlab.backend import DEFAULT_FLOAT
from cnnlab.layers import clear_session


def floatx() -> str:
    """The default float type, ``"float32"``."""
    return DEFAULT_FLOAT.name


def epsilon() -> float:
    """Keras' fuzz factor, ``1e-7``."""
    return 1e-7


def image_data_format() -> str:
    """``"channels_last"``: images are (batch, height, width, channels)."""
    return "channels_last"


__all__ = ["clear_session", "epsilon", "floatx", "image_data_format"]
