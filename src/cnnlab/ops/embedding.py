"""Embedding lookup: row ``ids[...]`` of a ``(V, D)`` table for every integer id.

Forward is a gather, ``out[..., :] = table[ids[...], :]``; backward is the matching
scatter-add, ``dtable[v] = sum of g[...] over every position where ids == v`` (an id
used twice gets both gradients), which ``np.add.at`` does without losing repeats.
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Function, Tensor
from cnnlab.ops.padding import as_float_tensor


class EmbeddingFunction(Function):
    """``table[ids]``; ``ids`` is a parameter (integers have no gradient)."""

    def forward(self, table, ids):
        self.ids, self.rows = ids, table.shape[0]
        return table[ids]

    def backward(self, g):
        dtable = np.zeros((self.rows, g.shape[-1]), g.dtype)
        np.add.at(dtable, self.ids, g)
        return (dtable,)


def embedding(ids, table) -> Tensor:
    """Look up the rows of ``table`` for integer ``ids``.

    Args:
        ids: integers in ``[0, V)``, any shape ``S`` (an array, list or Tensor; floats
            holding whole numbers are accepted, as Keras casts them).
        table: ``(V, D)``.

    Returns:
        ``(*S, D)``.

    Raises:
        ValueError: a table that is not 2-D, ids that are not whole numbers or are
            outside ``[0, V)``.

    Example:
        >>> embedding([[2, 0]], [[0.0, 0.0], [1.0, 1.0], [2.0, 4.0]]).numpy()
        array([[[2., 4.],
                [0., 0.]]], dtype=float32)
    """
    table = as_float_tensor(table, "table", "embedding")
    if table.ndim != 2:
        raise ValueError(f"embedding: table must be (V, D). Received shape {table.shape}")
    raw = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
    if raw.dtype.kind not in "biuf" or (raw.dtype.kind == "f" and np.any(raw != np.round(raw))):
        raise ValueError(f"embedding: ids must be whole numbers. Received dtype {raw.dtype}")
    ids = raw.astype(np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= table.shape[0]):
        raise ValueError(
            f"embedding: ids must be in [0, {table.shape[0]}) (input_dim). Received ids in "
            f"[{ids.min()}, {ids.max()}]"
        )
    return EmbeddingFunction.apply(table, ids=ids)
