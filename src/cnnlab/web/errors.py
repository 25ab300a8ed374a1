"""Bad requests as 4xx answers with a message, and the helpers that read a request.

Every route reads its arguments through these helpers, so a wrong value is answered
with ``{"error": "..."}`` naming the argument and what was received, never a traceback.
"""

from __future__ import annotations

from starlette.requests import Request

MAX_JSON_BYTES = 2_000_000  # the largest JSON body a route reads (a drawing is ~50 KB)


class BadRequestError(Exception):
    """A request the server refuses: ``status`` (4xx) and a message for the person."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


async def read_body(request: Request, limit: int, what: str) -> bytes:
    """The request body, refused with 413 once it passes ``limit`` bytes (read in chunks,
    so a huge body is never held in memory)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BadRequestError(f"{what} is {int(declared):,} bytes; the limit is {limit:,}", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequestError(f"{what} is larger than the limit of {limit:,} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request) -> dict:
    """The JSON object in the request body (400 if it is not one)."""
    from cnnlab.io import BadFileError, loads_json

    body = await read_body(request, MAX_JSON_BYTES, "the request body")
    try:
        data = loads_json(body, "the request body")  # with cnnlab.io's depth limit
    except BadFileError as err:
        raise BadRequestError(f"the request body must be JSON ({err.rule})") from None
    if not isinstance(data, dict):
        raise BadRequestError(
            f"the request body must be a JSON object. Received: {type(data).__name__}"
        )
    return data


def integer(data: dict, name: str, low: int, high: int, default: int | None = None) -> int:
    """``data[name]`` as an int in ``[low, high]``."""
    value = data.get(name, default)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequestError(
            f"{name} must be an integer from {low} to {high}. Received: {value!r}"
        )
    return value


def choice(data: dict, name: str, options, default: str | None = None) -> str:
    """``data[name]``, one of ``options``."""
    value = data.get(name, default)
    if value not in options:
        raise BadRequestError(f"{name} must be one of {', '.join(options)}. Received: {value!r}")
    return value


def matrix(data: dict, name: str, max_side: int, ndim: int = 2):
    """``data[name]``, a rectangular nested list of finite numbers with at most
    ``max_side`` per axis, as a float64 array of ``ndim`` axes."""
    import numpy as np

    value = data.get(name)
    rule = f"{name} must be a rectangular {ndim}-D list of numbers, at most {max_side} per side"
    if not isinstance(value, list):
        raise BadRequestError(f"{rule}. Received: {value!r:.80}")
    try:
        array = np.array(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise BadRequestError(f"{rule}. Received: {value!r:.80}") from None
    if array.ndim != ndim or array.size == 0 or max(array.shape) > max_side:
        raise BadRequestError(f"{rule}. Received shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise BadRequestError(f"{name} must hold finite numbers only")
    return array
