"""``model.export("model.onnx", format="onnx")``: a cnnlab model as an ONNX graph.

The graph is written with the ``onnx`` package's helper API (``pip install
cnnlab[interop]``) at opset 17, checked with ``onnx.checker`` before it is saved. Its
inputs and outputs keep cnnlab's layout (channels last, batch axis free); inside, 4-D
tensors are NCHW (see :mod:`cnnlab.interop.onnx_layers`). Every layer is converted in
inference mode (BatchNormalization with its moving statistics, Dropout as identity).
A layer ONNX cannot express, or that has no converter yet, raises a ``ValueError``
naming the layer.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cnnlab.interop.onnx_layers import CONVERTERS, UnsupportedLayerError, Value

OPSET = 17


def _onnx():
    try:
        import onnx
    except ImportError as err:
        raise ImportError(
            "ONNX export needs the 'onnx' package: pip install 'cnnlab[interop]'"
        ) from err
    return onnx


class _Graph:
    """Collects ONNX nodes and initializers; every value gets a fresh name."""

    def __init__(self, onnx):
        self.onnx, self.nodes, self.initializers, self._count = onnx, [], [], 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def op(self, op_type: str, inputs: list[str], **attributes) -> str:
        out = self._name(op_type.lower())
        node = self.onnx.helper.make_node(op_type, inputs, [out], name=out, **attributes)
        self.nodes.append(node)
        return out

    def const(self, array) -> str:
        array = np.asarray(array)
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
        name = self._name("const")
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name


def _run_layers(g, model, inputs: list[Value]) -> list[Value]:
    """Convert ``model`` (functional, Sequential or nested) applied to ``inputs``."""
    nodes = getattr(model, "_nodes", None)
    if not getattr(model, "_is_graph", False) or nodes is None:
        raise UnsupportedLayerError(
            f'model "{model.name}" has no graph of layers (a subclassed model); ONNX export '
            "needs a functional or Sequential model"
        )
    values = {id(t): v for t, v in zip(model.inputs, inputs, strict=True)}
    for node in nodes:
        if node.is_input:
            continue
        layer = node.layer
        args = [values[id(t)] for t in node.input_tensors]
        if hasattr(layer, "_nodes"):
            outs = _run_layers(g, layer, args)
        else:
            convert = CONVERTERS.get(type(layer).__name__)
            if convert is None:
                raise UnsupportedLayerError(
                    f'layer "{layer.name}" ({type(layer).__name__}) has no ONNX export; '
                    f"supported layers: {', '.join(sorted(CONVERTERS))}"
                )
            outs = [convert(g, layer, args, node)]
        for t, v in zip(node.output_tensors, outs, strict=True):
            values[id(t)] = v
    return [values[id(t)] for t in model.outputs]


def export_onnx(model, filepath) -> None:
    """Write ``model`` to ``filepath`` as an ONNX model (opset 17).

    Raises:
        ValueError: the model is not built, or a layer has no ONNX export (named).
        ImportError: the ``onnx`` package is not installed.
    """
    onnx = _onnx()
    if not getattr(model, "built", False) or getattr(model, "inputs", None) is None:
        raise ValueError("export: build the model first (give it an Input or call it on data)")
    g, make_info, FLOAT = _Graph(onnx), onnx.helper.make_tensor_value_info, onnx.TensorProto.FLOAT
    graph_inputs, values = [], []
    for i, tensor in enumerate(model.inputs):
        name = f"input_{i}" if len(model.inputs) > 1 else "input"
        shape = ["batch", *tensor.shape[1:]]
        graph_inputs.append(make_info(name, FLOAT, shape))
        four_d = len(tensor.shape) == 4
        values.append(
            Value(g.op("Transpose", [name], perm=[0, 3, 1, 2]) if four_d else name, four_d)
        )
    outs = _run_layers(g, model, values)
    graph_outputs = []
    for i, (tensor, value) in enumerate(zip(model.outputs, outs, strict=True)):
        out_name = f"output_{i}" if len(outs) > 1 else "output"
        src = g.op("Transpose", [value.name], perm=[0, 2, 3, 1]) if value.nchw else value.name
        g.nodes.append(onnx.helper.make_node("Identity", [src], [out_name], name=out_name))
        shape = ["batch", *tensor.shape[1:]]
        graph_outputs.append(make_info(out_name, FLOAT, shape))
    graph = onnx.helper.make_graph(g.nodes, model.name, graph_inputs, graph_outputs, g.initializers)
    proto = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)], producer_name="cnnlab"
    )
    proto.ir_version = min(proto.ir_version, 9)  # readable by onnxruntime releases since 1.16
    onnx.checker.check_model(proto, full_check=True)
    path = Path(os.fspath(filepath))
    if not path.parent.is_dir():
        raise FileNotFoundError(f"export: the directory {str(path.parent)!r} does not exist")
    onnx.save(proto, os.fspath(path))
