"""Finding data files on disk, and downloading them (checked, atomically) when missing.

Where a data set's files are looked for, in this order:

1. ``$CNNLAB_DATA/<dataset>/<file>`` — a directory you manage (read-only is fine).
   Machines without internet access point ``CNNLAB_DATA`` at a copy of the files.
2. ``$CNNLAB_HOME/datasets/<dataset>/<file>``, with ``CNNLAB_HOME`` defaulting to
   ``~/.cnnlab`` — cnnlab's own download cache.
3. Otherwise the file is downloaded into (2) from the first mirror that answers.

A download goes to a hidden temporary file next to its destination, its MD5 is
checked against the published checksums (of the gzip bytes or of the uncompressed
content: either is accepted), and only then is it renamed into place with
``os.replace``. An interrupted or corrupted download therefore never leaves a
partial file under the real name: the temporary file is removed on every error.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

USER_AGENT = "cnnlab (https://github.com/cnnlab; dataset download)"
CHUNK_BYTES = 1 << 16
# No data set cnnlab downloads is larger than this; a mirror sending more is refused.
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024


class DownloadError(RuntimeError):
    """Every mirror failed (no network, HTTP error, wrong checksum, ...)."""


class _MirrorError(Exception):
    """One mirror's answer was unusable (too long, cut short, wrong checksum)."""


def data_dir() -> Path | None:
    """The user's data directory ``$CNNLAB_DATA``, or None when it is not set."""
    value = os.environ.get("CNNLAB_DATA")
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """cnnlab's download cache: ``$CNNLAB_HOME/datasets`` (default ``~/.cnnlab/datasets``)."""
    home = os.environ.get("CNNLAB_HOME")
    root = Path(home).expanduser() if home else Path.home() / ".cnnlab"
    return root / "datasets"


def md5_file(path: os.PathLike | str) -> str:
    """Hex MD5 of a file, read in chunks (archives of hundreds of MB stay out of memory)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES * 16):
            digest.update(chunk)
    return digest.hexdigest()


def md5_hex(data: bytes) -> str:
    """Hex MD5 digest of ``data`` (a checksum against accidents, not a security measure)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def gunzip(data: bytes, path: os.PathLike | str) -> bytes:
    """Decompress gzip bytes read from ``path``; a clear ValueError if they are broken."""
    from cnnlab.io import BadFileError
    from cnnlab.io import gunzip as bounded_gunzip

    try:
        return bounded_gunzip(data, str(path))
    except BadFileError as err:
        raise ValueError(
            f"{err} Delete it; it is downloaded again the next time, or copy a good file there."
        ) from None


def matches_checksum(data: bytes, accepted: Iterable[str]) -> tuple[bool, str]:
    """True if the MD5 of ``data`` (gzip bytes) or of its uncompressed content is accepted.

    Returns ``(ok, digest)`` with the digest of the uncompressed content when the
    gzip bytes themselves are not a listed checksum (so errors can show it).
    """
    accepted = {a.lower() for a in accepted}
    digest = md5_hex(data)
    if digest in accepted:
        return True, digest
    try:
        content_digest = md5_hex(gunzip(data, "download"))
    except ValueError:
        return False, digest
    return content_digest in accepted, content_digest


