"""JSON documents with a size limit, a depth limit and no duplicate keys.

The depth is measured before parsing, in one linear pass over the brackets outside
strings, so a deeply nested document is refused with a message instead of a
``RecursionError`` from the parser (or from whatever walks the result).
"""

from __future__ import annotations

import json
import re

from cnnlab.io.errors import BadFileError
from cnnlab.io.files import read_file_bytes
from cnnlab.io.limits import LIMITS, human_bytes

# A JSON string (with escapes) or one bracket; strings are skipped, brackets counted.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def json_depth(text: str) -> int:
    """The deepest nesting of objects and arrays in ``text`` (0 for a scalar).

    Example:
        >>> json_depth('{"a": [1, {"b": "]]]"}]}')
        3
    """
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def _no_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def loads_json(data, where: str, member: str | None = None, max_depth: int | None = None):
    """Parse ``data`` (bytes or str) as JSON within :data:`LIMITS`.

    Raises:
        BadFileError: too large, too deep, not UTF-8, not JSON, or an object with a
            duplicated key.

    Example:
        >>> loads_json(b'{"loss": [0.5, 0.25]}', "history.json")
        {'loss': [0.5, 0.25]}
    """
    max_depth = LIMITS.max_json_depth if max_depth is None else max_depth
    if len(data) > LIMITS.max_json_bytes:
        raise BadFileError(
            where,
            member,
            f"the JSON is {human_bytes(len(data))}, more than "
            f"{human_bytes(LIMITS.max_json_bytes)}.",
        )
    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else str(data)
    except UnicodeDecodeError as err:
        raise BadFileError(where, member, f"is not UTF-8 text ({err}).") from None
    depth = json_depth(text)
    if depth > max_depth:
        raise BadFileError(
            where, member, f"the JSON nests {depth} levels deep (the limit is {max_depth})."
        )
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as err:
        raise BadFileError(where, member, f"is not valid JSON ({err}).") from None


def load_json_file(path, what: str = "JSON file"):
    """Read and parse a JSON file (see :func:`loads_json`)."""
    data = read_file_bytes(path, LIMITS.max_json_bytes, what)
    return loads_json(data, str(path))
