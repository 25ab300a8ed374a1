"""The command line's one place for errors: one ``Error:`` line, exit code 2."""

from click.testing import CliRunner

from cnnlab.cli import main
from cnnlab.cli.errors import memory_message, one_line


def _run(*args):
    return CliRunner().invoke(main, list(args))


def test_memory_error_names_the_sizes_given(monkeypatch):
    import cnnlab.explain

    def explode(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(cnnlab.explain, "explain_conv", explode)
    result = _run("explain", "conv", "--input", "[[1,2],[3,4]]", "--kernel", "[[1]]",
                  "--padding", "100000")  # fmt: skip
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: not enough memory for the sizes given (--padding 100000); choose smaller sizes."
    ]


def test_library_errors_are_one_short_line(monkeypatch):
    import cnnlab.explain

    def fail(*args, **kwargs):
        raise ValueError("first line\nsecond line " + "x" * 5000)

    monkeypatch.setattr(cnnlab.explain, "explain_conv", fail)
    result = _run("explain", "conv", "--input", "[[1]]", "--kernel", "[[1]]")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: first line second line xxx")
    assert len(lines[0]) <= 610 and "Traceback" not in result.output


def test_non_finite_numbers_are_refused():
    for value in ("inf", "-inf", "nan"):
        result = _run("explain", "conv", "--input", "[[1]]", "--kernel", "[[1]]",
                      "--padding-mode", "constant", "--pad-value", value)  # fmt: skip
        assert result.exit_code == 2 and "must be a finite number" in result.output


def test_helpers():
    assert one_line("a\n b", 80) == "a b"
    assert len(one_line("y" * 1000, 50)) == 50
    assert memory_message(["filter", "x.png", "--padding=20000", "--stride", "2"]) == (
        "not enough memory for the sizes given (--padding 20000); choose smaller sizes."
    )
    assert memory_message([]) == "not enough memory; choose smaller sizes."