class _Progress:
    """A download progress bar on stderr: rich's when installed, else a plain one."""

    def __init__(self, description: str, total: int | None, enabled: bool):
        self.enabled = enabled
        self.total = total
        self.done = 0
        self._rich = None
        self._last_percent = -1
        if not enabled:
            return
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )
        except ImportError:  # pragma: no cover - rich is installed with the cli extra
            print(f"Downloading {description}", file=sys.stderr)
            return
        self._rich = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = self._rich.add_task(description, total=total)
        self._rich.start()

    def update(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        if self._rich is not None:
            self._rich.update(self._task, advance=n)
        elif self.total:  # pragma: no cover - fallback without rich
            percent = 100 * self.done // self.total
            if percent != self._last_percent:
                self._last_percent = percent
                print(f"\r{percent:3d}%", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
        elif self.enabled and self.total:  # pragma: no cover - fallback without rich
            print(file=sys.stderr)


def _fetch_one(url: str, destination: Path, accepted: Iterable[str], progress: bool, timeout):
    """Download ``url`` to ``destination`` atomically, checking its checksum. Raises on failure."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    # A fresh hidden name next to the destination (same file system: os.replace is atomic).
    tmp_path = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        with open(tmp_path, "xb") as out, urllib.request.urlopen(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if total is not None and total > MAX_DOWNLOAD_BYTES:
                raise _MirrorError(f"the server announces {total} bytes, more than expected")
            bar = _Progress(destination.name, total, progress)
            try:
                while chunk := resp.read(CHUNK_BYTES):
                    out.write(chunk)
                    bar.update(len(chunk))
                    if bar.done > MAX_DOWNLOAD_BYTES:
                        raise _MirrorError("the server sends more bytes than expected")
            finally:
                bar.close()
            if total is not None and bar.done != total:
                raise _MirrorError(f"the download stopped after {bar.done} of {total} bytes")
        data = tmp_path.read_bytes()
        ok, digest = matches_checksum(data, accepted)
        if not ok:
            raise _MirrorError(
                f"checksum mismatch (MD5 {digest}, expected one of {sorted(accepted)})"
            )
        os.replace(tmp_path, destination)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def _fetch_resumable(url, destination: Path, accepted, progress: bool, timeout, max_bytes):
    """Download ``url`` into ``.<name>.part`` next to ``destination``, continuing a part
    left by an interrupted download (HTTP Range); check the MD5, then rename into place.

    A cut connection keeps the part (the next call resumes it); a wrong checksum or a
    server that refuses the range removes it.
    """
    part = destination.with_name(f".{destination.name}.part")
    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        resp = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416:  # the part is not a prefix of this file: start again next time
            part.unlink(missing_ok=True)
        raise
    with resp:
        resumed = (
            have
            and resp.status == 206
            and resp.headers.get("Content-Range", "").startswith(f"bytes {have}-")
        )
        if not resumed:
            have = 0
        length = resp.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else None
        if total is not None and total > max_bytes:
            raise _MirrorError(f"the server announces {total} bytes, more than expected")
        bar = _Progress(destination.name, total, progress)
        bar.update(have)
        try:
            with open(part, "ab" if resumed else "wb") as out:
                while chunk := resp.read(CHUNK_BYTES):
                    out.write(chunk)
                    bar.update(len(chunk))
                    if bar.done > max_bytes:
                        raise _MirrorError("the server sends more bytes than expected")
        except _MirrorError:
            part.unlink(missing_ok=True)
            raise
        finally:
            bar.close()
        if total is not None and bar.done != total:
            raise _MirrorError(
                f"the download stopped after {bar.done} of {total} bytes (kept; the next "
                "call resumes it)"
            )
    digest = md5_file(part)
    if digest not in {a.lower() for a in accepted}:
        part.unlink(missing_ok=True)
        raise _MirrorError(f"checksum mismatch (MD5 {digest}, expected one of {sorted(accepted)})")
    os.replace(part, destination)


def download(
    filename: str,
    destination: Path,
    mirrors: Iterable[str],
    accepted: Iterable[str],
    progress: bool = True,
    timeout: float = 30.0,
    resume: bool = False,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> Path:
    """Download ``filename`` from the first mirror that serves it with a valid checksum.

    Args:
        filename: the file's name on the mirrors.
        destination: where to put it (its directory is created).
        mirrors: base URLs ending in "/", tried in order.
        accepted: MD5 hex digests of the gzip file or of its uncompressed content.
        progress: show a progress bar on stderr.
        timeout: seconds to wait for a mirror to answer.
        resume: keep a cut download as ``.<filename>.part`` and continue it (HTTP
            Range) next time; the checksum is then that of the file's bytes.
        max_bytes: refuse a file larger than this.

    Returns:
        ``destination``.

    Raises:
        DownloadError: no mirror succeeded; the message lists every URL tried and why.
    """
    accepted = tuple(accepted)
    # Directories this call creates, removed again (if still empty) when every mirror fails.
    created = [p for p in (destination.parent, *destination.parent.parents) if not p.exists()]
    destination.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for base in mirrors:
        url = base + filename
        try:
            if resume:
                _fetch_resumable(url, destination, accepted, progress, timeout, max_bytes)
            else:
                _fetch_one(url, destination, accepted, progress, timeout)
        except (_MirrorError, OSError, http.client.HTTPException) as err:
            # An HTTPError's text has the status code; other URLErrors wrap the socket error.
            is_http = isinstance(err, urllib.error.HTTPError)
            reason = err if is_http else (getattr(err, "reason", None) or err)
            failures.append(f"  {url}: {reason}")
            continue
        return destination
    for directory in created:  # deepest first (kept if a resumable part is in it)
        with contextlib.suppress(OSError):
            directory.rmdir()
    tried = "\n".join(failures) if failures else "  (no mirrors configured)"
    raise DownloadError(
        f"Could not download {filename}. Tried:\n{tried}\n"
        "Without internet access, put the file into a directory <DIR>/"
        f"{destination.parent.name}/ and set the environment variable CNNLAB_DATA=<DIR>."
    )


def locate(
    dataset: str,
    filename: str,
    mirrors: Iterable[str],
    checksums: Mapping[str, Iterable[str]],
    progress: bool = True,
    **download_options,
) -> Path:
    """Return a local path to ``dataset``'s ``filename``, downloading it if needed
    (``download_options``: ``resume``, ``max_bytes``, ``timeout`` of :func:`download`)."""
    user_dir = data_dir()
    if user_dir is not None:
        candidate = user_dir / dataset / filename
        if candidate.is_file():
            return candidate
    cached = cache_dir() / dataset / filename
    if cached.is_file():
        return cached
    return download(
        filename, cached, mirrors, checksums[filename], progress=progress, **download_options
    )
