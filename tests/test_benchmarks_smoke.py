"""The per-op benchmark runs end to end (1 repeat at batch 8), so it cannot rot.
No timing is asserted: only that the table, the BLAS line and every row come out."""

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run(script, *args):
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_ops_benchmark_prints_the_table():
    out = run("ops.py", "--quick")
    assert "BLAS: " in out and "Machine: " in out
    assert "| op (batch 8) | input | pass | cnnlab ms | torch ms | cnnlab / torch |" in out
    for row in ("conv2d 3x3 32 + relu", "max_pool 2x2", "dense 1152->10", "softmax + sparse CE"):
        assert f"| {row} |" in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "ms" not in line]
    assert len(rows) == 3 * 8 + 1  # forward, backward and inference of 8 ops, the step sum


def test_conv2d_benchmark_runs_without_torch():
    out = run("conv2d.py", "--quick", "--no-torch")
    assert out.count("| conv2d 3x3") == 9 and "max_pool" not in out  # 3 convolutions x 3 passes


def test_gemm_floor_benchmark_prints_its_three_numbers():
    out = run("gemm_floor.py", "--quick")
    assert "BLAS: " in out and "float32 product peak (256^3): " in out
    assert "epoch's matrix products: 1.10 TFLOP -> GEMM floor" in out  # the lecture convnet
    assert "cnnlab's products alone: " in out and "x the floor" in out


def test_gemm_floor_counts_the_lecture_convnets_products():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import gemm_floor
    finally:
        sys.path.remove(str(BENCHMARKS))
    shapes = gemm_floor.step_products(1)
    assert len(shapes) == 3 * 3 + 3 - 1  # 3 products per layer, none for dx of the first
    # per image: forward MACs of the three convolutions (with bias column) and the dense layer
    forward = [m * k * n for (m, k), (_, n) in shapes[0:1] + shapes[2:3] + shapes[5:6]]
    assert forward == [26 * 26 * 10 * 32, 11 * 11 * 289 * 64, 3 * 3 * 577 * 128]


def test_benchmark_options_name_a_bad_count():
    for script in ("gemm_floor.py", "ops.py"):
        done = subprocess.run(
            [sys.executable, str(BENCHMARKS / script), "--repeats", "0"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 2
        assert "argument --repeats: expected a whole number >= 1, got 0" in done.stderr


def test_model_families_are_the_same_network_in_cnnlab_and_pytorch():
    """Each benchmark family has as many trainable parameters in cnnlab as in PyTorch, and
    one cnnlab training step and prediction run on a small batch of the family's shape."""
    import numpy as np

    sys.path.insert(0, str(BENCHMARKS))
    try:
        import families
    finally:
        sys.path.remove(str(BENCHMARKS))
    from cnnlab import keras

    for family, (shape, _, _, _) in families.FAMILIES.items():
        model = families.build_keras_style(keras, family)
        ours = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        torch_model, _ = families.build_torch(family)
        theirs = sum(p.numel() for p in torch_model.parameters())
        assert ours == theirs, family
        x = np.random.default_rng(0).random((2, *shape), dtype=np.float32)
        model.train_on_batch(x, np.array([1, 2]))
        assert model.predict(x, verbose=0).shape == (2, 10)
