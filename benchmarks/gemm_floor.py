"""The GEMM floor of a lecture-convnet epoch on this machine, and what cnnlab's matrix
products alone take.

Three numbers, all measured here:

* this machine's float32 matrix-product peak: a 2048^3 product on the configured BLAS
  threads (NumPy's BLAS);
* the floor: the epoch's matrix-product work (forward, kernel gradient and input
  gradient of every convolution and the dense layer, as im2col products; 60,000
  images) divided by that peak;
* cnnlab's products alone: exactly the products one training step runs (each shard of
  a 128-image batch: 64 images, im2col shapes with the bias column, one BLAS thread per
  shard, the two shards on two threads at once, as ``fit`` runs them), per step and
  per epoch (469 steps).

The last one bounds what any amount of work on the other passes (im2col copies,
col2im, pooling, Python) could reach with these products.

Usage::

    python benchmarks/gemm_floor.py            # --repeats 30
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/gemm_floor.py
    python benchmarks/gemm_floor.py --quick    # small sizes, 2 repeats: a smoke test whose
                                               # per-epoch numbers mean nothing
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import numpy as np

from _common import blas_description, positive_int

IMAGES_PER_EPOCH = 60_000
STEPS_PER_EPOCH = 469  # ceil(60000 / 128)

# The lecture convnet: (output side, kernel side, input channels, filters) per convolution
# on 28x28x1 images (3x3 valid convolutions, 2x2 pooling after the first two), then a
# 1152 -> 10 dense layer.
CONVS = [(26, 3, 1, 32), (11, 3, 32, 64), (3, 3, 64, 128)]
DENSE = (1152, 10)


def step_products(images: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The (M, K) @ (K, N) shapes of one training step on ``images`` images: for each
    convolution ``cols @ [kernel; bias]``, ``[cols, 1]^T @ dy`` and (but for the first,
    whose input is data) ``dy @ kernel^T``; the same three for the dense layer."""
    shapes = []
    for index, (side, k, c, f) in enumerate(CONVS):
        rows, width = images * side * side, k * k * c
        shapes += [((rows, width + 1), (width + 1, f)), ((width + 1, rows), (rows, f))]
        if index > 0:
            shapes.append(((rows, f), (f, width)))
    n_in, n_out = DENSE
    shapes += [((images, n_in), (n_in, n_out)), ((n_in, images), (images, n_out))]
    shapes.append(((images, n_out), (n_out, n_in)))
    return shapes


def flops(shapes) -> int:
    return sum(2 * m * k * n for (m, k), (_, n) in shapes)


def peak_gflops(size: int, repeats: int) -> float:
    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    b = np.random.default_rng(1).random((size, size), dtype=np.float32)
    a @ b
    best = min(_seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def sharded_step_seconds(images_per_shard: int, shards: int, repeats: int) -> float:
    """Wall time of one step's products: ``shards`` threads, one BLAS thread each."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    operands = [
        (rng.random(a, dtype=np.float32), rng.random(b, dtype=np.float32))
        for a, b in step_products(images_per_shard)
    ]
    barrier, times = threading.Barrier(shards), []

    def shard():
        with threadpool_limits(1):
            for _ in range(2):  # warm-up
                for a, b in operands:
                    a @ b
            barrier.wait()
            start = time.perf_counter()
            for _ in range(repeats):
                for a, b in operands:
                    a @ b
            times.append((time.perf_counter() - start) / repeats)

    threads = [threading.Thread(target=shard) for _ in range(shards)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return max(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=positive_int, default=30)
    parser.add_argument("--quick", action="store_true", help="small sizes, 2 repeats")
    args = parser.parse_args(argv)
    size, images, repeats = (256, 4, 2) if args.quick else (2048, 64, args.repeats)
    peak = peak_gflops(size, max(3, repeats // 5))
    epoch_flops = flops(step_products(1)) * IMAGES_PER_EPOCH
    floor = epoch_flops / (peak * 1e9)
    step = sharded_step_seconds(images, 2, repeats)
    step_flops = 2 * flops(step_products(images))
    print(
        f"BLAS: {blas_description()} (OPENBLAS_CORETYPE="
        f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
        f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')})"
    )
    print(f"float32 product peak ({size}^3): {peak:.0f} GFLOP/s")
    print(
        f"epoch's matrix products: {epoch_flops / 1e12:.2f} TFLOP -> GEMM floor {floor:.2f} s "
        "per epoch"
    )
    print(
        f"cnnlab's products alone: {step * 1e3:.2f} ms per step (2 shards of {images} images, "
        f"{step_flops / step / 1e9:.0f} GFLOP/s) -> {step * STEPS_PER_EPOCH:.2f} s per epoch, "
        f"{step * STEPS_PER_EPOCH / floor:.2f}x the floor"
    )


if __name__ == "__main__":
    main()
