"""Two Optuna samplers that Optuna does not ship in the form KerasTuner's tuners need.

:class:`GaussianProcessUCBSampler` is KerasTuner's ``BayesianOptimization`` oracle as an
Optuna sampler, in NumPy only. Optuna's own ``GPSampler`` needs PyTorch (a ~1 GB
dependency for a NumPy library) and offers no ``alpha``/``beta``; this one keeps
KerasTuner's meaning of both:

- every hyper-parameter is mapped to ``u`` in [0, 1] (log-scaled for ``sampling="log"``,
  the index's bucket centre for a ``Choice``), as KerasTuner's ``value_to_prob`` does;
- the first ``num_initial_points`` trials are random;
- then a Gaussian process with a Matern 5/2 kernel
  ``k(r) = (1 + sqrt5 r/l + 5 r^2/(3 l^2)) exp(-sqrt5 r/l)``, the scores standardised,
  ``alpha`` added to the kernel's diagonal (observation noise), and the length-scale
  ``l`` picked by the largest log marginal likelihood, predicts mean ``mu`` and
  deviation ``sigma`` at 2,000 random candidates;
- the next trial is the candidate with the lowest confidence bound
  ``mu - beta * sigma`` (scores negated when the objective is maximised).

:class:`OrderedGridSampler` hands out the points of a grid in order (the last
hyper-parameter varying fastest); the first point not completed, pruned or running is
the next one. Because the tuner starts trials under a per-study lock, two workers never
get the same point (Optuna's ``GridSampler`` may give one point to two workers).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from optuna.distributions import CategoricalDistribution, IntDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.search_space import IntersectionSearchSpace
from optuna.study import StudyDirection
from optuna.trial import TrialState

_GRID_KEY = "cnnlab:grid_index"
LENGTH_SCALES = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)


def to_unit(value, dist) -> float:
    """A parameter value -> [0, 1] (KerasTuner's ``value_to_prob``)."""
    if isinstance(dist, CategoricalDistribution):
        return (dist.choices.index(value) + 0.5) / len(dist.choices)
    low, high = dist.low, dist.high
    if high == low:
        return 0.5
    if dist.log:
        return math.log(value / low) / math.log(high / low)
    return (value - low) / (high - low)


def from_unit(u: float, dist):
    """[0, 1] -> a parameter value of ``dist`` (rounded to its step / integer / choice)."""
    u = min(max(float(u), 0.0), 1.0)
    if isinstance(dist, CategoricalDistribution):
        return dist.choices[min(int(u * len(dist.choices)), len(dist.choices) - 1)]
    low, high = dist.low, dist.high
    value = low * (high / low) ** u if dist.log else low + u * (high - low)
    step = dist.step
    if step is not None:
        value = low + round((value - low) / step) * step
    value = min(max(value, low), high)
    return round(value) if isinstance(dist, IntDistribution) else float(value)


def matern52(a: np.ndarray, b: np.ndarray, length: float) -> np.ndarray:
    """Matern 5/2 kernel matrix between rows of ``a`` (n, d) and ``b`` (m, d): (n, m)."""
    r = np.sqrt(np.maximum(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1), 0.0)) / length
    return (1.0 + math.sqrt(5) * r + 5.0 / 3.0 * r**2) * np.exp(-math.sqrt(5) * r)


def gp_posterior(x, y, candidates, alpha):
    """Mean and deviation of a zero-mean GP fitted to standardised ``y`` at ``candidates``.

    The length-scale maximises ``-1/2 y^T K^-1 y - sum(log diag(L))`` with
    ``K = k(x, x) + alpha I = L L^T``.
    """
    best = None
    for length in LENGTH_SCALES:
        K = matern52(x, x, length) + (alpha + 1e-10) * np.eye(len(x))
        try:
            L = np.linalg.cholesky(K)
        except np.linalg.LinAlgError:
            continue
        weights = np.linalg.solve(L.T, np.linalg.solve(L, y))
        evidence = -0.5 * y @ weights - np.log(np.diag(L)).sum()
        if best is None or evidence > best[0]:
            best = (evidence, length, L, weights)
    if best is None:
        raise np.linalg.LinAlgError("the Gaussian process kernel matrix is singular")
    _, length, L, weights = best
    k_star = matern52(candidates, x, length)
    mean = k_star @ weights
    v = np.linalg.solve(L, k_star.T)
    variance = np.maximum(1.0 - (v**2).sum(0), 1e-12)
    return mean, np.sqrt(variance)


