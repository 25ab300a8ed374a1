"""keras.utils.normalize against numpy.linalg.norm."""

import numpy as np
import pytest

from cnnlab.keras import utils


def test_normalize_rows_and_axes():
    x = np.random.default_rng(0).standard_normal((3, 4))
    y = utils.normalize(x)
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), 1.0)
    np.testing.assert_allclose(y * np.linalg.norm(x, axis=-1, keepdims=True), x)
    z = utils.normalize(x, axis=0, order=1)
    np.testing.assert_allclose(np.abs(z).sum(axis=0), 1.0)
    np.testing.assert_array_equal(utils.normalize(np.zeros((2, 3))), np.zeros((2, 3)))


def test_normalize_bad_arguments():
    with pytest.raises(TypeError, match="axis must be an int"):
        utils.normalize([[1.0]], axis=1.5)
    with pytest.raises(ValueError, match="axis must be in"):
        utils.normalize([[1.0]], axis=3)
    with pytest.raises(ValueError, match="x must hold numbers"):
        utils.normalize(["a"])
