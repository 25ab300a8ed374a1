"""The conv2d rows of ``benchmarks/ops.py``: the lecture convnet's three convolutions
(3x3, valid, fused ReLU) at batch 128, cnnlab against PyTorch: forward, backward and
inference.

Usage::

    python benchmarks/conv2d.py [--repeats N] [--batch N] [--no-torch] [--quick]
"""

from __future__ import annotations

import sys

from ops import main

if __name__ == "__main__":
    main(["--only", "conv2d", *sys.argv[1:]])
