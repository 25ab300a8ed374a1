"""Parse a hand-written layer list such as ``"Conv2D(32, 3), MaxPooling2D(2), Flatten(),
Dense(10)"`` into ``(class_name, config)`` pairs, without building any layer.

The text is parsed with :mod:`ast` (calls of known layer names with literal
arguments only; nothing is evaluated). Keras' positional argument order is accepted,
as are short lower-case aliases (``conv``, ``pool``, ``sepconv``, ``dwconv``,
``dense``, ``flatten``, ...).
"""

from __future__ import annotations

import ast

# class name -> positional argument names, in Keras' order
SIGNATURES: dict[str, tuple[str, ...]] = {
    "Conv1D": ("filters", "kernel_size", "strides", "padding"),
    "Conv2D": ("filters", "kernel_size", "strides", "padding"),
    "SeparableConv2D": ("filters", "kernel_size", "strides", "padding"),
    "LocallyConnected2D": ("filters", "kernel_size", "strides", "padding"),
    "DepthwiseConv2D": ("kernel_size", "strides", "padding", "depth_multiplier"),
    "Dense": ("units",),
    "Flatten": (),
    "Dropout": ("rate",),
    "SpatialDropout2D": ("rate",),
    "Activation": ("activation",),
    "ReLU": (),
    "LeakyReLU": (),
    "Softmax": (),
    "BatchNormalization": (),
    "LayerNormalization": (),
    "Rescaling": ("scale", "offset"),
    "ZeroPadding1D": ("padding",),
    "ZeroPadding2D": ("padding",),
}
for _kind in ("Max", "Average", "Min", "Lp", "Stochastic"):
    for _rank in (1, 2):
        SIGNATURES[f"{_kind}Pooling{_rank}D"] = ("pool_size", "strides", "padding")
for _kind in ("Max", "Average"):
    for _rank in (1, 2):
        SIGNATURES[f"Global{_kind}Pooling{_rank}D"] = ()

ALIASES = {
    "conv": "Conv2D",
    "conv1d": "Conv1D",
    "conv2d": "Conv2D",
    "sepconv": "SeparableConv2D",
    "separable": "SeparableConv2D",
    "separableconv2d": "SeparableConv2D",
    "dwconv": "DepthwiseConv2D",
    "depthwise": "DepthwiseConv2D",
    "pool": "MaxPooling2D",
    "maxpool": "MaxPooling2D",
    "maxpool2d": "MaxPooling2D",
    "maxpool1d": "MaxPooling1D",
    "avgpool": "AveragePooling2D",
    "avgpool2d": "AveragePooling2D",
    "gap": "GlobalAveragePooling2D",
    "gmp": "GlobalMaxPooling2D",
    "bn": "BatchNormalization",
    "batchnorm": "BatchNormalization",
    "local": "LocallyConnected2D",
}


def resolve_class_name(name: str, fn: str = "parse_layers") -> str:
    """``"conv"`` / ``"conv2d"`` / ``"Conv2D"`` -> ``"Conv2D"``."""
    lowered = name.lower()
    if lowered in ALIASES:
        return ALIASES[lowered]
    for known in SIGNATURES:
        if known.lower() == lowered:
            return known
    raise ValueError(
        f"{fn}: unknown layer {name!r}; use one of {', '.join(SIGNATURES)} (or an alias: "
        f"{', '.join(ALIASES)})"
    )


def parse_layers(text: str, fn: str = "parse_layers") -> list[tuple[str, dict]]:
    """``"Conv2D(32, 3, activation='relu'), MaxPooling2D(2)"`` -> layer configs.

    Layers are separated by commas, semicolons or new lines. A bare name (``Flatten``)
    is a call without arguments.

    Returns:
        ``[("Conv2D", {"filters": 32, "kernel_size": 3, "activation": "relu"}), ...]``.

    Raises:
        ValueError: syntax errors, unknown layers, non-literal or surplus arguments.

    Example:
        >>> for layer in parse_layers("conv(16, 3, padding='same'); pool; dense(10)"):
        ...     print(layer)
        ('Conv2D', {'filters': 16, 'kernel_size': 3, 'padding': 'same'})
        ('MaxPooling2D', {})
        ('Dense', {'units': 10})
    """
    source = text.replace(";", ",").replace("\n", ",").strip().strip(",")
    if not source:
        raise ValueError(f"{fn}: the layer list is empty")
    try:
        tree = ast.parse(f"({source},)", mode="eval")
    except SyntaxError as err:
        raise ValueError(
            f"{fn}: cannot parse the layer list ({err.msg}); write it like "
            f'"Conv2D(32, 3), MaxPooling2D(2), Flatten(), Dense(10)". Received: {text!r}'
        ) from None
    layers = []
    for node in tree.body.elts:
        if isinstance(node, ast.Name):
            layers.append((resolve_class_name(node.id, fn), {}))
            continue
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            raise ValueError(
                f"{fn}: each layer must be a call such as Conv2D(32, 3). Received: "
                f"{ast.unparse(node)!r}"
            )
        class_name = resolve_class_name(node.func.id, fn)
        names = SIGNATURES[class_name]
        if len(node.args) > len(names):
            raise ValueError(
                f"{fn}: {class_name} takes at most {len(names)} positional arguments "
                f"({', '.join(names) or 'none'}). Received: {ast.unparse(node)!r}"
            )
        config = {}
        try:
            for arg_name, arg in zip(names, node.args, strict=False):
                config[arg_name] = ast.literal_eval(arg)
            for kw in node.keywords:
                if kw.arg is None:
                    raise ValueError("**kwargs")
                config[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            raise ValueError(
                f"{fn}: layer arguments must be literals (numbers, strings, tuples). "
                f"Received: {ast.unparse(node)!r}"
            ) from None
        layers.append((class_name, _lists_to_tuples(config)))
    return layers


def _lists_to_tuples(config: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}


__all__ = ["ALIASES", "SIGNATURES", "parse_layers", "resolve_class_name"]
