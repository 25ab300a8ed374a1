"""Layer arithmetic from hyper-parameters alone: shapes, parameters, multiply-adds,
activation memory and receptive fields, each count with the formula that gives it.

A layer is described by its Keras class name and config (``{"filters": 32,
"kernel_size": [3, 3], ...}``), exactly what ``layer.get_config()`` returns, so the
same code explains a built model, a saved one, or a hand-written layer list. Shapes are
per sample and channels_last: ``(H, W, C)`` for images, ``(L, C)`` for sequences,
``(F,)`` for vectors.

Receptive field along one axis, going up the layers (``r`` and ``j`` start at 1):

    r_out = r_in + (K_eff - 1) * j_in        j_out = j_in * S

with ``K_eff = D*(K-1) + 1`` for a dilated kernel: ``r`` is how many input pixels one
unit sees, ``j`` (the jump, or effective stride) how far apart, in input pixels, two
neighbouring units look.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from cnnlab.ops.conv_arithmetic import (
    conv_output_size,
    effective_kernel_size,
    explicit_padding,
    normalize_tuple,
)

BYTES_PER_VALUE = 4  # float32

CONV = ("Conv1D", "Conv2D")
POOLS = tuple(
    f"{kind}Pooling{rank}D"
    for kind in ("Max", "Average", "Min", "Lp", "Stochastic")
    for rank in (1, 2)
)
GLOBAL_POOLS = tuple(
    f"Global{kind}Pooling{rank}D" for kind in ("Max", "Average") for rank in (1, 2)
)
SHAPE_KEEPING = (
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Softmax",
    "Rescaling",
    "GaussianNoise",
    "BatchNormalization",
    "LayerNormalization",
)


@dataclass(frozen=True)
class State:
    """What flows between layers: the per-sample shape and the receptive field."""

    shape: tuple[int, ...]
    rf: tuple[int, ...] | None  # None: every unit sees the whole input
    jump: tuple[int, ...] | None
    spatial: bool = True  # shape is (*spatial, C); False after Flatten/Dense on vectors

    @property
    def spatial_shape(self):
        return self.shape[:-1] if self.spatial else ()


@dataclass(frozen=True)
class LayerRow:
    """One row of the model table."""

    name: str
    class_name: str
    summary: str
    output_shape: tuple[int, ...]
    params: int
    params_formula: str
    macs: int
    macs_formula: str
    activations: int
    rf: tuple[int, ...] | None
    jump: tuple[int, ...] | None
    trainable_params: int | None = None
    note: str = ""

    @property
    def activation_bytes(self) -> int:
        return self.activations * BYTES_PER_VALUE


def _product(factors) -> str:
    return "*".join(str(f) for f in factors)


def _s(n: int) -> str:
    """Plural ending: ``1 filter``, ``32 filters``."""
    return "" if n == 1 else "s"


def _fmt(n: int) -> str:
    return f"{n:,}"


def _formula(terms: list[list[int]]) -> tuple[int, str]:
    """``[[3,3,32,64],[64]] -> (18496, "3*3*32*64 + 64 = 18,496")``; ``None`` factors
    (e.g. a depth multiplier of 1) are left out."""
    shown, total = [], 0
    for factors in terms:
        kept = [f for f in factors if f is not None]
        total += math.prod(kept)
        shown.append(_product(kept))
    if not terms:
        return 0, "0"
    text = " + ".join(shown)
    if len(terms) == 1 and len(shown[0].split("*")) == 1:
        return total, _fmt(total)
    return total, f"{text} = {_fmt(total)}"


def _pad_arg(padding, axis: int):
    """A layer config's padding for one axis: a name or a (before, after) pair."""
    if isinstance(padding, str):
        return padding
    if isinstance(padding, int):
        return (padding, padding)
    pair = list(padding)[axis]
    return (pair, pair) if isinstance(pair, int) else tuple(pair)


def _rank(class_name: str, config: dict) -> int:
    if class_name.endswith("1D"):
        return 1
    return 2


