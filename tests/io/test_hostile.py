"""Hostile inputs, each answered cleanly within a memory limit.

The cases (hostile_cases.py) run in a child process whose address space is capped
at 1 GiB with ``RLIMIT_AS``, as a user's machine would be exhausted otherwise: a
case that allocates what a file only claims ends in a MemoryError there, which counts
as unclean. Every case must give a clean answer: a ValueError/TypeError/OSError
naming the file, member or argument (or exit code 2 and one ``Error:`` line from the
command line), or a correct result for valid input.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.io.hostile_cases import build_cases

LIMIT = 1024**3
ROOT = Path(__file__).resolve().parents[2]


def _run_child(cases, tmp_path) -> dict:
    spec = tmp_path / "cases.json"
    spec.write_text(json.dumps(cases))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "CNNLAB_ACCELERATOR": "numpy",  # numba's compiler reserves much address space
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "CNNLAB_DATA": str(tmp_path / "no-data"),
    }
    child = Path(__file__).with_name("hostile_child.py")
    run = subprocess.run(
        [sys.executable, str(child), str(spec), str(LIMIT)],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    results = {}
    for line in run.stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            results[record["name"]] = record
    if len(results) < len(cases):
        results["<child>"] = {"outcome": "crashed", "message": run.stderr[-3000:]}
    return results


def _clean(case, record) -> str | None:
    """None when ``record`` is a clean answer to ``case``, else what is wrong."""
    outcome, message = record["outcome"], record["message"]
    if case["expect"] == "ok":
        return None if outcome == "ok" else f"{outcome}: {message[:800]}"
    if case["expect"] == "error":
        if outcome != "error":
            return f"expected a ValueError/OSError, got {outcome}: {message[:800]}"
        missing = [n for n in case["names"] if n not in message]
        if missing:
            return f"the message lacks {missing}: {message[:800]}"
        if len(message) > 2000:
            return f"a {len(message)}-character message"
        return None
    if outcome != "ok":
        return f"the command line raised {outcome}: {message[:800]}"
    result = json.loads(message)
    if case["expect"] == "cli-ok":
        return None if result["exit"] == 0 else f"exit {result['exit']}: {result['out'][-800:]}"
    errors = [line for line in result["out"].splitlines() if line.startswith("Error:")]
    if result["exit"] != 2 or "Traceback" in result["out"] or len(errors) != 1:
        return f"exit {result['exit']}, output: {result['out'][-800:]}"
    if len(errors[0]) > 1000:
        return f"a {len(errors[0])}-character error line"
    missing = [n for n in case["names"] if n not in errors[0]]
    return f"the error lacks {missing}: {errors[0]}" if missing else None


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("hostile")
    cases = build_cases(tmp_path / "files")
    start = time.perf_counter()
    results = _run_child(cases, tmp_path)
    seconds = time.perf_counter() - start
    verdicts = {}
    for case in cases:
        record = results.get(case["name"])
        verdicts[case["name"]] = (
            "no result (the child died)" if record is None else _clean(case, record)
        )
    clean = sum(v is None for v in verdicts.values())
    by_class = {}
    for case in cases:
        by_class.setdefault(case["cls"], [0, 0])
        by_class[case["cls"]][0] += 1
        by_class[case["cls"]][1] += verdicts[case["name"]] is None
    summary = ", ".join(f"class {k}: {c}/{n}" for k, (n, c) in sorted(by_class.items()))
    print(f"\nhostile inputs: {len(cases)} tried, {clean} clean ({summary}); {seconds:.1f} s")
    return cases, verdicts, results


def test_hostile_inputs_get_a_clean_answer_within_1_GiB(outcomes):
    _, verdicts, results = outcomes
    assert "<child>" not in results, results.get("<child>")
    bad = {name: why for name, why in verdicts.items() if why is not None}
    assert not bad, "\n".join(f"{name}: {why}" for name, why in bad.items())


def test_every_class_of_failure_is_tried(outcomes):
    cases, _, _ = outcomes
    counts = {cls: sum(c["cls"] == cls for c in cases) for cls in (1, 2, 3, 4)}
    assert min(counts.values()) >= 4, counts
    assert len(cases) >= 76
