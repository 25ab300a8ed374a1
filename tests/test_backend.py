"""The backend's switch points: array module, float dtypes, allocator tuning."""

import platform
import re
import subprocess
import sys

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


def _keep_freed_memory_in_child(env_value):
    code = "from cnnlab.backend import keep_freed_memory as k; print(k(), k())"
    env = {"CNNLAB_MALLOC": env_value} if env_value else {}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.split()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="allocator tuning is glibc-only")
def test_keep_freed_memory_tunes_glibc_once_and_can_be_switched_off():
    assert _keep_freed_memory_in_child(None) == ["True", "True"]
    assert _keep_freed_memory_in_child("system") == ["False", "False"]
