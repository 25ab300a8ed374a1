"""cnnlab: convolutional neural networks from first principles, in NumPy.

>>> import cnnlab
>>> from cnnlab import ops
>>> ops.correlate2d([[1, 2, 3], [3, 4, 5], [1, 0, 2]], [[0, 1], [1, -1]]).numpy()
array([[1., 2.],
       [5., 3.]], dtype=float32)
"""

from cnnlab import config, fast, ops  # fast: registers the tuned kernels (cnnlab.dispatch)
from cnnlab.autograd import Function, GradcheckResult, Tensor, as_tensor, gradcheck, no_grad
from cnnlab.autograd.basic import concatenate, stack

__version__ = "0.1.0"

__all__ = [
    "Function",
    "GradcheckResult",
    "Tensor",
    "__version__",
    "as_tensor",
    "concatenate",
    "config",
    "fast",
    "gradcheck",
    "no_grad",
    "ops",
    "stack",
]
