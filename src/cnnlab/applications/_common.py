"""What every ``keras.applications`` builder shares: argument checks, the top, weights."""

from __future__ import annotations

import os
from pathlib import Path

from cnnlab.layers import Dense, Dropout, GlobalAveragePooling2D, GlobalMaxPooling2D

TORCH_SUFFIXES = (".pth", ".pt", ".bin")


def check_application_args(fn, include_top, weights, input_tensor, input_shape, pooling,
                           classes, default_size, min_size):  # fmt: skip
    """Keras' checks of an application's arguments; returns the input shape to use."""
    if not isinstance(include_top, bool):
        raise TypeError(f"{fn}: include_top must be a bool. Received: include_top={include_top!r}")
    is_path = isinstance(weights, str | os.PathLike) and weights != "imagenet"
    if not (weights in ("imagenet", None) or (is_path and Path(weights).is_file())):
        raise ValueError(
            f"{fn}: the `weights` argument should be either `None` (random initialization), "
            "`imagenet` (pre-training on ImageNet), or the path to the weights file to be "
            f"loaded. Received: weights={weights!r}"
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            f"{fn}: if using `weights='imagenet'` with `include_top=True`, `classes` should "
            f"be 1000. Received: classes={classes!r}"
        )
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 1:
        raise ValueError(f"{fn}: classes must be a positive int. Received: classes={classes!r}")
    if pooling not in (None, "avg", "max"):
        raise ValueError(
            f"{fn}: pooling must be None, 'avg' or 'max'. Received: pooling={pooling!r}"
        )
    if input_tensor is not None:
        return None
    default = (default_size, default_size, 3)
    if input_shape is None:
        return default if include_top else (None, None, 3)
    shape = tuple(input_shape) if isinstance(input_shape, list | tuple) else None
    if shape is None or len(shape) != 3 or shape[2] != 3:
        raise ValueError(
            f"{fn}: input_shape must be (height, width, 3). Received: input_shape={input_shape!r}"
        )
    for size in shape[:2]:
        if size is not None and (not isinstance(size, int) or size < min_size):
            raise ValueError(
                f"{fn}: input height and width must be ints >= {min_size}. "
                f"Received: input_shape={input_shape!r}"
            )
    if weights == "imagenet" and include_top and shape != default:
        raise ValueError(
            f"{fn}: when setting `include_top=True` and loading `imagenet` weights, "
            f"`input_shape` should be {default}. Received: input_shape={input_shape!r}"
        )
    return shape


def top_and_pooling(x, include_top, pooling, classes, classifier_activation, dropout,
                    torch_names, torch_fc):  # fmt: skip
    """The classifier (pool, dropout, Dense "predictions") or the requested pooling."""
    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout:
            x = Dropout(dropout, name="top_dropout")(x)
        dense = Dense(classes, activation=classifier_activation, name="predictions")
        torch_names[dense.name] = torch_fc
        return dense(x)
    if pooling == "avg":
        return GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return GlobalMaxPooling2D(name="max_pool")(x)
    return x


def load_application_weights(model, weights, include_top, torch_names, packaged) -> None:
    """Load ``weights`` (None, "imagenet" or a path) into a freshly built application."""
    if weights is None:
        return
    from cnnlab.interop.torch_layout import load_torch_weights

    if weights == "imagenet":
        load_torch_weights(model, packaged(), mapping=torch_names)
    elif Path(weights).suffix in TORCH_SUFFIXES:
        load_torch_weights(model, weights, mapping=torch_names)
    else:
        model.load_weights(weights)
