"""The one hook between the reference code and the tuned kernels of :mod:`cnnlab.fast`.

A tuned kernel registers against the reference it replaces, and the reference code asks
this module, never ``cnnlab.fast`` itself, which one runs::

    @dispatch.register(Conv2dFunction)          # in cnnlab/fast/conv.py
    class FastConv2d(Conv2dFunction): ...

    cls = dispatch.resolve(cls)                 # in Function.apply

A registered Function is a subclass of the reference: where its tuned path does not
cover a call it runs the reference's ``forward``/``backward``. With
``cnnlab.config.settings.fast`` off, or without ``cnnlab.fast`` imported, every lookup
returns the reference: deleting the ``fast`` package leaves a slower cnnlab that trains
every model.
"""

from __future__ import annotations

from cnnlab.config import settings

_KERNELS: dict = {}


def register(reference):
    """Decorator: record the decorated object as the fast version of ``reference``."""

    def add(implementation):
        _KERNELS[reference] = implementation
        return implementation

    return add


def find(reference):
    """The fast version registered for ``reference``, or None (none, or fast is off)."""
    return _KERNELS.get(reference) if settings.fast else None


def resolve(reference):
    """What runs for ``reference``: its fast version when one applies, else itself."""
    return _KERNELS.get(reference, reference) if settings.fast else reference


def registered() -> dict:
    """``{reference: fast version}`` for every registration (tests, docs)."""
    return dict(_KERNELS)


__all__ = ["find", "register", "registered", "resolve"]
