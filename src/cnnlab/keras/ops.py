"""``keras.ops``: Keras 3's operations (:mod:`cnnlab.tensor_ops`); ``ops.nn``,
``ops.numpy`` and ``ops.core`` as in Keras. cnnlab's lesson ops stay in
:mod:`cnnlab.ops`."""

from cnnlab.tensor_ops import *  # noqa: F403
from cnnlab.tensor_ops import __all__  # noqa: F401
