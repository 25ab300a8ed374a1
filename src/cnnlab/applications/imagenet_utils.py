"""The 1,000 ImageNet (ILSVRC-2012) classes, and Keras' ``decode_predictions``.

``imagenet_classes.txt`` holds one ``<WordNet id> <name>`` per line, in class-index
order: Keras' ``imagenet_class_index.json`` (so ``crane`` and ``maillot`` each appear
twice, as there).
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

NUM_CLASSES = 1000


@functools.cache
def imagenet_classes() -> tuple[tuple[str, str], ...]:
    """``((wnid, name), ...)`` for the 1,000 classes, index order.

    Example:
        >>> imagenet_classes()[281]
        ('n02123045', 'tabby')
    """
    text = resources.files("cnnlab.applications").joinpath("imagenet_classes.txt").read_text()
    rows = tuple(tuple(line.split(" ", 1)) for line in text.splitlines() if line.strip())
    if len(rows) != NUM_CLASSES:  # pragma: no cover - a broken installation
        raise RuntimeError(f"imagenet_classes.txt holds {len(rows)} classes, not 1000")
    return rows


def decode_predictions(preds, top=5):
    """The ``top`` classes of each prediction, best first, as Keras returns them.

    Args:
        preds: array of shape ``(samples, 1000)`` (probabilities or logits).
        top: how many classes per sample (1..1000).

    Returns:
        A list (one per sample) of lists of ``(wnid, class_name, score)``.

    Raises:
        ValueError: ``preds`` is not 2-D with 1000 columns, or ``top`` is out of range.

    Example:
        >>> p = np.zeros((1, 1000), "float32"); p[0, 281] = 0.9; p[0, 285] = 0.1
        >>> [(name, round(float(s), 2)) for _, name, s in decode_predictions(p, top=2)[0]]
        [('tabby', 0.9), ('Egyptian_cat', 0.1)]
    """
    preds = np.asarray(preds.numpy() if hasattr(preds, "numpy") else preds)
    if preds.ndim != 2 or preds.shape[1] != NUM_CLASSES:
        raise ValueError(
            "`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
            f"(samples, 1000)). Received array with shape: {preds.shape}"
        )
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= NUM_CLASSES:
        raise ValueError(f"decode_predictions: top must be an int in [1, 1000]. Received: {top!r}")
    classes = imagenet_classes()
    results = []
    for row in preds:
        best = np.argsort(-row, kind="stable")[:top]
        results.append([(*classes[i], row[i]) for i in best])
    return results