def _spatial_step(state: State, kernel, strides, dilation, padding, fn: str):
    """Output spatial sizes and the new receptive field for a sliding window."""
    sizes = state.spatial_shape
    try:
        out = tuple(
            conv_output_size(i, k, s, _pad_arg(padding, a), d)
            for a, (i, k, s, d) in enumerate(zip(sizes, kernel, strides, dilation, strict=True))
        )
    except ValueError:  # name the layer and its input, not the helper
        spans = zip(kernel, dilation, strict=True)
        window = "x".join(str(effective_kernel_size(k, d)) for k, d in spans)
        raise ValueError(
            f"{fn}: a {window} window does not fit its {'x'.join(map(str, sizes))} input with "
            f"padding {padding!r} (input shape {state.shape})"
        ) from None
    if state.rf is None:
        return out, None, None
    rf = tuple(
        r + (effective_kernel_size(k, d) - 1) * j
        for r, j, k, d in zip(state.rf, state.jump, kernel, dilation, strict=True)
    )
    jump = tuple(j * s for j, s in zip(state.jump, strides, strict=True))
    return out, rf, jump


def layer_row(name: str, class_name: str, config: dict, state: State) -> tuple[LayerRow, State]:
    """Explain one layer applied to ``state``; returns its row and the next state.

    Raises:
        ValueError: the layer does not fit its input, or an unknown layer class (the
            caller may fall back to the layer object's own shape and count).
    """
    fn = f'explain_model: layer "{name}" ({class_name})'
    c = config
    shape = state.shape
    if class_name in (*CONV, "DepthwiseConv2D", "SeparableConv2D", "LocallyConnected2D"):
        return _conv_row(name, class_name, c, state, fn)
    if class_name in POOLS:
        rank = _rank(class_name, c)
        _need_spatial(state, rank, fn)
        pool = normalize_tuple(c.get("pool_size", 2), rank, "pool_size", fn)
        strides = c.get("strides")
        strides = pool if strides is None else normalize_tuple(strides, rank, "strides", fn)
        out, rf, jump = _spatial_step(
            state, pool, strides, (1,) * rank, c.get("padding", "valid"), fn
        )
        out_shape = (*out, shape[-1])
        summary = "x".join(map(str, pool))
        if strides != pool:
            summary += f", stride {'x'.join(map(str, strides))}"
        row = LayerRow(
            name, class_name, summary, out_shape, 0, "0", 0, "0", math.prod(out_shape), rf, jump
        )
        return row, State(out_shape, rf, jump)
    if class_name in GLOBAL_POOLS:
        _need_spatial(state, _rank(class_name, c), fn)
        out_shape = (shape[-1],)
        row = LayerRow(
            name, class_name, "over all positions", out_shape, 0, "0", 0, "0", shape[-1], None, None
        )
        return row, State(out_shape, None, None, spatial=False)
    if class_name == "Flatten":
        out_shape = (math.prod(shape),)
        row = LayerRow(
            name, class_name, "", out_shape, 0, "0", 0, "0", out_shape[0], state.rf, state.jump
        )
        return row, State(out_shape, state.rf, state.jump, spatial=False)
    if class_name == "Dense":
        units = int(c["units"])
        n_in = shape[-1]
        positions = math.prod(shape[:-1])
        terms = [[n_in, units]] + ([[units]] if c.get("use_bias", True) else [])
        params, pf = _formula(terms)
        macs, mf = _formula([[*shape[:-1], n_in, units]] if positions > 1 else [[n_in, units]])
        out_shape = (*shape[:-1], units)
        if len(shape) == 1:  # a vector: every unit sees every input
            rf, jump, spatial = None, None, False
        else:
            rf, jump, spatial = state.rf, state.jump, state.spatial
        summary = f"{units} unit{_s(units)}"
        row = LayerRow(
            name,
            class_name,
            summary,
            out_shape,
            params,
            pf,
            macs,
            mf,
            math.prod(out_shape),
            rf,
            jump,
        )
        return row, State(out_shape, rf, jump, spatial)
    if class_name in SHAPE_KEEPING:
        params, pf, trainable, summary = 0, "0", None, c.get("activation", "") or ""
        if class_name == "Dropout":
            summary = f"rate {c.get('rate')}"
        if class_name in ("BatchNormalization", "LayerNormalization"):
            channels = shape[-1]
            count = 4 if class_name == "BatchNormalization" else 2
            params, pf = _formula([[count, channels]])
            trainable = 2 * channels
            summary = "gamma, beta" + (", moving mean/variance" if count == 4 else "")
        row = LayerRow(
            name,
            class_name,
            str(summary),
            shape,
            params,
            pf,
            0,
            "0",
            math.prod(shape),
            state.rf,
            state.jump,
            trainable,
        )
        return row, state
    if class_name in ("ZeroPadding1D", "ZeroPadding2D"):
        rank = _rank(class_name, c)
        _need_spatial(state, rank, fn)
        pads = explicit_padding(c.get("padding", 1), rank, fn)
        out = tuple(i + b + a for i, (b, a) in zip(state.spatial_shape, pads, strict=True))
        out_shape = (*out, shape[-1])
        row = LayerRow(
            name,
            class_name,
            "pad " + ", ".join(f"{b}+{a}" for b, a in pads),
            out_shape,
            0,
            "0",
            0,
            "0",
            math.prod(out_shape),
            state.rf,
            state.jump,
        )
        return row, replace(state, shape=out_shape)
    raise ValueError(f"{fn}: no arithmetic for this layer class")


