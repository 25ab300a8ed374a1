"""The layout rules the code keeps (numbers in pyproject.toml, ``[tool.cnnlab.layout]``):

* the reference path (``cnnlab/autograd`` and ``cnnlab/ops``) stays within its budget of
  lines of code, docstrings, comments and blank lines not counted (``__init__.py``
  files, which only re-export, left out);
* ops, layers and autograd never import ``cnnlab.fast`` or ``cnnlab.engine``: the tuned
  kernels reach them only through the one hook, ``cnnlab.dispatch``;
* no source file is longer than ``max-file-lines``.
"""

import ast
import io
import tokenize
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "cnnlab"
LAYOUT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["cnnlab"]["layout"]
FENCED = ("cnnlab.fast", "cnnlab.engine")


def code_lines(source: str) -> int:
    """Lines holding code: not blank, not only a comment, not part of a docstring."""
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (*skip, tokenize.ENDMARKER):
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines - docstrings)


def reference_files():
    for folder in ("autograd", "ops"):
        yield from (p for p in sorted((PACKAGE / folder).rglob("*.py")) if p.name != "__init__.py")


def imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_code_lines_counts_code_only():
    source = (
        '"""Doc\n\nmore."""\n\n# comment\nx = (1,\n     2)  # trailing\n\n\n'
        'def f():\n    """Doc."""\n    return x\n'
    )
    assert code_lines(source) == 4  # x = (1, / 2) / def f(): / return x


def test_reference_path_stays_within_its_budget():
    counts = {p.relative_to(PACKAGE).as_posix(): code_lines(p.read_text())
              for p in reference_files()}  # fmt: skip
    total = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])[:5]
    largest = ", ".join(f"{name} {n}" for name, n in ranked)
    assert total <= LAYOUT["reference-code-budget"], (
        f"autograd + ops hold {total} lines of code, over the budget of "
        f"{LAYOUT['reference-code-budget']} (largest: {largest})"
    )


def test_ops_layers_and_autograd_never_import_the_fast_path_or_the_engine():
    offenders = []
    for folder in ("ops", "layers", "autograd"):
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            for module in imported_modules(path):
                if module.startswith(FENCED) or module in ("cnnlab.fast", "cnnlab.engine"):
                    offenders.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert not offenders, "only cnnlab.dispatch may connect them: " + "; ".join(offenders)


def test_no_source_file_is_too_long():
    limit = LAYOUT["max-file-lines"]
    too_long = [
        f"{path.relative_to(ROOT)} ({n} lines)"
        for folder in ("src", "benchmarks", "scripts")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (n := len(path.read_text().splitlines())) > limit
    ]
    assert not too_long, f"files over {limit} lines: " + ", ".join(too_long)


def test_capabilities_are_declared_not_guessed():
    """The engine decides from declared attributes, never from where a class was
    defined or whether a method was overridden."""
    guesses = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if "__module__.startswith" in line or ").call is " in line or ".call in (" in line:
                guesses.append(f"{path.relative_to(PACKAGE)}:{number}")
    assert not guesses, "capability guessed at " + ", ".join(guesses)
