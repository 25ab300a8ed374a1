"""Tuned kernels, each registered in :mod:`cnnlab.dispatch` against the reference it
replaces and tested equal to it (``tests/fast/``):

* ``conv``: ``ops.conv.Conv2dFunction`` with Winograd (inference and training), the
  bias in the product, per-image products and a compiled col2im;
* ``pooling``: ``ops.pooling.MaxPoolFunction`` as compiled loops (and its ReLU) that
  record winner codes (``pooling_loops``);
* ``activation``: ``ops.activation.ReLUFunction`` as a compiled pass and backward mask,
  ``SoftmaxFunction`` on short rows as compiled row loops around NumPy's ``exp``;
* ``dense``: ``ops.linear.DenseFunction`` with its bias and ReLU as one compiled pass;
* ``batch_norm``: ``ops.normalization.BatchNormFunction`` in training as three compiled
  passes forward and two backward, float64 sums, synchronised over shards as the
  reference (``batch_norm_loops``);
* ``depthwise``: ``ops.depthwise.DepthwiseConv2dFunction`` as compiled row loops
  without a padded copy (``depthwise_loops``);
* ``pointwise``: 1x1 convolutions (``Conv2dFunction``) as one plain matrix product,
  every other convolution handed on to ``conv``'s;
* ``conv`` also writes zero padding into the windows in training (``padded_windows``);
* ``optimizers``: ``RMSprop``, ``Adam`` and ``SGD`` (momentum) ``update_step`` in one
  compiled pass each;
* ``compiled`` holds the numba loops they call, ``winograd`` the F(4x4, 3x3) algorithm,
  ``winograd_training`` its backward pass (``winograd_loops``: the tile transforms).

Importing this package (``import cnnlab`` does) registers them; they run while
``cnnlab.config.settings.fast`` is on. Without numba the compiled parts step aside and
the rest still runs.
"""

# pointwise after conv: its Function extends conv's and takes its registration
from cnnlab.fast import (
    activation,
    batch_norm,
    conv,
    dense,
    depthwise,
    optimizers,
    pointwise,
    pooling,
)

__all__ = [
    "activation",
    "batch_norm",
    "conv",
    "dense",
    "depthwise",
    "optimizers",
    "pointwise",
    "pooling",
]
