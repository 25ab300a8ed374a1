"""Root test set-up, shared by the tests and the doctests in src/: where the data lives."""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen on CI machines

REPO_ROOT = Path(__file__).resolve().parent
# Tests and doctests read MNIST from ../shared/data unless CNNLAB_DATA says otherwise.
os.environ.setdefault("CNNLAB_DATA", str(REPO_ROOT.parent / "shared" / "data"))
