"""``HyperModel``: builds (and optionally fits) one model from a ``HyperParameters``."""

from __future__ import annotations


class HyperModel:
    """Subclass and override ``build(hp)``; override ``fit(hp, model, *args, **kwargs)`` to
    tune how the model trains (batch size, epochs, data augmentation, ...).

    ``fit`` may return a ``History`` (the tuner reads the objective from its epochs), a
    dict of metrics, or a single number (the value to minimise, with ``objective=None``).
    """

    def __init__(self, name=None, tunable=True):
        self.name = name
        self.tunable = tunable

    def build(self, hp):
        raise NotImplementedError("HyperModel.build(hp) must be overridden to return a model.")

    def fit(self, hp, model, *args, **kwargs):
        return model.fit(*args, **kwargs)


class FunctionHyperModel(HyperModel):
    """A plain ``build_model(hp)`` function used as a hypermodel."""

    def __init__(self, build_fn):
        super().__init__(name=getattr(build_fn, "__name__", None))
        self.build_fn = build_fn

    def build(self, hp):
        return self.build_fn(hp)


def get_hypermodel(hypermodel) -> HyperModel:
    if isinstance(hypermodel, HyperModel):
        return hypermodel
    if callable(hypermodel):
        return FunctionHyperModel(hypermodel)
    raise TypeError(
        "hypermodel must be a kt.HyperModel or a function build_model(hp) returning a model. "
        f"Received: {hypermodel!r} of type {type(hypermodel).__name__}"
    )
