"""A picture of a study: the optimisation history and the hyper-parameter importances."""

from __future__ import annotations

from pathlib import Path


def plot_study(study, out) -> Path:
    """Write a PNG with two panels and return its path.

    Left: every completed trial's value by trial number, and the best value so far.
    Right: Optuna's parameter importances (``optuna.importance.get_param_importances``,
    fANOVA), when at least two completed trials vary their parameters.
    """
    import optuna
    from matplotlib.figure import Figure

    out = Path(out)
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    fig = Figure(figsize=(11, 4), layout="constrained")
    history, importance = fig.subplots(1, 2)
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    numbers = [t.number for t in done]
    values = [t.value for t in done]
    best, running = [], None
    for value in values:
        better = running is None or (value > running if maximize else value < running)
        running = value if better else running
        best.append(running)
    history.plot(numbers, values, "o", label="trial")
    history.step(numbers, best, where="post", color="C3", label="best so far")
    history.set_xlabel("trial")
    history.set_ylabel(study.user_attrs.get("objective", "objective value"))
    history.set_title(f"Optimisation history ({len(done)} complete of {len(study.trials)})")
    history.grid(alpha=0.3)
    if done:
        history.legend()
    try:
        scores = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError) as err:
        scores = {}
        importance.text(0.5, 0.5, f"no importances:\n{err}", ha="center", va="center", wrap=True)
    if scores:
        names = list(scores)[::-1]
        importance.barh(names, [scores[n] for n in names], color="C2")
        importance.set_xlabel("importance (fANOVA, sums to 1)")
    importance.set_title("Hyper-parameter importances")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=100)
    return out
