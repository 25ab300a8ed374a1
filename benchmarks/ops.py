"""Per-op timings at the lecture convnet's shapes: cnnlab against PyTorch, in one run.

Every row is one op of a training step of the lecture's MNIST convnet at batch 128
(float32, channels_last for cnnlab, the same shapes as NCHW for PyTorch), timed
forward, backward and inference apart: the median of ``--repeats`` runs after
``--warmup`` runs. Backward times the op's own backward only (gradients for the inputs
that need one, as inside a network; the first convolution's input is data and needs
none). Inference is the forward pass with no graph recorded (``no_grad``, as in
``predict``), where cnnlab may take another algorithm (Winograd for 3x3 convolutions).
cnnlab's convolutions fuse the ReLU (``conv2d(..., activation="relu")``); PyTorch's
rows are ``relu(conv2d(...))``. The softmax + cross-entropy row is what Keras
compiles (softmax output, loss from probabilities) for cnnlab and
``F.cross_entropy`` on logits for PyTorch. The last row sums one training step's
ops (the forward and backward rows but the standalone ReLU's).

Usage::

    python benchmarks/ops.py                                  # BLAS as configured
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/ops.py
    python benchmarks/ops.py --only conv2d --repeats 50       # one op family
    python benchmarks/ops.py --quick                          # 1 repeat at batch 8

The second form lets OpenBLAS pick the kernels of the CPU it runs on, as it does on
a user's machine; the table prints which kernel ran. Both sides use 2 threads.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np

from _common import blas_description, machine, positive_int


@dataclass
class Case:
    op: str  # family, for --only
    label: str  # what the row shows
    shape: str  # the input shape, channels_last
    build_cnnlab: object  # batch -> (forward, backward) closures
    build_torch: object


def _timed(fn, warmup: int, repeats: int) -> float:
    """Median wall time of ``fn()`` in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


# ---- cnnlab side ------------------------------------------------------------------------
def _graph_backward(out, grad):
    """Run every Function's backward from ``out`` down, as ``Tensor.backward`` does, but
    keep the graph and do not accumulate into the leaves (so only the ops are timed)."""
    order, seen = [], set()

    def visit(node):  # depth-first post-order: a node after everything it was made from
        if id(node) in seen or node._ctx is None:
            return
        seen.add(id(node))
        for parent in node._ctx.inputs:
            visit(parent)
        order.append(node)

    visit(out)
    grads = {id(out): grad}
    for node in reversed(order):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        ctx = node._ctx
        input_grads = ctx.backward(g)
        input_grads = input_grads if isinstance(input_grads, tuple) else (input_grads,)
        for parent, pg in zip(ctx.inputs, input_grads, strict=True):
            if pg is not None and parent.requires_grad:
                grads[id(parent)] = pg if id(parent) not in grads else grads[id(parent)] + pg


def _cnnlab_case(make_output, grad_shape=None):
    """(forward, backward, inference) closures: forward rebuilds the op's graph, backward
    runs it, inference runs the op with no graph (as ``predict`` does)."""
    from cnnlab import no_grad

    state = {}

    def forward():
        state.pop("out", None)  # as in training: the last step's graph is gone
        state["out"] = make_output()

    def backward():
        out = state["out"]
        if "grad" not in state:
            state["grad"] = _upstream(out.shape)
        _graph_backward(out, state["grad"])

    def inference():
        with no_grad():
            make_output()

    return forward, backward, inference


def _upstream(shape):
    return np.random.default_rng(1).standard_normal(shape, dtype=np.float32)


def _tensor(shape, requires_grad, seed=0):
    from cnnlab import Tensor

    data = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)
    return Tensor(data, requires_grad=requires_grad)


def cnnlab_conv(h, c, f, first):
    def build(batch):
        from cnnlab import ops

        x = _tensor((batch, h, h, c), requires_grad=not first)
        kernel = _tensor((3, 3, c, f), True, 1)
        bias = _tensor((f,), True, 2)
        return _cnnlab_case(lambda: ops.conv2d(x, kernel, bias, activation="relu"))

    return build


