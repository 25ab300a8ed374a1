"""Step-by-step explanations: convolution and pooling cell by cell, and the arithmetic
of a model layer by layer (shapes, parameters, multiply-adds, receptive fields).

    >>> from cnnlab.explain import explain_conv
    >>> print(explain_conv("[[1,2,3],[3,4,5],[1,0,2]]", "[[0,1],[1,-1]]").output)
    [[1. 2.]
     [5. 3.]]

Every explanation renders as aligned text (``.to_text()``), Markdown
(``.to_markdown()``) or a self-contained HTML page (``.to_html()``).
"""

from cnnlab.explain.conv import ConvExplanation, ConvStep, explain_conv
from cnnlab.explain.inputs import load_array, load_kernel, parse_matrix
from cnnlab.explain.model import ModelExplanation, explain_layers, explain_model
from cnnlab.explain.pool import PoolExplanation, PoolStep, explain_pool
from cnnlab.explain.spec import parse_layers
from cnnlab.explain.xo import XOExample, xo_example

__all__ = [
    "ConvExplanation",
    "ConvStep",
    "ModelExplanation",
    "PoolExplanation",
    "PoolStep",
    "XOExample",
    "explain_conv",
    "explain_layers",
    "explain_model",
    "explain_pool",
    "load_array",
    "load_kernel",
    "parse_layers",
    "parse_matrix",
    "xo_example",
]
