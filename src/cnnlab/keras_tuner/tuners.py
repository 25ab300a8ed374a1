"""The tuners: each is KerasTuner's constructor on an Optuna sampler and pruner.

=====================  ==========================================  ======================
tuner                  sampler                                     pruner
=====================  ==========================================  ======================
RandomSearch           ``RandomSampler``                           none (or ``pruner=``)
GridSearch             :class:`OrderedGridSampler` (every point)   none (or ``pruner=``)
Hyperband              ``RandomSampler``                           ``HyperbandPruner``
BayesianOptimization   :class:`GaussianProcessUCBSampler` (NumPy)  none (or ``pruner=``)
TPE                    ``TPESampler``                              none (or ``pruner=``)
=====================  ==========================================  ======================
"""

from __future__ import annotations

import math
import warnings

import optuna

from cnnlab.keras_tuner.samplers import GaussianProcessUCBSampler, OrderedGridSampler
from cnnlab.keras_tuner.tuner import Tuner, _positive_int


class RandomSearch(Tuner):
    """Random search: each trial's hyper-parameters drawn independently (``max_trials=10``)."""

    def _make_sampler(self):
        return optuna.samplers.RandomSampler(seed=self.seed)


class TPE(Tuner):
    """Tree-structured Parzen Estimator (Optuna's default sampler), which KerasTuner lacks.

    Args:
        num_initial_points: random trials before TPE models the good and bad regions
            (Optuna's ``n_startup_trials``, default 10).
        multivariate: model the hyper-parameters jointly (Optuna's ``multivariate=True``).
        **kwargs: as for every tuner (see ``Tuner``).
    """

    def __init__(
        self,
        hypermodel,
        objective=None,
        max_trials=10,
        num_initial_points=10,
        multivariate=False,
        **kwargs,
    ):
        self.num_initial_points = _positive_int(num_initial_points, "num_initial_points")
        self.multivariate = bool(multivariate)
        super().__init__(hypermodel, objective, max_trials, **kwargs)

    def _make_sampler(self):
        # constant_liar: trials other workers are running count as bad guesses, so
        # concurrent workers do not all propose the same promising point.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(
                seed=self.seed,
                n_startup_trials=self.num_initial_points,
                multivariate=self.multivariate,
                constant_liar=True,
            )


class BayesianOptimization(Tuner):
    """Gaussian-process Bayesian optimisation with a confidence-bound acquisition, as
    KerasTuner's (see :class:`~cnnlab.keras_tuner.samplers.GaussianProcessUCBSampler`).

    Args:
        num_initial_points: random trials first (default: 3 x the number of searched
            hyper-parameters, as KerasTuner).
        alpha: observation noise added to the kernel's diagonal (default 1e-4).
        beta: exploration weight of the bound ``mu - beta * sigma`` (default 2.6).
        **kwargs: as for every tuner.
    """

    def __init__(
        self,
        hypermodel,
        objective=None,
        max_trials=10,
        num_initial_points=None,
        alpha=1e-4,
        beta=2.6,
        **kwargs,
    ):
        self.num_initial_points = _positive_int(
            num_initial_points, "num_initial_points", allow_none=True
        )
        for name, value in (("alpha", alpha), ("beta", beta)):
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number >= 0. Received: {name}={value!r}")
        self.alpha, self.beta = float(alpha), float(beta)
        super().__init__(hypermodel, objective, max_trials, **kwargs)

    def _make_sampler(self):
        searched = [hp for hp in self.hyperparameters.space.values() if hp.kind != "Fixed"]
        initial = self.num_initial_points or 3 * max(len(searched), 1)
        return GaussianProcessUCBSampler(initial, self.alpha, self.beta, seed=self.seed)


class GridSearch(Tuner):
    """Every combination of the declared values, in order (``Float`` needs a ``step``).

    ``max_trials`` (default: all points) caps how many are run.
    """

    default_max_trials = None

    def _check_space(self):
        grid = {name: hp.grid_values() for name, hp in self.hyperparameters.space.items()}
        self._grid = OrderedGridSampler(grid)

    def _make_sampler(self):
        return self._grid

    def _budget(self):
        return min(self.max_trials or math.inf, len(self._grid))


class Hyperband(Tuner):
    """Hyperband: many random configurations, most stopped after few epochs.

    Optuna's ``HyperbandPruner(min_resource=1, max_resource=max_epochs,
    reduction_factor=factor)`` runs the successive-halving brackets: each trial trains
    for up to ``max_epochs`` (the ``epochs`` given to ``search`` is replaced), reports its
    objective after every epoch, and is stopped at a rung (1, factor, factor^2, ...
    epochs) unless it is in its bracket's best ``1/factor``. A trial that passes a rung
    simply goes on training the same model, so the weights of the previous round are
    always reused, as KerasTuner does by reloading the previous round's checkpoint.

    The number of trials is KerasTuner's: ``hyperband_iterations`` times the number of
    new configurations one Hyperband iteration starts, ``sum_b ceil(s_b)`` over the
    brackets (for ``max_epochs=9, factor=3``: 9 + 5 + 3 = 17 trials).
    """

    def __init__(
        self, hypermodel, objective=None, max_epochs=100, factor=3, hyperband_iterations=1, **kwargs
    ):
        if "max_trials" in kwargs:
            raise TypeError(
                "Hyperband takes no max_trials: it follows from max_epochs, factor and "
                "hyperband_iterations."
            )
        self.max_epochs = _positive_int(max_epochs, "max_epochs")
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 2:
            raise ValueError(f"factor must be an integer >= 2. Received: factor={factor!r}")
        self.factor = factor
        self.hyperband_iterations = _positive_int(hyperband_iterations, "hyperband_iterations")
        super().__init__(
            hypermodel, objective, self.trials_per_iteration() * self.hyperband_iterations, **kwargs
        )

    def brackets(self) -> int:
        """KerasTuner's bracket count: how often ``max_epochs`` can be divided by ``factor``
        staying >= 1 epoch."""
        epochs, count = self.max_epochs, 0
        while epochs >= 1:
            epochs, count = epochs / self.factor, count + 1
        return count

    def trials_per_iteration(self) -> int:
        """KerasTuner's size of round 0 of each bracket, summed over the brackets."""
        end_size = math.ceil(1 + math.log(self.max_epochs, self.factor))
        return sum(math.ceil(end_size / (b + 1) * self.factor**b) for b in range(self.brackets()))

    def _make_sampler(self):
        return optuna.samplers.RandomSampler(seed=self.seed)

    def _make_pruner(self):
        return optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=self.max_epochs, reduction_factor=self.factor
        )

    def _fit_kwargs(self, hp, kwargs):
        kwargs["epochs"] = self.max_epochs
        return kwargs