def _need_spatial(state: State, rank: int, fn: str) -> None:
    if not state.spatial or len(state.shape) != rank + 1:
        raise ValueError(
            f"{fn}: needs a {rank}-D input with channels ({'(L, C)' if rank == 1 else '(H, W, C)'}"
            f"). Received per-sample shape {state.shape}"
        )


def _conv_row(name, class_name, c, state: State, fn):
    rank = _rank(class_name, c)
    _need_spatial(state, rank, fn)
    if c.get("data_format", "channels_last") not in (None, "channels_last"):
        raise ValueError(f"{fn}: only channels_last models can be explained")
    kernel = normalize_tuple(c["kernel_size"], rank, "kernel_size", fn)
    strides = normalize_tuple(c.get("strides", 1), rank, "strides", fn)
    dilation = normalize_tuple(c.get("dilation_rate", 1), rank, "dilation_rate", fn)
    padding = c.get("padding", "valid")
    out, rf, jump = _spatial_step(state, kernel, strides, dilation, padding, fn)
    cin = state.shape[-1]
    bias = bool(c.get("use_bias", True))
    k = list(kernel)
    if class_name in CONV:
        groups = int(c.get("groups", 1) or 1)
        filters = int(c["filters"])
        per_group = cin // groups
        params, pf = _formula([[*k, per_group, filters]] + ([[filters]] if bias else []))
        macs, mf = _formula([[*k, per_group, *out, filters]])
        out_c = filters
        summary = f"{'x'.join(map(str, kernel))}, {filters} filter{_s(filters)}"
    elif class_name == "DepthwiseConv2D":
        m = int(c.get("depth_multiplier", 1))
        m_ = None if m == 1 else m  # the lecture writes 3*3*3, not 3*3*3*1
        out_c = cin * m
        params, pf = _formula([[*k, cin, m_]] + ([[cin, m_]] if bias else []))
        macs, mf = _formula([[*k, cin, m_, *out]])
        summary = f"{'x'.join(map(str, kernel))} depthwise" + (f", x{m}" if m > 1 else "")
    elif class_name == "SeparableConv2D":
        m = int(c.get("depth_multiplier", 1))
        m_ = None if m == 1 else m
        filters = int(c["filters"])
        out_c = filters
        params, pf = _formula([[*k, cin, m_], [cin, m_, filters]] + ([[filters]] if bias else []))
        macs, mf = _formula([[*k, cin, m_, *out], [*out, cin, m_, filters]])
        summary = f"{'x'.join(map(str, kernel))} depthwise + 1x1 to {filters}"
    else:  # LocallyConnected2D: unshared weights, one filter bank per output position
        filters = int(c["filters"])
        out_c = filters
        params, pf = _formula([[*out, *k, cin, filters]] + ([[*out, filters]] if bias else []))
        macs, mf = _formula([[*out, *k, cin, filters]])
        summary = f"{'x'.join(map(str, kernel))}, {filters} filter{_s(filters)}, unshared"
    if strides != (1,) * rank:
        summary += f", stride {'x'.join(map(str, strides))}"
    if dilation != (1,) * rank:
        summary += f", dilation {'x'.join(map(str, dilation))}"
    if isinstance(padding, str) and padding != "valid":
        summary += f", {padding}"
    out_shape = (*out, out_c)
    row = LayerRow(
        name, class_name, summary, out_shape, params, pf, macs, mf, math.prod(out_shape), rf, jump
    )
    return row, State(out_shape, rf, jump)


__all__ = ["BYTES_PER_VALUE", "LayerRow", "State", "layer_row"]
