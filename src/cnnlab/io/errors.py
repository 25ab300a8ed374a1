"""The one error type of the reading layer."""

from __future__ import annotations

import os


class BadFileError(ValueError):
    """A file that cnnlab refuses to read: its message names the file, the member (for
    archives) and the rule that was broken.

    Attributes:
        path: the file (as given).
        member: the archive member, or None.
        rule: what is wrong, in words.
    """

    def __init__(self, path, member: str | None, rule: str):
        self.path = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
        self.member = member
        self.rule = rule
        where = self.path if member is None else f"{self.path}: member {member!r}"
        super().__init__(f"{where}: {rule}")
