"""cnnlab's settings: one object, read from the environment once, changeable at run time.

=============  ==========================  ============  =====================================
setting        environment                 default       what it does
=============  ==========================  ============  =====================================
``fast``       ``CNNLAB_FAST=0`` (or       on            the tuned kernels of ``cnnlab.fast``
               ``CNNLAB_ACCELERATOR=                     and the engine's tricks (shards,
               numpy``)                                  replay, rewrites); off runs the
                                                         reference ops end to end
``winograd``   ``CNNLAB_WINOGRAD=0``       on            Winograd F(4x4, 3x3) for 3x3
                                                         convolutions, inference and
                                                         training (with fast)
``replay``     ``CNNLAB_REPLAY=0``         on            ``fit``/``predict``/``evaluate``
                                                         replay a model's recorded ops (with
                                                         fast)
``fold``       ``CNNLAB_FOLD=0``           on            at inference, BatchNormalization
                                                         folded into the convolution before
                                                         it (with fast; ``engine.folding``)
``threads``    ``CNNLAB_THREADS=N``        one per core  shards a batch is cut into, one
                                                         thread each; 1 runs batches whole
``allocator``  ``CNNLAB_ALLOCATOR``         ``"keep"``    ``"keep"``: within ``fit``/
                                                         ``evaluate``/``predict`` glibc
                                                         keeps freed memory for the next
                                                         step; ``"system"`` leaves glibc
                                                         as the process set it up
=============  ==========================  ============  =====================================

Example:
    >>> from cnnlab import config
    >>> with config.override(fast=False):
    ...     config.settings.fast
    False
    >>> config.settings.threads is None or config.settings.threads >= 1
    True
"""

from __future__ import annotations

import contextlib
import dataclasses
import os

ALLOCATORS = ("system", "keep")


@dataclasses.dataclass
class Settings:
    """The settings of the table above (module docstring)."""

    fast: bool = True
    winograd: bool = True
    replay: bool = True
    fold: bool = True
    threads: int | None = None
    allocator: str = "keep"

    def __setattr__(self, name, value):
        if name not in _CHECKS:
            raise AttributeError(f"config: unknown setting {name!r}. Known: {', '.join(_CHECKS)}")
        object.__setattr__(self, name, _CHECKS[name](value))


def _flag(name):
    def check(value):
        if not isinstance(value, bool):
            raise TypeError(f"config: {name} must be True or False. Received: {value!r}")
        return value

    return check


def _threads(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"config: threads must be a positive int or None. Received: {value!r}")
    if value < 1:
        raise ValueError(f"config: threads must be a positive int or None. Received: {value}")
    return value


def _allocator(value):
    if value not in ALLOCATORS:
        raise ValueError(f"config: allocator must be 'system' or 'keep'. Received: {value!r}")
    return value


_CHECKS = {
    "fast": _flag("fast"),
    "winograd": _flag("winograd"),
    "replay": _flag("replay"),
    "fold": _flag("fold"),
    "threads": _threads,
    "allocator": _allocator,
}


def from_environment(environ=None) -> Settings:
    """The settings the environment variables of the table ask for."""
    env = os.environ if environ is None else environ
    settings = Settings()
    settings.fast = env.get("CNNLAB_FAST", "1") != "0" and (
        env.get("CNNLAB_ACCELERATOR", "").lower() != "numpy"
    )
    settings.winograd = env.get("CNNLAB_WINOGRAD", "1") != "0"
    settings.replay = env.get("CNNLAB_REPLAY", "1") != "0"
    settings.fold = env.get("CNNLAB_FOLD", "1") != "0"
    threads = env.get("CNNLAB_THREADS", "").strip()
    if threads:
        if not threads.isdigit() or int(threads) < 1:
            raise ValueError(
                f"CNNLAB_THREADS must be a positive integer. Received: CNNLAB_THREADS={threads!r}"
            )
        settings.threads = int(threads)
    allocator = env.get("CNNLAB_ALLOCATOR", "").strip().lower()
    if allocator:
        if allocator not in ALLOCATORS:
            raise ValueError(
                "CNNLAB_ALLOCATOR must be 'system' or 'keep'. "
                f"Received: CNNLAB_ALLOCATOR={allocator!r}"
            )
        settings.allocator = allocator
    return settings


settings = from_environment()


def thread_count() -> int:
    """Threads (and batch shards) to use: ``settings.threads`` (``CNNLAB_THREADS``) if set,
    else the number of cores this process may run on."""
    if settings.threads is not None:
        return settings.threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def override(**changes):
    """Change some settings inside the block (tests, comparisons), then restore them."""
    previous = dataclasses.asdict(settings)
    try:
        for name, value in changes.items():
            setattr(settings, name, value)
        yield settings
    finally:
        for name, value in previous.items():
            setattr(settings, name, value)


__all__ = ["Settings", "from_environment", "override", "settings", "thread_count"]
