"""The allocator policy: glibc keeps freed memory unless told not to (CNNLAB_ALLOCATOR=system)."""

import os
import platform
import subprocess
import sys

import pytest


def _policy_in_child(value):
    code = (
        "from cnnlab.engine import allocator as a; "
        "print(a.apply_policy(), a.apply_policy(), a._memory_kept)"
    )
    env = {k: v for k, v in os.environ.items() if k != "CNNLAB_ALLOCATOR"}
    if value is not None:
        env["CNNLAB_ALLOCATOR"] = value
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.split()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="allocator tuning is glibc-only")
def test_freed_memory_is_kept_unless_told_not_to():
    assert _policy_in_child("keep") == ["True", "True", "True"]
    assert _policy_in_child(None) == ["True", "True", "True"]  # the default
    assert _policy_in_child("system") == ["False", "False", "None"]  # mallopt never called


def test_a_bad_setting_names_the_variable():
    env = {**os.environ, "CNNLAB_ALLOCATOR": "jemalloc"}
    done = subprocess.run(
        [sys.executable, "-c", "import cnnlab"], capture_output=True, text=True, env=env
    )
    assert done.returncode != 0
    assert "CNNLAB_ALLOCATOR must be 'system' or 'keep'. Received: CNNLAB_ALLOCATOR='jemalloc'" in (
        done.stderr
    )


def test_kept_memory_is_handed_back_when_the_outermost_run_ends(monkeypatch):
    from cnnlab.config import settings
    from cnnlab.engine import allocator

    trims = []
    monkeypatch.setattr(allocator, "_trim", lambda: trims.append(1))
    monkeypatch.setattr(allocator, "apply_policy", lambda: settings.allocator == "keep")
    monkeypatch.setattr(settings, "allocator", "keep")
    with allocator.run_policy():  # fit
        with allocator.run_policy():  # its validation evaluate
            pass
        assert trims == []
    assert trims == [1]
    monkeypatch.setattr(settings, "allocator", "system")
    with allocator.run_policy():
        pass
    assert trims == [1]
