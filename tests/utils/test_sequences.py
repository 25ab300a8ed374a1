"""keras.utils.pad_sequences against a plain loop of Keras' rules."""

import numpy as np
import pytest

from cnnlab.keras import utils

RAW = [[711, 632, 71], [73, 8, 3215, 55, 927], [83, 91, 1, 645, 1253, 927], []]


def _loop(seqs, maxlen, padding, truncating, value):
    out = []
    for s in seqs:
        s = list(s)
        if len(s) > maxlen:
            s = s[len(s) - maxlen :] if truncating == "pre" else s[:maxlen]
        fill = [value] * (maxlen - len(s))
        out.append(fill + s if padding == "pre" else s + fill)
    return np.array(out)


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 4, 8])
def test_padding_and_truncating_as_a_plain_loop(padding, truncating, maxlen):
    got = utils.pad_sequences(RAW, maxlen=maxlen, padding=padding, truncating=truncating,
                              value=-1)  # fmt: skip
    expected = _loop(RAW, maxlen or 6, padding, truncating, -1)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.int32


def test_feature_vectors_dtype_and_errors():
    seqs = [np.ones((2, 3)), np.full((1, 3), 2.0)]
    got = utils.pad_sequences(seqs, dtype="float32", padding="post")
    assert got.shape == (2, 2, 3) and got.dtype == np.float32
    np.testing.assert_array_equal(got[1, 1], 0.0)
    with pytest.raises(ValueError, match="padding"):
        utils.pad_sequences(RAW, padding="middle")
    with pytest.raises(ValueError, match="maxlen"):
        utils.pad_sequences(RAW, maxlen=-1)
    with pytest.raises(ValueError, match="steps of shape"):
        utils.pad_sequences([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(TypeError, match="list of sequences"):
        utils.pad_sequences(5)
