"""Functional operations: every convolution, pooling, activation and loss of the lecture.

All take ndarrays, lists or Tensors and return a Tensor; each has a hand-written
backward. Images are channels_last (N, H, W, C) unless ``data_format="channels_first"``.
"""

from cnnlab.ops._arith import col2im, conv_output_size, im2col

# Each group of ops adds its imports below, in its own section.
# -- padding and convolution --
# -- teaching forms --
# -- pooling --
# -- activations, dense, dropout, losses --

__all__ = [name for name in dir() if not name.startswith("_")]
