"""The one place where the command line turns errors into ``Error: ...`` and exit code 2.

Every command runs inside :class:`CnnlabGroup`, which catches what the library raises
for a user's mistake -- ``ValueError``, ``TypeError``, ``OSError`` (missing files,
folders, full disks), ``ArithmeticError`` (an overflowing number), ``KeyError``,
``RecursionError``, a failed download -- and ``MemoryError`` from a size the user asked
for, and prints a single line (long messages are cut, so a huge matrix given on the
command line does not come back as a huge error). Usage errors (bad option values) are
click's own, also with exit code 2. No traceback is shown for any of them.
"""

from __future__ import annotations

import contextlib
import math
import re
import sys

import click

MAX_MESSAGE = 600  # characters of one error line


class UserError(click.ClickException):
    """A one-line ``Error: ...`` with exit code 2 (click's code for usage errors)."""

    exit_code = 2


def one_line(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` on one line, at most ``limit`` characters.

    Example:
        >>> one_line("a\\n  b" + "x" * 10, limit=8)
        'a bxxxx…'
    """
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _library_errors() -> tuple:
    from cnnlab.datasets import DownloadError

    return (
        ValueError,
        TypeError,
        OSError,
        KeyError,
        ArithmeticError,
        RecursionError,
        DownloadError,
    )


def _message(err: BaseException) -> str:
    if isinstance(err, KeyError) and err.args:
        return str(err.args[0])
    if isinstance(err, FileNotFoundError) and err.filename and not str(err).strip():
        return f"no such file: {err.filename}"
    text = str(err).strip()
    return text or type(err).__name__


def memory_message(argv: list[str]) -> str:
    """What to say when a size the user asked for does not fit in memory: the numeric
    arguments given (``--padding 100000``), which chose the size."""
    sizes = []
    for i, arg in enumerate(argv):
        name, _, value = arg.partition("=")
        if not value and i + 1 < len(argv):
            value = argv[i + 1]
        if name.startswith("--") and _is_large_number(value):
            sizes.append(f"{name} {value}")
    asked = f" for the sizes given ({', '.join(sizes)})" if sizes else ""
    return f"not enough memory{asked}; choose smaller sizes."


def _is_large_number(text: str) -> bool:
    numbers = re.findall(r"-?\d+(?:\.\d+)?(?:e\d+)?", text)
    return any(math.isfinite(float(n)) and abs(float(n)) >= 1000 for n in numbers)


@contextlib.contextmanager
def user_errors():
    """Turn the library's errors raised inside the block into :class:`UserError`."""
    try:
        yield
    except _library_errors() as err:
        raise UserError(one_line(_message(err))) from err


class CnnlabGroup(click.Group):
    """A click group whose commands never show a traceback for a user's mistake."""

    def main(self, args=None, *rest, **kwargs):
        self._argv = list(sys.argv[1:] if args is None else args)
        return super().main(args, *rest, **kwargs)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except click.ClickException as err:
            if err.exit_code == 1:  # a command's own ClickException
                err.exit_code = 2
            err.message = one_line(err.message)
            raise
        except MemoryError as err:
            raise UserError(memory_message(getattr(self, "_argv", []))) from err
        except _library_errors() as err:
            raise UserError(one_line(_message(err))) from err
