"""The lecture's X-versus-O toy convnet."""

import numpy as np

from cnnlab.explain import xo_example

# The lecture's numbers are truncated to two decimals (7/9 is shown as 0.77).
LECTURE_DIAGONAL_MAP = [
    [0.77, -0.11, 0.11, 0.33, 0.55, -0.11, 0.33],
    [-0.11, 1.00, -0.11, 0.33, -0.11, 0.11, -0.11],
    [0.11, -0.11, 1.00, -0.33, 0.11, -0.11, 0.55],
    [0.33, 0.33, -0.33, 0.55, -0.33, 0.33, 0.33],
    [0.55, -0.11, 0.11, -0.33, 1.00, -0.11, 0.11],
    [-0.11, 0.11, -0.11, 0.33, -0.11, 1.00, -0.11],
    [0.33, -0.11, 0.55, 0.33, 0.11, -0.11, 0.77],
]
LECTURE_POOLED = [
    [1.00, 0.33, 0.55, 0.33],
    [0.33, 1.00, 0.33, 0.55],
    [0.55, 0.33, 1.00, 0.11],
    [0.33, 0.55, 0.11, 0.77],
]


def _truncate(a):
    return np.trunc(np.round(a * 100, 6)) / 100


def test_lecture_response_map_and_pooling():
    ex = xo_example()
    np.testing.assert_allclose(_truncate(ex.maps["X"]["diagonal \\"]), LECTURE_DIAGONAL_MAP)
    np.testing.assert_allclose(_truncate(ex.pooled["X"]["diagonal \\"]), LECTURE_POOLED)
    # the "/" filter sees the mirror image of what "\" sees
    np.testing.assert_allclose(ex.maps["X"]["diagonal /"], ex.maps["X"]["diagonal \\"][:, ::-1])
    assert ex.maps["X"]["small x"][3, 3] == 1.0  # the centre of the X matches exactly


def test_votes():
    ex = xo_example()
    assert ex.prediction("X") == "X" and ex.prediction("O") == "O"
    assert ex.prediction("shifted X") == "X"
    assert ex.scores["X"]["X"] == 1.0
    text = ex.to_text()
    assert "vote (cosine similarity" in text and "-> X" in text and "-> O" in text