class GaussianProcessUCBSampler(BaseSampler):
    """KerasTuner's Bayesian optimisation (GP, confidence bound) as an Optuna sampler.

    Args:
        num_initial_points: random trials before the GP is used.
        alpha: noise variance added to the kernel's diagonal (KerasTuner's default 1e-4).
        beta: weight of ``sigma`` in the bound ``mu - beta sigma`` (default 2.6).
        seed: seed of the random candidates and of the initial random trials.
        candidates: how many random points the bound is evaluated at.
    """

    def __init__(self, num_initial_points=3, alpha=1e-4, beta=2.6, seed=None, candidates=2000):
        self.num_initial_points = num_initial_points
        self.alpha = alpha
        self.beta = beta
        self.candidates = candidates
        self._rng = np.random.default_rng(seed)
        self._random = RandomSampler(seed=seed)
        self._space = IntersectionSearchSpace()

    def reseed_rng(self) -> None:
        self._rng = np.random.default_rng()
        self._random.reseed_rng()

    def infer_relative_search_space(self, study, trial):
        return {
            name: dist for name, dist in self._space.calculate(study).items() if not dist.single()
        }

    def sample_relative(self, study, trial, search_space):
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        done = [t for t in done if all(name in t.params for name in search_space)]
        if not search_space or len(done) < max(self.num_initial_points, 2):
            return {}
        names = sorted(search_space)
        x = np.array([[to_unit(t.params[n], search_space[n]) for n in names] for t in done])
        y = np.array([t.value for t in done], dtype=float)
        if study.direction == StudyDirection.MAXIMIZE:
            y = -y
        y = (y - y.mean()) / (y.std() or 1.0)
        candidates = self._rng.random((self.candidates, len(names)))
        mean, sigma = gp_posterior(x, y, candidates, self.alpha)
        best = candidates[int(np.argmin(mean - self.beta * sigma))]
        return {n: from_unit(u, search_space[n]) for n, u in zip(names, best, strict=True)}

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._random.sample_independent(study, trial, param_name, param_distribution)


class OrderedGridSampler(BaseSampler):
    """Every combination of ``grid`` (``{name: [values]}``), in order, each once.

    ``len(sampler)`` is the number of points. A failed trial's point is handed out again.
    """

    def __init__(self, grid: dict):
        self.names = list(grid)
        self.points = list(itertools.product(*(grid[name] for name in self.names)))

    def __len__(self) -> int:
        return len(self.points)

    def infer_relative_search_space(self, study, trial):
        return {}

    def sample_relative(self, study, trial, search_space):
        return {}

    def before_trial(self, study, trial):
        taken = set()
        states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
        for other in study.get_trials(deepcopy=False, states=states):
            if other.number != trial.number and _GRID_KEY in other.system_attrs:
                taken.add(other.system_attrs[_GRID_KEY])
        free = [i for i in range(len(self.points)) if i not in taken]
        index = free[0] if free else 0
        study._storage.set_trial_system_attr(trial._trial_id, _GRID_KEY, index)

    def sample_independent(self, study, trial, param_name, param_distribution):
        index = trial.system_attrs[_GRID_KEY]
        if param_name not in self.names:
            raise ValueError(
                f"GridSearch: the hyper-parameter {param_name!r} was not declared when the "
                "tuner was created (declare every hyper-parameter, also conditional ones, on "
                "the first build)"
            )
        return self.points[index][self.names.index(param_name)]