def cnnlab_pool(h, c):
    def build(batch):
        from cnnlab import ops

        x = _tensor((batch, h, h, c), True)
        return _cnnlab_case(lambda: ops.max_pool(x, 2))

    return build


def cnnlab_dense(batch):
    from cnnlab import ops

    x, kernel, bias = (
        _tensor((batch, 1152), True),
        _tensor((1152, 10), True, 1),
        _tensor((10,), True),
    )
    return _cnnlab_case(lambda: ops.dense(x, kernel, bias))


def cnnlab_relu(batch):
    from cnnlab import ops

    x = _tensor((batch, 26, 26, 32), True)
    return _cnnlab_case(lambda: ops.relu(x))


def cnnlab_softmax_ce(batch):
    from cnnlab import ops

    logits = _tensor((batch, 10), True)
    labels = np.random.default_rng(3).integers(0, 10, batch)

    def loss():  # Keras: Dense(10, activation="softmax") + "sparse_categorical_crossentropy"
        return ops.sparse_categorical_crossentropy(labels, ops.softmax(logits)).mean()

    return _cnnlab_case(loss)


# ---- PyTorch side -----------------------------------------------------------------------
def _torch_case(torch, make_output, needs):
    state = {}

    def forward():
        state.pop("out", None)  # as in training: the last step's graph is gone
        state["out"] = make_output()

    def backward():
        out = state["out"]
        if "grad" not in state:
            state["grad"] = torch.from_numpy(_upstream(tuple(out.shape)))
        torch.autograd.grad(out, needs, state["grad"], retain_graph=True)

    def inference():
        with torch.no_grad():
            make_output()

    return forward, backward, inference


def _torch_tensor(torch, shape, requires_grad, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)
    return torch.from_numpy(data).requires_grad_(requires_grad)


def torch_conv(h, c, f, first):
    def build(batch):
        import torch
        from torch.nn import functional as F  # noqa: N812 - the usual alias

        x = _torch_tensor(torch, (batch, c, h, h), requires_grad=not first)
        kernel = _torch_tensor(torch, (f, c, 3, 3), True, 1)
        bias = _torch_tensor(torch, (f,), True, 2)
        needs = [kernel, bias] if first else [x, kernel, bias]
        return _torch_case(torch, lambda: F.relu(F.conv2d(x, kernel, bias)), needs)

    return build


def torch_pool(h, c):
    def build(batch):
        import torch
        from torch.nn import functional as F  # noqa: N812 - the usual alias

        x = _torch_tensor(torch, (batch, c, h, h), True)
        return _torch_case(torch, lambda: F.max_pool2d(x, 2), [x])

    return build


def torch_dense(batch):
    import torch
    from torch.nn import functional as F  # noqa: N812 - the usual alias

    x = _torch_tensor(torch, (batch, 1152), True)
    kernel, bias = _torch_tensor(torch, (10, 1152), True, 1), _torch_tensor(torch, (10,), True)
    return _torch_case(torch, lambda: F.linear(x, kernel, bias), [x, kernel, bias])


def torch_relu(batch):
    import torch

    x = _torch_tensor(torch, (batch, 32, 26, 26), True)
    return _torch_case(torch, lambda: torch.relu(x), [x])


def torch_softmax_ce(batch):
    import torch
    from torch.nn import functional as F  # noqa: N812 - the usual alias

    logits = _torch_tensor(torch, (batch, 10), True)
    labels = torch.from_numpy(np.random.default_rng(3).integers(0, 10, batch))
    return _torch_case(torch, lambda: F.cross_entropy(logits, labels), [logits])


