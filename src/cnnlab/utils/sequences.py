"""``pad_sequences``: lists of different lengths -> one rectangular array, as Keras."""

from __future__ import annotations

import numbers

import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0) -> np.ndarray:  # fmt: skip
    """Pad (or cut) every sequence to ``maxlen`` steps.

    Args:
        sequences: a list of sequences (lists or arrays of ids, or of equal-shaped
            feature vectors).
        maxlen: the length of the result; default the longest sequence.
        dtype: of the result (``"int32"``, as Keras).
        padding: ``"pre"`` (Keras' default: values added before each sequence) or
            ``"post"`` (after it, what ``Embedding(mask_zero=True)`` masks naturally).
        truncating: which end a longer sequence loses steps from: ``"pre"`` or ``"post"``.
        value: the padding value.

    Returns:
        ``(len(sequences), maxlen, *feature_shape)`` array.

    Raises:
        ValueError: bad ``padding``/``truncating``/``maxlen``, or sequences whose
            steps differ in shape. TypeError: ``sequences`` not a list of sequences.

    Example:
        >>> pad_sequences([[711, 632, 71], [73, 8, 3215, 55]], padding="post")
        array([[ 711,  632,   71,    0],
               [  73,    8, 3215,   55]], dtype=int32)
    """
    for name, given in (("padding", padding), ("truncating", truncating)):
        if given not in ("pre", "post"):
            raise ValueError(f'pad_sequences: {name} must be "pre" or "post". '
                             f"Received: {name}={given!r}")  # fmt: skip
    if maxlen is not None and (
        isinstance(maxlen, bool) or not isinstance(maxlen, numbers.Integral) or maxlen < 0
    ):
        raise ValueError(f"pad_sequences: maxlen must be None or an int >= 0. Received: {maxlen!r}")
    try:
        lengths = [len(s) for s in sequences]
    except TypeError:
        raise TypeError(
            "pad_sequences: `sequences` must be a list of sequences (lists or arrays). "
            f"Received: {type(sequences).__name__}"
        ) from None
    steps = max(lengths, default=0) if maxlen is None else int(maxlen)
    sample_shape = next((np.asarray(s).shape[1:] for s in sequences if len(s)), ())
    out = np.full((len(lengths), steps, *sample_shape), value, dtype=dtype)
    for i, seq in enumerate(sequences):
        if not len(seq) or steps == 0:
            continue
        kept = np.asarray(seq[-steps:] if truncating == "pre" else seq[:steps], dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(
                f"pad_sequences: every step must have shape {sample_shape}. Sequence {i} has "
                f"steps of shape {kept.shape[1:]}"
            )
        if padding == "post":
            out[i, : len(kept)] = kept
        else:
            out[i, steps - len(kept) :] = kept
    return out
