"""Keras 3's ``keras.ops``: NumPy-like and neural-network functions on arrays,
cnnlab Tensors (differentiable) and KerasTensors (recorded as graph nodes).

This is the vocabulary of custom layers, losses and metrics written for Keras 3
(``ops.matmul``, ``ops.mean``, ``ops.one_hot`` ...). It sits on top of cnnlab's own
autograd and lesson ops: :mod:`cnnlab.ops` keeps the readable reference operations
of the lecture (``conv2d``, ``max_pool``, ``correlate2d`` ...), each with its
hand-written backward; ``keras.ops`` adds Keras' names, arguments and dtype rules
and calls those lesson ops where they exist (convolution, pooling, softmax,
cross-entropy). Reach it as ``from cnnlab.keras import ops``.

Example:
    >>> from cnnlab.keras import ops
    >>> ops.convert_to_numpy(ops.one_hot(ops.argmax([[0.1, 0.9], [0.8, 0.2]], axis=-1), 2))
    array([[0., 1.],
           [1., 0.]], dtype=float32)
"""

from cnnlab.tensor_ops import core, image, manipulation, nn, numpy, random  # noqa: F401
from cnnlab.tensor_ops.core import *  # noqa: F403
from cnnlab.tensor_ops.einsum_op import einsum  # noqa: F401 (in __all__)
from cnnlab.tensor_ops.manipulation import *  # noqa: F403
from cnnlab.tensor_ops.nn import *  # noqa: F403
from cnnlab.tensor_ops.numpy import *  # noqa: F403
from cnnlab.tensor_ops.pixel_shuffle import depth_to_space, space_to_depth  # noqa: F401
from cnnlab.tensor_ops.symbolic import OperationLayer  # noqa: F401


def _public(module) -> list:
    return [n for n in vars(module) if not n.startswith("_") and callable(getattr(module, n))
            and getattr(getattr(module, n), "__module__", "") == module.__name__]  # fmt: skip


__all__ = sorted(
    {*_public(core), *_public(manipulation), *_public(nn), *_public(numpy)}
    | {"OperationLayer", "core", "einsum", "image", "manipulation", "nn", "numpy", "random"}
    | {"depth_to_space", "space_to_depth"}
)