CASES = [
    Case("conv2d", "conv2d 3x3 32 + relu", "28x28x1", cnnlab_conv(28, 1, 32, True),
         torch_conv(28, 1, 32, True)),
    Case("max_pool", "max_pool 2x2", "26x26x32", cnnlab_pool(26, 32), torch_pool(26, 32)),
    Case("conv2d", "conv2d 3x3 64 + relu", "13x13x32", cnnlab_conv(13, 32, 64, False),
         torch_conv(13, 32, 64, False)),
    Case("max_pool", "max_pool 2x2", "11x11x64", cnnlab_pool(11, 64), torch_pool(11, 64)),
    Case("conv2d", "conv2d 3x3 128 + relu", "5x5x64", cnnlab_conv(5, 64, 128, False),
         torch_conv(5, 64, 128, False)),
    Case("dense", "dense 1152->10", "1152", cnnlab_dense, torch_dense),
    Case("softmax_ce", "softmax + sparse CE", "10", cnnlab_softmax_ce, torch_softmax_ce),
    Case("relu", "relu (standalone)", "26x26x32", cnnlab_relu, torch_relu),
]  # fmt: skip
STEP_OPS = ("conv2d", "max_pool", "dense", "softmax_ce")  # one training step (relu is fused)


def run(cases, batch, warmup, repeats, with_torch):
    """Time every case, all cnnlab rows first, then all PyTorch rows: each library's
    idle threads (BLAS, OpenMP) keep spinning for a while after its last call, and
    would slow the other down if the two alternated row by row."""
    times = {id(case): {} for case in cases}
    sides = ["cnnlab"] + ["torch"] * with_torch
    for side in sides:
        for case in cases:
            build = case.build_cnnlab if side == "cnnlab" else case.build_torch
            forward, backward, inference = build(batch)
            forward()  # a graph for backward's warm-up
            timed = tuple(_timed(fn, warmup, repeats) for fn in (forward, backward, inference))
            times[id(case)][side] = timed
        time.sleep(0.5)  # let this side's worker threads go to sleep
    return [(case, times[id(case)]) for case in cases]


def table(rows, batch) -> str:
    lines = [
        f"| op (batch {batch}) | input | pass | cnnlab ms | torch ms | cnnlab / torch |",
        "|---|---|---|---:|---:|---:|",
    ]
    totals = {"cnnlab": 0.0, "torch": 0.0}

    def line(label, shape, name, ours, theirs):
        ratio = f"{ours / theirs:.2f}" if theirs else "-"
        theirs_text = f"{theirs:.2f}" if theirs is not None else "-"
        return f"| {label} | {shape} | {name} | {ours:.2f} | {theirs_text} | {ratio} |"

    for case, times in rows:
        for index, name in enumerate(("forward", "backward", "inference")):
            ours = times["cnnlab"][index]
            theirs = times["torch"][index] if "torch" in times else None
            lines.append(line(case.label, case.shape, name, ours, theirs))
            if case.op in STEP_OPS and name != "inference":
                totals["cnnlab"] += ours
                totals["torch"] += theirs or 0.0
    has_torch = all("torch" in times for _, times in rows)
    if any(case.op in STEP_OPS for case, _ in rows):
        lines.append(
            line("**sum: one training step**", "", "both", totals["cnnlab"],
                 totals["torch"] if has_torch else None)
        )  # fmt: skip
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=positive_int, default=128)
    parser.add_argument("--repeats", type=positive_int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", choices=sorted({c.op for c in CASES}), action="append")
    parser.add_argument("--no-torch", action="store_true", help="time cnnlab only")
    parser.add_argument("--quick", action="store_true", help="1 repeat at batch 8 (smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.repeats, args.warmup = 8, 1, 0
    with_torch = not args.no_torch
    if with_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: timing cnnlab only.", file=sys.stderr)
            with_torch = False
        else:
            torch.set_num_threads(2)
    cases = [c for c in CASES if not args.only or c.op in args.only]
    rows = run(cases, args.batch, args.warmup, args.repeats, with_torch)
    info = machine()
    versions = f"numpy {np.__version__}"
    if with_torch:
        versions += f", torch {torch.__version__} ({torch.get_num_threads()} threads)"
    print(f"Machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, {versions}")
    print(
        f"BLAS: {blas_description()} (OPENBLAS_CORETYPE={info['OPENBLAS_CORETYPE']}, "
        f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')})"
    )
    print(f"Median of {args.repeats} runs after {args.warmup} warm-up runs.\n")
    print(table(rows, args.batch))


if __name__ == "__main__":
    main()
