"""PyTorch weights into cnnlab layers: the layout changes, one function each.

=====================  ===========================  ================================
PyTorch module         PyTorch tensor               cnnlab (Keras) weight
=====================  ===========================  ================================
``nn.Conv2d``          ``weight (O, I, kh, kw)``    ``kernel (kh, kw, I, O)`` (HWIO)
``nn.Conv2d`` groups=C ``weight (C*m, 1, kh, kw)``  ``depthwise_kernel (kh, kw, C, m)``
``nn.Linear``          ``weight (out, in)``         ``kernel (in, out)``
``nn.BatchNorm2d``     ``weight, bias,              ``gamma, beta, moving_mean,
                       running_mean, running_var``  moving_variance``
=====================  ===========================  ================================

A Dense layer after a Flatten needs one more step: PyTorch flattens ``(C, H, W)``,
Keras ``(H, W, C)``, so the kernel's rows are permuted (:func:`flatten_permutation`).

What the state dict cannot say, the architecture must: BatchNorm's ``eps`` (PyTorch
default 1e-5, Keras 1e-3) and momentum (PyTorch's ``momentum=0.1`` is Keras'
``momentum=0.9``: Keras keeps ``momentum`` of the old average, PyTorch replaces that
fraction); and padding: PyTorch pads symmetrically (``padding=1`` at stride 2 puts a
row on both sides), Keras' ``"same"`` puts the odd extra row after (bottom/right), so a
stride-2 ``"same"`` convolution equals PyTorch only with TensorFlow-style padding
(``F.pad(x, (0, 1, 0, 1))``), or with an explicit ``ZeroPadding2D(1)`` and ``"valid"``.
"""

from __future__ import annotations

import numpy as np

from cnnlab.interop.torch_pickle import load_torch_state_dict


def conv_kernel(weight: np.ndarray) -> np.ndarray:
    """``(O, I, kh, kw)`` -> ``(kh, kw, I, O)``."""
    return np.ascontiguousarray(weight.transpose(2, 3, 1, 0))


def depthwise_kernel(weight: np.ndarray, channels: int) -> np.ndarray:
    """``(C*m, 1, kh, kw)`` -> ``(kh, kw, C, m)``: output ``c*m + j`` is input ``c``'s ``j``-th."""
    out, _, kh, kw = weight.shape
    return np.ascontiguousarray(
        weight.reshape(channels, out // channels, kh, kw).transpose(2, 3, 0, 1)
    )


def flatten_permutation(height: int, width: int, channels: int) -> np.ndarray:
    """``perm[k]``: the PyTorch (C, H, W) flat index of Keras' (H, W, C) flat index ``k``."""
    return (
        np.arange(channels * height * width)
        .reshape(channels, height, width)
        .transpose(1, 2, 0)
        .ravel()
    )


def dense_kernel(weight: np.ndarray, flatten_shape=None) -> np.ndarray:
    """``(out, in)`` -> ``(in, out)``; rows reordered when the input came from a Flatten of
    ``flatten_shape = (H, W, C)`` (cnnlab's shape; ignored when the sizes disagree, which
    the caller then reports)."""
    kernel = weight.T
    if flatten_shape is not None and kernel.shape[0] == int(np.prod(flatten_shape)):
        kernel = kernel[flatten_permutation(*flatten_shape)]
    return np.ascontiguousarray(kernel)


def _layer_arrays(layer, tensors: dict[str, np.ndarray], flatten_shape) -> list[np.ndarray]:
    """The arrays for ``layer.weights`` (in order) from one PyTorch module's tensors."""
    kind = type(layer).__name__
    if kind == "BatchNormalization":
        names = ["weight", "bias", "running_mean", "running_var"]
        by_name = dict(zip(names, (tensors.get(n) for n in names), strict=True))
        wanted = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean",
                  "moving_variance": "running_var"}  # fmt: skip
        return [by_name[wanted[v.name]] for v in layer.weights]
    if kind in ("Conv2D", "DepthwiseConv2D", "Dense"):
        weight = tensors.get("weight")
        if weight is None:
            raise ValueError(f"layer {layer.name!r} ({kind}) needs a 'weight' tensor")
        if kind == "Conv2D":
            kernel = conv_kernel(weight)
        elif kind == "DepthwiseConv2D":
            kernel = depthwise_kernel(weight, layer.depthwise_kernel.shape[2])
        else:
            kernel = dense_kernel(weight, flatten_shape)
        arrays = [kernel]
        if layer.bias is not None:
            arrays.append(tensors.get("bias"))
        return arrays
    raise ValueError(f"layer {layer.name!r}: no PyTorch mapping for {kind} layers")


