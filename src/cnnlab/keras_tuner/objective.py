"""``Objective``: the metric a search optimises, and KerasTuner's direction inference.

A name such as ``"val_accuracy"`` gets its direction as KerasTuner infers it: strip a
``val_`` then a ``weighted_`` prefix; ``loss``, ``crossentropy`` and ``ce`` are
minimised, ``acc`` maximised; otherwise the name is looked up among cnnlab's metrics
and losses: accuracy-like metrics, precision, recall and AUC are maximised, every other
metric or loss minimised, and an unknown name is an error asking for
``kt.Objective(name, direction)``.
"""

from __future__ import annotations

DIRECTIONS = ("min", "max")

# KerasTuner's _MAX_METRICS and _MAX_METRIC_FNS (class and function names).
_MAX_NAMES = {
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "TruePositives",
    "TrueNegatives",
    "Precision",
    "Recall",
    "AUC",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
    "accuracy",
    "categorical_accuracy",
    "binary_accuracy",
    "sparse_categorical_accuracy",
}
_MAX_FOLDED = {n.replace("_", "").lower() for n in _MAX_NAMES}


class Objective:
    """The name of a logged metric and whether to minimise (``"min"``) or maximise it.

    Example:
        >>> Objective("val_accuracy", "max").better_than(0.9, 0.8)
        True
    """

    def __init__(self, name: str, direction: str):
        if not isinstance(name, str) or not name:
            raise TypeError(f"Objective: name must be a non-empty string. Received: {name!r}")
        if direction not in DIRECTIONS:
            raise ValueError(
                f"Objective: direction must be 'min' or 'max'. Received: direction={direction!r}"
            )
        self.name = name
        self.direction = direction

    @property
    def optuna_direction(self) -> str:
        return "minimize" if self.direction == "min" else "maximize"

    def better_than(self, a: float, b: float) -> bool:
        return a > b if self.direction == "max" else a < b

    def __eq__(self, other):
        return isinstance(other, Objective) and (self.name, self.direction) == (
            other.name,
            other.direction,
        )

    def __hash__(self):
        return hash((self.name, self.direction))

    def __repr__(self):
        return f'Objective(name="{self.name}", direction="{self.direction}")'


def infer_metric_direction(name: str) -> str | None:
    """``"min"``, ``"max"`` or None (unknown), as KerasTuner infers it from a metric name.

    Example:
        >>> infer_metric_direction("val_accuracy"), infer_metric_direction("val_loss")
        ('max', 'min')
        >>> infer_metric_direction("mae"), infer_metric_direction("val_precision")
        ('min', 'max')
    """
    from cnnlab import losses, metrics

    if name.startswith("val_"):
        name = name[len("val_") :]
    if name.startswith("weighted_"):
        name = name[len("weighted_") :]
    if name in ("loss", "crossentropy", "ce"):
        return "min"
    if name == "acc" or name.replace("_", "").lower() in _MAX_FOLDED:
        return "max"
    for module in (metrics, losses):
        try:
            found = module.get(name)
        except (ValueError, TypeError, KeyError):
            continue
        names = {type(found).__name__, getattr(found, "__name__", ""), name}
        return "max" if names & _MAX_NAMES and module is metrics else "min"
    return None


def create_objective(objective) -> Objective | None:
    """A name, an Objective, or None (``HyperModel.fit`` then returns the value to minimise)."""
    if objective is None:
        return Objective("default_objective", "min")
    if isinstance(objective, Objective):
        return objective
    if not isinstance(objective, str):
        raise TypeError(
            "objective must be a metric name or a kt.Objective. "
            f"Received: objective={objective!r} of type {type(objective).__name__}"
        )
    direction = infer_metric_direction(objective)
    if direction is None:
        raise ValueError(
            f'Could not infer the optimization direction ("min" or "max") of the unknown '
            f'metric "{objective}". Pass the objective as a kt.Objective, for example '
            f'kt.Objective("{objective}", direction="max").'
        )
    return Objective(objective, direction)
