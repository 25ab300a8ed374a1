"""The backend's switch points: array module, float dtypes."""

import re

import numpy as np
import pytest

from cnnlab import backend


def test_array_module_is_numpy_for_numpy_arrays_and_scalars():
    assert backend.get_array_module(np.zeros(2), 1.0, None) is np


@pytest.mark.parametrize("dtype", ["float32", np.float64])
def test_resolve_float_dtype_accepts_float32_and_float64(dtype):
    assert backend.resolve_float_dtype(dtype) == np.dtype(dtype)


def test_resolve_float_dtype_rejects_other_dtypes_by_name():
    message = "dtype must be 'float32' or 'float64'. Received: 'int8'"
    with pytest.raises(ValueError, match=re.escape(message)):
        backend.resolve_float_dtype("int8")
