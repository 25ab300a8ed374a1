"""Explain a pooling step by step: every window, and which cell won it.

The window geometry comes from the pooling ops' own :func:`pool_geometry` and the
output matrix from :func:`cnnlab.ops.max_pool` (``min_pool``, ``avg_pool``, ``lp_pool``,
``stochastic_pool``); the explanation recomputes each window's result from its cells
so the two can be checked against each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlab import ops
from cnnlab.explain import render
from cnnlab.explain.conv import MAX_DETAILED
from cnnlab.explain.geometry import AxisArithmetic, axis_names, output_size_lines, padding_note
from cnnlab.explain.inputs import load_array
from cnnlab.ops._pool_window import pool_geometry
from cnnlab.ops.conv_arithmetic import window_view

POOLS = ("max", "avg", "min", "lp", "stochastic")
INPUT, PADDING, OVERFLOW = 0, 1, 2


@dataclass(frozen=True)
class PoolStep:
    """One window.

    Attributes:
        index: output position.
        rows, cols: padded-input rows/columns of the window.
        window: (KH, KW) values, NaN where the window holds padding.
        counted: (KH, KW) bool, the cells that take part in the result.
        winner: padded-input (row, col) of the cell that won (max/min/stochastic
            draw), else None.
        value: the result recomputed from the window.
        output: the op's result.
        expression: how ``value`` was computed, as text.
    """

    index: tuple[int, ...]
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    window: np.ndarray
    counted: np.ndarray
    winner: tuple[int, int] | None
    value: float
    output: float
    expression: str


@dataclass
class PoolExplanation:
    """What :func:`explain_pool` worked out; render with ``to_text/to_markdown/to_html``."""

    input: np.ndarray
    pool: str
    padded: np.ndarray  # canonical 2-D, NaN on padding
    kinds: np.ndarray  # canonical 2-D: 0 input, 1 padding, 2 ceil-mode overflow
    output: np.ndarray
    axes: list[AxisArithmetic]
    pool_size: tuple[int, int]
    strides: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]
    padding: object
    p: float
    count_include_pad: bool
    training: bool
    decimals: int = 2

    @property
    def ndim(self) -> int:
        return self.input.ndim

    def step(self, *index: int) -> PoolStep:
        i, j = (0, index[0]) if self.ndim == 1 else index
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        rows = tuple(i * sh + a for a in range(kh))
        cols = tuple(j * sw + b for b in range(kw))
        window = self.padded[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        kinds = self.kinds[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        output = float(np.atleast_2d(self.output)[i, j])
        value, counted, winner, expression = self._reduce(window, kinds, output)
        if winner is not None:
            winner = (rows[winner[0]], cols[winner[1]])
        return PoolStep(
            tuple(index), rows, cols, window, counted, winner, value, output, expression
        )

    def steps(self):
        oh, ow = np.atleast_2d(self.output).shape
        for i in range(oh):
            for j in range(ow):
                yield self.step(j) if self.ndim == 1 else self.step(i, j)

    def _reduce(self, window, kinds, output):
        d = self.decimals
        real = kinds == INPUT
        values = window[real]
        fmt = render.format_number
        listed = ", ".join(fmt(v, d) for v in values)
        if self.pool in ("max", "min"):
            flat = np.where(real, window, -np.inf if self.pool == "max" else np.inf).ravel()
            k = int(np.argmax(flat) if self.pool == "max" else np.argmin(flat))
            winner = divmod(k, window.shape[1])
            value = float(flat[k])
            return value, real, winner, f"{self.pool}({listed}) = {fmt(value, d)}"
        if self.pool == "avg":
            counted = real | ((kinds == PADDING) if self.count_include_pad else False)
            cells = np.where(kinds == PADDING, 0.0, window)[counted]
            value = float(cells.sum() / cells.size)
            terms = " + ".join(fmt(v, d) for v in cells)
            return value, counted, None, f"({terms}) / {cells.size} = {fmt(value, d)}"
        if self.pool == "lp":
            p = self.p
            value = float(np.sum(values**p) ** (1.0 / p))
            pt = fmt(p, d)
            terms = " + ".join(f"{fmt(v, d)}^{pt}" for v in values)
            return value, real, None, f"({terms})^(1/{pt}) = {fmt(value, d)}"
        # stochastic: probabilities proportional to the activations
        total = float(values.sum())
        probs = values / total if total > 0 else np.full(values.shape, 1.0 / values.size)
        ptext = ", ".join(f"{q:.2f}" for q in probs)
        if self.training:
            flat = np.where(real, window, np.nan).ravel()
            matches = np.flatnonzero(flat == output)
            k = int(matches[0]) if matches.size else int(np.nanargmax(flat))
            winner = divmod(k, window.shape[1])
            q = probs[list(np.flatnonzero(real.ravel())).index(k)]
            text = f"p = ({ptext}); drew {fmt(flat[k], d)} (p = {q:.2f})"
            return float(flat[k]), real, winner, text
        value = float(np.sum(probs * values))
        text = f"p = a / sum(a) = ({ptext}); sum(p * a) = {fmt(value, d)}"
        return value, real, None, text

    # ---- rendering ------------------------------------------------------------------
    def title(self) -> str:
        kind = {
            "max": "Max",
            "avg": "Average",
            "min": "Min",
            "lp": "Lp",
            "stochastic": "Stochastic",
        }
        return f"{kind[self.pool]} pooling of a {render.shape_text(self.input.shape)} input"

    def parameters(self) -> str:
        size = self.pool_size[1:] if self.ndim == 1 else self.pool_size
        strides = self.strides[1:] if self.ndim == 1 else self.strides

        def one(v):
            return str(v[0]) if len(set(v)) == 1 else str(tuple(v))

        extra = ""
        if self.pool == "lp":
            extra = f", p {render.format_number(self.p, self.decimals)}"
        if self.pool == "avg" and self.count_include_pad:
            extra = ", padding counted in the mean"
        if self.pool == "stochastic":
            extra = ", training (one random draw per window)" if self.training else ", inference"
        return f"pool size {one(size)}, stride {one(strides)}, padding {self.padding!r}{extra}"

    @property
    def detailed(self) -> bool:
        return max(self.padded.shape) <= MAX_DETAILED

    def _window_lines(self, st: PoolStep) -> list[str]:
        cells = render.format_matrix(st.window, self.decimals, mask=np.isnan(st.window))
        width = max(len(c) for row in cells for c in row)
        cells = [[f" {c.rjust(width)} " for c in row] for row in cells]
        if st.winner is not None:  # the winner in brackets: [6]
            a, b = st.winner[0] - st.rows[0], st.winner[1] - st.cols[0]
            cells[a][b] = f"[{cells[a][b][1:-1]}]"
        return ["  " + " ".join(row).rstrip() for row in cells]

    def to_text(self, full: bool = False) -> str:
        detailed = full or self.detailed
        lines = [self.title(), f"({self.parameters()})", ""]
        if not detailed:
            lines += [
                f"The padded input is {render.shape_text(self.padded.shape)}, larger than "
                f"{MAX_DETAILED}x{MAX_DETAILED}: showing the first and last windows only.",
                "",
            ]
        lines += ["Input:", *self._matrix(self.input, detailed), ""]
        lines += [padding_note(self.padding, self.axes)]
        if np.any(self.kinds != INPUT):
            lines += [f"Padded input ({render.PAD_MARK} = {self._padding_role()}):"]
            lines += self._matrix(self._shown_padded(), detailed, mask=np.isnan(self.padded))
        lines += ["", "Output size:", *output_size_lines(self.axes)]
        n_out = np.atleast_2d(self.output).size
        plural = "s" if n_out != 1 else ""
        lines += ["", f"Window by window ({n_out} output cell{plural}):", ""]
        steps = list(self.steps()) if detailed else self._some_steps()
        for k, st in enumerate(steps):
            if not detailed and k == len(steps) - 1 and n_out > len(steps):
                lines += ["  ...", ""]
            idx = ", ".join(map(str, st.index))
            where = (
                f"positions {render.span(st.cols)}"
                if self.ndim == 1
                else f"rows {render.span(st.rows)}, columns {render.span(st.cols)}"
            )
            value = render.format_number(st.output, self.decimals)
            lines.append(f"out[{idx}] = {value}   (window: {where} of the padded input)")
            lines += self._window_lines(st)
            won = ""
            if st.winner is not None:
                r, c = self._input_position(st.winner)
                won = f"   <- input [{r}]" if self.ndim == 1 else f"   <- input [{r}, {c}]"
            lines += [f"  {st.expression}{won}", ""]
        lines += [f"Output ({render.shape_text(np.shape(self.output))}):"]
        lines += self._matrix(self.output, detailed)
        return "\n".join(lines) + "\n"

    def _padding_role(self) -> str:
        """What the padding cells do in this pooling."""
        if self.pool == "avg" and self.count_include_pad:
            role = "padding, counted as 0 in the mean"
            if np.any(self.kinds == OVERFLOW):
                role += "; cells past the edge (ceil mode) never count"
            return role
        if self.pool in ("max", "min", "stochastic"):
            return "padding, never wins"
        return "padding, never counts"

    def _input_position(self, padded_rc):
        (top, _), (left, _) = self.pads
        r, c = padded_rc[0] - top, padded_rc[1] - left
        return (c, c) if self.ndim == 1 else (r, c)

    def _shown_padded(self):
        return self.padded[0] if self.ndim == 1 else self.padded

    def _matrix(self, m, detailed=True, mask=None):
        m2 = np.atleast_2d(m)
        if detailed or max(m2.shape) <= MAX_DETAILED:
            return render.grid_lines(render.format_matrix(m, self.decimals, mask), "  ")
        body = render.grid_lines(render.format_matrix(m2[:6, :6], self.decimals), "  ")
        return [f"  {render.shape_text(np.shape(m))}; top-left corner:", *body]

    def _some_steps(self):
        oh, ow = np.atleast_2d(self.output).shape
        picks = list(dict.fromkeys([(0, 0), (0, min(1, ow - 1)), (oh - 1, ow - 1)]))
        return [self.step(j) if self.ndim == 1 else self.step(i, j) for i, j in picks]

    def to_markdown(self, full: bool = False) -> str:
        detailed = full or self.detailed
        out = [f"## {self.title()}", "", f"*{self.parameters()}*", ""]
        out += ["**Input**", "", render.markdown_code(self._matrix(self.input, detailed)), ""]
        if np.any(self.kinds != INPUT):
            mask = np.isnan(self.padded)
            out += [f"**Padded input** (`{render.PAD_MARK}` = {self._padding_role()})", ""]
            out += [render.markdown_code(self._matrix(self._shown_padded(), detailed, mask)), ""]
        out += ["**Output size**", ""]
        out += [f"- {ax.name}: `{ax.formula()}` -> `{ax.filled()}`" for ax in self.axes]
        out += ["", "| cell | window | result |", "|---|---|---|"]
        for st in list(self.steps()) if detailed else self._some_steps():
            win = " ; ".join(
                " ".join(r)
                for r in render.format_matrix(st.window, self.decimals, np.isnan(st.window))
            )
            out.append(f"| ({', '.join(map(str, st.index))}) | `{win}` | `{st.expression}` |")
        out += ["", f"**Output** ({render.shape_text(np.shape(self.output))})", ""]
        out += [render.markdown_code(self._matrix(self.output, detailed)), ""]
        return "\n".join(out)

    def to_html(self, full: bool = False) -> str:
        """A self-contained HTML page with every window and its winner highlighted."""
        from cnnlab.explain.html import pool_page

        return pool_page(self, full)

    def _repr_html_(self) -> str:
        """Jupyter shows the explanation as HTML tables (the page of :meth:`to_html`)."""
        return render.notebook_html(self.to_html())

    def __str__(self) -> str:
        return self.to_text()


_OPS = {
    "max": ops.max_pool,
    "min": ops.min_pool,
    "avg": ops.avg_pool,
    "lp": ops.lp_pool,
    "stochastic": ops.stochastic_pool,
}


def explain_pool(
    x,
    pool: str = "max",
    pool_size=2,
    strides=None,
    padding="valid",
    ceil_mode: bool = False,
    p: float = 2.0,
    count_include_pad: bool = False,
    training: bool = False,
    seed=None,
    decimals: int = 2,
) -> PoolExplanation:
    """Work out a 1-D or 2-D pooling window by window.

    Args:
        x: a (H, W) or (L,) matrix, nested lists, a matrix string or a file path.
        pool: ``"max"``, ``"avg"``, ``"min"``, ``"lp"`` or ``"stochastic"``.
        pool_size, strides, padding, ceil_mode: as :func:`cnnlab.ops.max_pool`.
        p: the exponent of ``"lp"``.
        count_include_pad: ``"avg"`` counts padding cells (as zeros).
        training, seed: ``"stochastic"`` draws one cell per window (seeded) when
            training, else takes the probability-weighted mean.
        decimals: decimals shown for non-integer values.

    Returns:
        A :class:`PoolExplanation`.

    Example:
        >>> e = explain_pool("[[1,1,2,4],[5,6,7,8],[3,2,1,0],[1,2,3,4]]")
        >>> e.output.tolist()
        [[6.0, 8.0], [3.0, 4.0]]
        >>> e.step(0, 0).winner
        (1, 1)
    """
    fn = "explain_pool"
    if pool not in POOLS:
        raise ValueError(f"{fn}: pool must be one of {', '.join(POOLS)}. Received: {pool!r}")
    x = load_array(x, "input", fn)
    x3 = x.reshape(1, *x.shape, 1)
    geom = pool_geometry(x3.shape, pool_size, strides, padding, "channels_last", ceil_mode, fn)
    kwargs = {"pool_size": pool_size, "strides": strides, "padding": padding}
    if pool != "stochastic":
        kwargs["ceil_mode"] = ceil_mode
    elif ceil_mode:
        raise ValueError(f"{fn}: stochastic pooling has no ceil_mode. Received: ceil_mode=True")
    if pool == "lp":
        kwargs["p"] = p
    if pool == "avg":
        kwargs["count_include_pad"] = count_include_pad
    if pool == "stochastic":
        kwargs.update(training=training, seed=seed)
    output = _OPS[pool](x3, **kwargs).numpy()[0, ..., 0]
    canonical = geom.to_canonical(x3)[0, :, :, 0]
    padded = geom.pad(canonical[None, :, :, None], np.nan)[0, :, :, 0]
    kinds = np.full(padded.shape, PADDING, dtype=np.int8)
    (top, bottom), (left, right) = geom.pads
    h, w = geom.in_hw
    kinds[top : top + h, left : left + w] = INPUT
    kinds[top + h + bottom :, :] = OVERFLOW
    kinds[:, left + w + right :] = OVERFLOW
    names = axis_names(x.ndim)
    dims = range(2 - x.ndim, 2)
    axes = [
        AxisArithmetic(
            names[k],
            geom.in_hw[a],
            geom.pool[a],
            geom.strides[a],
            1,
            *geom.pads[a],
            geom.out_hw[a],
            dilated=False,
        )
        for k, a in enumerate(dims)
    ]
    # (check the windows cover what the op saw: the strided view has the output's shape)
    view = window_view(padded[None, :, :, None], geom.pool, geom.strides, (1, 1), geom.out_hw)
    if view.shape[1:3] != np.atleast_2d(output).shape:  # pragma: no cover - internal invariant
        raise RuntimeError("explain_pool: window grid and op output disagree")
    return PoolExplanation(
        input=x,
        pool=pool,
        padded=padded,
        kinds=kinds,
        output=output,
        axes=axes,
        pool_size=geom.pool,
        strides=geom.strides,
        pads=geom.pads,
        padding=padding,
        p=float(p),
        count_include_pad=count_include_pad,
        training=training,
        decimals=decimals,
    )


__all__ = ["POOLS", "PoolExplanation", "PoolStep", "explain_pool"]
