"""Run hostile cases in this process under an address-space limit; print JSON results.

Usage: ``python hostile_child.py CASES.json LIMIT_BYTES`` (run by test_hostile.py).
Each case's code runs with ``d`` (the folder of hostile files), ``np`` and ``cli``
(a function running the cnnlab command line in-process) in scope. The outcome is
``ok`` (no error), ``error`` (ValueError, TypeError or OSError: a clean refusal, with
its message) or ``unclean`` (anything else: MemoryError, RecursionError, ...).
"""

import json
import resource
import sys
import time
import traceback
from pathlib import Path


def main() -> None:
    cases = json.loads(Path(sys.argv[1]).read_text())
    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import numpy as np
    from click.testing import CliRunner

    import cnnlab.cli

    def cli(*args):
        result = CliRunner().invoke(cnnlab.cli.main, [str(a) for a in args])
        return result.exit_code, result.output

    for case in cases:
        namespace = {"d": Path(case["dir"]), "np": np, "cli": cli}
        start = time.perf_counter()
        try:
            exec(case["code"], namespace)
            result = namespace.get("result")
            outcome = "ok"
            message = json.dumps(result) if isinstance(result, dict) else repr(result)[:3000]
        except (ValueError, TypeError, OSError) as err:
            outcome, message = "error", f"{type(err).__name__}: {err}"[:3000]
        except BaseException as err:
            outcome = "unclean"
            message = f"{type(err).__name__}: {err}"[:500] + traceback.format_exc()[-1500:]
        seconds = time.perf_counter() - start
        print(json.dumps({"name": case["name"], "outcome": outcome, "message": message,
                          "seconds": seconds}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
