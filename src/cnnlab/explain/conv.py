"""Explain a convolution step by step: the padded input, every window, its products.

Every number comes from cnnlab.ops: the padded input from :func:`cnnlab.ops.pad`, the
output matrix from :func:`cnnlab.ops.correlate2d` (``convolve2d`` with ``convolve=True``,
or the 1-D forms), and the windows are strided views of the padded input
(:func:`cnnlab.ops.conv_arithmetic.window_view`). The products of every window are computed in
one vectorised step, so their sums can be checked against the op's output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnlab import ops
from cnnlab.explain import render
from cnnlab.explain.geometry import AxisArithmetic, axis_names, output_size_lines, padding_note
from cnnlab.explain.inputs import load_array, load_kernel
from cnnlab.ops.conv_arithmetic import normalize_tuple, resolve_padding, window_view

MAX_DETAILED = 12  # inputs larger than this (padded, per axis) are summarised


@dataclass(frozen=True)
class ConvStep:
    """One output cell: ``output[index] = sum(window * kernel)``.

    Attributes:
        index: output position, ``(i, j)`` (``(j,)`` in 1-D).
        rows, cols: the padded-input rows and columns the window covers.
        window, products: (KH, KW) arrays (1-D: (K,)).
        total: the sum of the products.
        output: the op's value at ``index``.
    """

    index: tuple[int, ...]
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    window: np.ndarray
    products: np.ndarray
    total: float
    output: float


@dataclass
class ConvExplanation:
    """Everything :func:`explain_conv` worked out; render with :meth:`to_text`,
    :meth:`to_markdown` or :meth:`to_html`.

    Arrays of 1-D inputs keep their 1-D shapes in ``input``, ``kernel``, ``padded`` and
    ``output``; ``windows``/``products`` are (OH, OW, KH, KW) with OH = KH = 1 then.
    """

    input: np.ndarray
    kernel: np.ndarray
    applied_kernel: np.ndarray
    padded: np.ndarray
    output: np.ndarray
    windows: np.ndarray
    products: np.ndarray
    sums: np.ndarray
    axes: list[AxisArithmetic]
    strides: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    padding: object
    padding_mode: str
    pad_value: float
    convolve: bool
    decimals: int = 2
    notes: list[str] = field(default_factory=list)

    @property
    def ndim(self) -> int:
        return self.input.ndim

    @property
    def operation(self) -> str:
        return "convolution" if self.convolve else "cross-correlation"

    def step(self, *index: int) -> ConvStep:
        """The explanation of one output cell (``step(i, j)``, or ``step(j)`` in 1-D)."""
        i, j = (0, index[0]) if self.ndim == 1 else index
        (sh, sw), (dh, dw) = self._s2, self._d2
        kh, kw = self.windows.shape[2:]
        return ConvStep(
            index=tuple(index),
            rows=tuple(i * sh + a * dh for a in range(kh)),
            cols=tuple(j * sw + b * dw for b in range(kw)),
            window=self._shape(self.windows[i, j]),
            products=self._shape(self.products[i, j]),
            total=float(self.sums[i, j]),
            output=float(np.atleast_2d(self.output)[i, j]),
        )

    def steps(self):
        """Every :class:`ConvStep`, row by row."""
        oh, ow = self.sums.shape
        for i in range(oh):
            for j in range(ow):
                yield self.step(j) if self.ndim == 1 else self.step(i, j)

    @property
    def detailed(self) -> bool:
        return max(np.atleast_2d(self.padded).shape) <= MAX_DETAILED

    # ---- rendering ------------------------------------------------------------------
    def title(self) -> str:
        shape, kshape = self._shape_text(self.input), self._shape_text(self.kernel)
        return f"{self.operation.capitalize()} of a {shape} input with a {kshape} kernel"

    def parameters(self) -> str:
        def one(values):
            return str(values[0]) if len(set(values)) == 1 else str(tuple(values))

        mode = "" if self.padding_mode == "zeros" else f", padding_mode {self.padding_mode!r}"
        if self.padding_mode == "constant":
            mode += f" (value {render.format_number(self.pad_value, self.decimals)})"
        return (
            f"stride {one(self.strides)}, padding {self.padding!r}{mode}, "
            f"dilation {one(self.dilation)}"
        )

    def _matrix(self, m, indent="  "):
        return render.grid_lines(render.format_matrix(m, self.decimals), indent)

    def to_text(self, full: bool = False) -> str:
        """Aligned plain text. Inputs larger than 12 per axis (after padding) are
        summarised (first and last steps only) unless ``full``."""
        lines = [self.title(), f"({self.parameters()})", ""]
        if self.convolve:
            lines += [
                "True convolution flips the kernel (rotates it by 180 degrees) and then slides",
                "it like cross-correlation, which is what CNN layers compute.",
                "",
            ]
        detailed = full or self.detailed
        if not detailed:
            lines += [
                f"The padded input is {self._shape_text(self.padded)}, larger than "
                f"{MAX_DETAILED}x{MAX_DETAILED}: showing a summary and the first and last steps "
                "(pass full=True / --full for every step).",
                "",
            ]
        lines += ["Input:", *self._summary_or_matrix(self.input, detailed), ""]
        label = "Kernel (flipped)" if self.convolve else "Kernel"
        if self.convolve:
            lines += ["Kernel as given:", *self._matrix(self.kernel), ""]
        lines += [f"{label}:", *self._matrix(self.applied_kernel), ""]
        lines += [padding_note(self.padding, self.axes)]
        if any(p != (0, 0) for p in self.pads):
            lines += [f"Padded input ({self.padding_mode}):"]
            lines += self._summary_or_matrix(self.padded, detailed)
        else:
            lines += ["Padded input: the input itself (no padding)."]
        lines += ["", "Output size:", *output_size_lines(self.axes)]
        n = self.sums.size
        lines += ["", f"Step by step ({n} output cell{'s' if n != 1 else ''}):", ""]
        steps = list(self.steps()) if detailed else self._some_steps()
        for k, st in enumerate(steps):
            if not detailed and k == len(steps) - 1 and self.sums.size > len(steps):
                lines += ["  ...", ""]
            lines += [*self._step_text(st), ""]
        lines += [f"Output ({self._shape_text(self.output)}):"]
        lines += self._summary_or_matrix(self.output, detailed)
        return "\n".join(lines) + "\n"

    def _some_steps(self):
        oh, ow = self.sums.shape
        picks = [(0, 0), (0, min(1, ow - 1)), (oh - 1, ow - 1)]
        unique = list(dict.fromkeys(picks))
        return [self.step(j) if self.ndim == 1 else self.step(i, j) for i, j in unique]

    def _step_text(self, st: ConvStep) -> list[str]:
        idx = ", ".join(map(str, st.index))
        value = render.format_number(st.output, self.decimals)
        if self.ndim == 1:
            where = f"positions {render.span(st.cols)} of the padded input"
            cells = [
                render.format_matrix(st.window, self.decimals)[0],
                render.format_matrix(self.applied_kernel, self.decimals)[0],
                render.format_matrix(st.products, self.decimals)[0],
            ]
            width = max(len(c) for row in cells for c in row)
            names = ("window", "kernel", "products")
            body = [
                f"  {n:<9}" + "  ".join(c.rjust(width) for c in row)
                for n, row in zip(names, cells, strict=True)
            ]
        else:
            span = render.span
            where = f"rows {span(st.rows)}, columns {span(st.cols)} of the padded input"
            blocks = [
                self._matrix(st.window, ""),
                self._matrix(self.applied_kernel, ""),
                self._matrix(st.products, ""),
            ]
            body = [
                "  " + line
                for line in render.side_by_side(blocks, ["window", "kernel", "products"])
            ]
        total = render.sum_expression(st.products, self.decimals)
        return [f"out[{idx}] = {value}   (window: {where})", *body, f"  sum: {total} = {value}"]

    def _summary_or_matrix(self, m, detailed):
        m2 = np.atleast_2d(m)
        if detailed or max(m2.shape) <= MAX_DETAILED:
            return self._matrix(m)
        corner = m2[:6, :6]
        lines = [
            f"  {self._shape_text(m)}, min {render.format_number(m2.min(), self.decimals)}, "
            f"max {render.format_number(m2.max(), self.decimals)}, mean "
            f"{render.format_number(m2.mean(), self.decimals, integral=False)}; top-left corner:"
        ]
        return lines + self._matrix(corner)

    @staticmethod
    def _shape_text(m) -> str:
        return render.shape_text(np.shape(m))

    def to_markdown(self, full: bool = False) -> str:
        """Markdown: the parameters, matrices in code blocks and one table row per step."""
        detailed = full or self.detailed
        out = [f"## {self.title()}", "", f"*{self.parameters()}*", ""]
        out += [
            "**Input**",
            "",
            render.markdown_code(self._summary_or_matrix(self.input, detailed)),
        ]
        out += ["", "**Kernel" + (" (flipped)" if self.convolve else "") + "**", ""]
        out += [render.markdown_code(self._matrix(self.applied_kernel)), ""]
        out += [padding_note(self.padding, self.axes).replace("\n", "  \n"), ""]
        out += [
            "**Padded input**",
            "",
            render.markdown_code(self._summary_or_matrix(self.padded, detailed)),
            "",
        ]
        out += ["**Output size**", ""]
        out += [f"- {ax.name}: `{ax.formula()}` -> `{ax.filled()}`" for ax in self.axes]
        out += ["", "| cell | window | products | sum |", "|---|---|---|---|"]
        steps = list(self.steps()) if detailed else self._some_steps()
        for st in steps:
            win = " ; ".join(" ".join(r) for r in render.format_matrix(st.window, self.decimals))
            prod = render.sum_expression(st.products, self.decimals)
            value = render.format_number(st.output, self.decimals)
            out.append(f"| ({', '.join(map(str, st.index))}) | `{win}` | `{prod}` | **{value}** |")
        out += ["", f"**Output** ({self._shape_text(self.output)})", ""]
        out += [render.markdown_code(self._summary_or_matrix(self.output, detailed)), ""]
        return "\n".join(out)

    def to_html(self, full: bool = False) -> str:
        """A self-contained HTML page: the padded input with its padding shaded, one block
        per step with the window highlighted, and the output filling in."""
        from cnnlab.explain.html import conv_page

        return conv_page(self, full)

    def _repr_html_(self) -> str:
        """Jupyter shows the explanation as HTML tables (the page of :meth:`to_html`)."""
        return render.notebook_html(self.to_html())

    def __str__(self) -> str:
        return self.to_text()

    # ---- internals ------------------------------------------------------------------
    @property
    def _s2(self):
        return (1, *self.strides) if self.ndim == 1 else self.strides

    @property
    def _d2(self):
        return (1, *self.dilation) if self.ndim == 1 else self.dilation

    @property
    def _pads2(self):
        return ((0, 0), *self.pads) if self.ndim == 1 else self.pads

    def _shape(self, a):
        return a[0] if self.ndim == 1 else a


def explain_conv(
    x,
    kernel,
    strides=1,
    padding="valid",
    padding_mode: str = "zeros",
    pad_value: float = 0.0,
    dilation_rate=1,
    convolve: bool = False,
    decimals: int = 2,
) -> ConvExplanation:
    """Work out a 1-D or 2-D correlation (or convolution) cell by cell.

    Args:
        x: the input: a (H, W) or (L,) matrix, nested lists, a matrix string such as
            ``"[[1,2,3],[3,4,5],[1,0,2]]"``, or a path to a .npy/.csv/image file.
        kernel: (KH, KW) or (K,), same forms; or a kernel name from
            :mod:`cnnlab.kernels` (2-D only).
        strides, padding, padding_mode, pad_value, dilation_rate: as
            :func:`cnnlab.ops.correlate2d`.
        convolve: flip the kernel first (true convolution).
        decimals: decimals shown for non-integer values.

    Returns:
        A :class:`ConvExplanation`.

    Raises:
        ValueError: malformed matrices, input and kernel of different ranks, or
            arguments the op rejects (its message is passed on).

    Example:
        >>> e = explain_conv("[[1,2,3],[3,4,5],[1,0,2]]", "[[0,1],[1,-1]]")
        >>> e.output.tolist()
        [[1.0, 2.0], [5.0, 3.0]]
        >>> e.step(1, 0).products.tolist()
        [[0.0, 4.0], [1.0, -0.0]]
    """
    fn = "explain_conv"
    x = load_array(x, "input", fn)
    kernel = load_kernel(kernel, fn)
    if kernel.ndim != x.ndim:
        raise ValueError(
            f"{fn}: the kernel must have as many axes as the input ({x.ndim}-D). Received "
            f"input shape {x.shape} and kernel shape {kernel.shape}"
        )
    if not isinstance(convolve, bool):
        raise TypeError(f"{fn}: convolve must be a bool. Received: {convolve!r}")
    nd = x.ndim
    strides = normalize_tuple(strides, nd, "strides", fn)
    dilation = normalize_tuple(dilation_rate, nd, "dilation_rate", fn)
    pads = resolve_padding(padding, x.shape, kernel.shape, strides, dilation, fn)
    op = {
        (1, False): ops.correlate1d,
        (1, True): ops.convolve1d,
        (2, False): ops.correlate2d,
        (2, True): ops.convolve2d,
    }[(nd, convolve)]
    output = op(
        x,
        kernel,
        strides=strides,
        padding=padding,
        padding_mode=padding_mode,
        pad_value=pad_value,
        dilation_rate=dilation,
    ).numpy()
    padded = ops.pad(x, pads, mode=padding_mode, value=pad_value).numpy()
    applied = kernel[::-1, ::-1].copy() if nd == 2 and convolve else kernel
    if nd == 1 and convolve:
        applied = kernel[::-1].copy()
    padded2, applied2 = np.atleast_2d(padded), np.atleast_2d(applied)
    out2 = np.atleast_2d(output)
    s2 = (1, *strides) if nd == 1 else strides
    d2 = (1, *dilation) if nd == 1 else dilation
    windows = window_view(padded2[None, :, :, None], applied2.shape, s2, d2, out2.shape)
    windows = windows[0, :, :, :, :, 0]
    products = windows * applied2
    sums = products.sum(axis=(2, 3))
    axes = [
        AxisArithmetic(name, i, k, s, d, pb, pa, o)
        for name, i, k, s, d, (pb, pa), o in zip(
            axis_names(nd),
            x.shape,
            kernel.shape,
            strides,
            dilation,
            pads,
            output.shape,
            strict=True,
        )
    ]
    return ConvExplanation(
        input=x,
        kernel=kernel,
        applied_kernel=applied,
        padded=padded,
        output=output,
        windows=windows,
        products=products,
        sums=sums,
        axes=axes,
        strides=strides,
        dilation=dilation,
        pads=pads,
        padding=padding,
        padding_mode=padding_mode,
        pad_value=float(pad_value),
        convolve=convolve,
        decimals=decimals,
    )


__all__ = ["ConvExplanation", "ConvStep", "explain_conv"]