def _modules(state_dict: dict[str, np.ndarray]) -> list[tuple[str, dict]]:
    """The state dict grouped by module prefix, in the file's order."""
    groups: dict[str, dict] = {}
    for key, value in state_dict.items():
        prefix, _, leaf = key.rpartition(".")
        groups.setdefault(prefix, {})[leaf] = value
    return list(groups.items())


def load_torch_weights(model, source, mapping: dict[str, str] | None = None) -> None:
    """Set a built cnnlab model's weights from a PyTorch state dict.

    Args:
        model: a built model whose Conv2D, DepthwiseConv2D, Dense and BatchNormalization
            layers correspond one to one to the PyTorch modules.
        source: a ``.pth``/``.pt``/``.bin`` path (read by :mod:`cnnlab.interop.torch_pickle`,
            never unpickled with code) or a ``{name: np.ndarray}`` state dict.
        mapping: ``{cnnlab layer name: PyTorch module prefix}``; without it, the layers
            with weights are matched in order to the modules with tensors.

    Raises:
        ValueError: a different number of modules, a missing tensor, or a shape that
            does not fit the layer (the message names both).
    """
    state_dict = load_torch_state_dict(source) if not isinstance(source, dict) else source
    modules = dict(_modules(state_dict))
    layers, flatten_shape, pending = [], None, None
    for layer in _walk(model):
        kind = type(layer).__name__
        if kind == "Flatten" and layer._build_input_shape is not None:
            pending = tuple(layer._build_input_shape[1:])
        if layer.weights:
            layers.append(
                (layer, pending if kind == "Dense" and pending and len(pending) == 3 else None)
            )
            if kind == "Dense":
                pending = None
    if mapping is None:
        prefixes = [p for p, t in modules.items() if set(t) - {"num_batches_tracked"}]
        if len(prefixes) != len(layers):
            raise ValueError(
                f"the state dict has {len(prefixes)} modules with weights but the model has "
                f"{len(layers)} layers with weights; pass mapping= to pair them"
            )
        mapping = {layer.name: p for (layer, _), p in zip(layers, prefixes, strict=True)}
    updates = []
    for layer, flatten_shape in layers:
        prefix = mapping.get(layer.name)
        if prefix not in modules:
            raise ValueError(f"layer {layer.name!r}: no module {prefix!r} in the state dict")
        arrays = _layer_arrays(layer, modules[prefix], flatten_shape)
        for variable, array in zip(layer.weights, arrays, strict=True):
            if array is None or tuple(array.shape) != tuple(variable.shape):
                got = None if array is None else tuple(array.shape)
                raise ValueError(
                    f"layer {layer.name!r} ({variable.name}, shape {tuple(variable.shape)}) "
                    f"does not fit PyTorch module {prefix!r} (converted shape {got})"
                )
            updates.append((variable, array))
    for variable, array in updates:
        variable.assign(array.astype(variable.dtype, copy=False))


def _walk(model):
    """Every leaf layer of ``model`` in order (nested models expanded)."""
    for layer in model.layers:
        if hasattr(layer, "layers"):
            yield from _walk(layer)
        else:
            yield layer
