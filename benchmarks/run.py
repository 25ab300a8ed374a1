"""One command, one run: cnnlab, PyTorch and (when installed) Keras/TensorFlow train the
lecture's models on full MNIST one after the other, each in its own child process (so
peak RSS is each framework's own), then print a Markdown table of epoch times,
inference speed, peak memory and accuracy with cnnlab/peer ratios.

    python benchmarks/run.py                       # 5 epochs of both models
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py
    python benchmarks/run.py --epochs 2 --limit 2000 --models dense   # quick
    python benchmarks/run.py --models vgg resnet --repeat 3 --skip-ops   # model families

``--models`` takes the lecture's two MNIST models (``convnet``, ``dense``: full epochs) and
the families of ``families.py`` (``convnet_dropout``, ``cifar_convnet``, ``vgg``, ``resnet``:
training steps and inference on synthetic data of the right shape, every framework in its own
child process, interleaved ``--repeat`` times; the table gives the median of the repeats).

It ends with the per-op table of ``ops.py`` (conv2d, max_pool, dense, relu, softmax-CE,
forward and backward, cnnlab/PyTorch ratios); ``--skip-ops`` leaves it out.

Keras runs with ``--keras-python PATH`` (an interpreter that has TensorFlow), else with
this interpreter when it can import keras, else it is reported as missing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from _common import blas_description, machine, median_epoch
from families import FAMILIES

HERE = Path(__file__).resolve().parent


def run_child(python: str, script: str, model: str, args) -> dict | str:
    command = [python, str(HERE / script), model, "--epochs", str(args.epochs)]
    if args.limit:
        command += ["--limit", str(args.limit)]
    print("$", " ".join(command), flush=True)
    done = subprocess.run(command, capture_output=True, text=True, cwd=HERE)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    last = ((done.stderr or done.stdout).strip().splitlines() or ["no output"])[-1]
    return f"failed (exit {done.returncode}): {last}"


def run_ops(args) -> str:
    """The per-op table of ``ops.py`` (its Markdown rows), run as one more child process;
    a short run when ``--limit`` asks for a quick one."""
    command = [sys.executable, str(HERE / "ops.py")]
    if args.limit:
        command.append("--quick")
    if args.skip_torch:
        command.append("--no-torch")
    print("$", " ".join(command), flush=True)
    done = subprocess.run(command, capture_output=True, text=True, cwd=HERE)
    rows = [line for line in done.stdout.splitlines() if line.startswith("|")]
    if done.returncode or not rows:
        last = ((done.stderr or done.stdout).strip().splitlines() or ["no output"])[-1]
        return f"ops.py failed (exit {done.returncode}): {last}"
    return "\n".join(rows)


def run_family(python: str, framework: str, family: str, args) -> dict | str:
    command = [python, str(HERE / "families.py"), framework, family]
    command += ["--steps", str(args.steps), "--images", str(args.images)]
    print("$", " ".join(command), flush=True)
    done = subprocess.run(command, capture_output=True, text=True, cwd=HERE)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    last = ((done.stderr or done.stdout).strip().splitlines() or ["no output"])[-1]
    return f"failed (exit {done.returncode}): {last}"


def family_table(runs: dict) -> str:
    """One row per family and framework: medians over the repeats, and cnnlab / peer ratios
    (step time: below 1 means cnnlab is faster; images/s: above 1 means cnnlab is faster)."""
    import statistics

    rows = [
        "| family | framework | step (s) | inference images/s | peak RSS | "
        "cnnlab/peer step | cnnlab/peer images/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for family, by_framework in runs.items():
        medians = {}
        for name, results in by_framework.items():
            good = [r for r in results if isinstance(r, dict)]
            if not good:
                rows.append(f"| {family} | {name} | {results[-1]} | | | | |")
                continue
            medians[name] = {
                key: statistics.median(r[key] for r in good)
                for key in ("step_seconds", "inference_images_per_s", "peak_rss_gb")
            }
            medians[name]["framework"] = good[-1]["framework"]
        ours = medians.get("cnnlab")
        for name, m in medians.items():
            ratios = (
                f"{ours['step_seconds'] / m['step_seconds']:.2f}x | "
                f"{ours['inference_images_per_s'] / m['inference_images_per_s']:.2f}x"
                if ours and name != "cnnlab"
                else " | "
            )
            rows.append(
                f"| {family} | {m['framework']} | {m['step_seconds']:.3f} | "
                f"{m['inference_images_per_s']:,.0f} | {m['peak_rss_gb']:.2f} GB | {ratios} |"
            )
    return "\n".join(rows)


def table(results: dict, epochs: int) -> str:
    rows = [
        "| framework | model | epoch (median of 2..) | inference images/s | peak RSS | "
        "test accuracy | cnnlab epoch ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for model, by_framework in results.items():
        ours = by_framework.get("cnnlab")
        for name, result in by_framework.items():
            if isinstance(result, str):
                rows.append(f"| {name} | {model} | {result} | | | | |")
                continue
            epoch = median_epoch(result["epoch_times"])
            ratio = (
                f"{median_epoch(ours['epoch_times']) / epoch:.2f}x"
                if isinstance(ours, dict) and name != "cnnlab"
                else ""
            )
            rows.append(
                f"| {result['framework']} | {model} | {epoch:.2f} s | "
                f"{result['inference_images_per_s']:,.0f} | {result['peak_rss_gb']:.2f} GB | "
                f"{result['test_accuracy']:.4f} | {ratio} |"
            )
    return "\n".join(rows) + f"\n\n{epochs} epochs, batch 128, RMSprop.\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None, help="first N train/test images")
    parser.add_argument(
        "--models", nargs="+", default=["convnet", "dense"], choices=["dense", *FAMILIES]
    )
    parser.add_argument("--steps", type=int, default=20, help="timed steps per family run")
    parser.add_argument("--images", type=int, default=10000, help="images per inference pass")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved runs per family")
    parser.add_argument(
        "--families-only", action="store_true", help="run convnet as a family, not as epochs"
    )
    parser.add_argument("--keras-python", default=None, help="interpreter with TensorFlow")
    parser.add_argument("--skip-torch", action="store_true")
    parser.add_argument(
        "--skip-ops", action="store_true", help="leave out the per-op table (benchmarks/ops.py)"
    )
    args = parser.parse_args()
    peers = {"cnnlab": (sys.executable, "train_cnnlab.py")}
    if not args.skip_torch:
        if importlib.util.find_spec("torch"):
            peers["PyTorch"] = (sys.executable, "train_torch.py")
        else:
            print("PyTorch: not installed (pip install -e '.[bench]')")
    keras_python = args.keras_python or (
        sys.executable if importlib.util.find_spec("keras") else None
    )
    if keras_python:
        peers["Keras"] = (keras_python, "train_keras.py")
    else:
        print("Keras/TensorFlow: not installed, skipped (pass --keras-python)")
    epoch_models = [
        m for m in args.models if m == "dense" or (m == "convnet" and not args.families_only)
    ]
    families = [m for m in args.models if m not in epoch_models]
    results = {}
    for model in epoch_models:
        results[model] = {}
        for name, (python, script) in peers.items():
            results[model][name] = run_child(python, script, model, args)
    frameworks = {"cnnlab": (sys.executable, "cnnlab")}
    if "PyTorch" in peers:
        frameworks["PyTorch"] = (sys.executable, "torch")
    if "Keras" in peers:
        frameworks["Keras"] = (peers["Keras"][0], "keras")
    family_runs = {family: {name: [] for name in frameworks} for family in families}
    for _ in range(args.repeat):
        for family in families:
            for name, (python, framework) in frameworks.items():
                family_runs[family][name].append(run_family(python, framework, family, args))
    ops_table = None if args.skip_ops else run_ops(args)
    print(f"\nMachine: {machine()}; NumPy BLAS: {blas_description()}\n")
    if results:
        print(table(results, args.epochs))
    if family_runs:
        print(family_table(family_runs))
        print(f"\nMedian of {args.repeat} interleaved run(s); {args.steps} timed steps each.\n")
    for model, by_framework in results.items():
        for name, result in by_framework.items():
            if isinstance(result, dict) and result.get("blas"):
                print(f"{name} {model}: {result['blas']}")
    if ops_table:
        print("\nPer op (benchmarks/ops.py, whole batches, cnnlab then PyTorch):\n")
        print(ops_table)
    print("RAW " + json.dumps({"epochs": results, "families": family_runs}))


if __name__ == "__main__":
    main()
