"""``get_file``: download a file once into a cache, check its hash, optionally extract it.

Keras 3's semantics (``keras.utils.get_file``):

* the file goes to ``<cache_dir>/<cache_subdir>/<fname>``; ``cache_dir`` defaults to
  ``$KERAS_HOME`` or ``~/.keras``, ``cache_subdir`` to ``"datasets"``;
* a file already there is used as it is, unless ``file_hash`` is given and does not match
  (then it is downloaded again) or ``force_download``;
* a downloaded file whose hash does not match ``file_hash`` is deleted and a ValueError
  raised; ``hash_algorithm="auto"`` takes SHA-256 for a 64-character hash, else MD5;
* ``extract=True`` unpacks a tar/zip archive into ``<fname without suffix>_extracted``
  (or ``<fname>`` when ``fname`` has no suffix) and returns that directory.

The download streams to a hidden temporary file next to the target and is renamed into
place only when complete, so an interrupted download never leaves a partial file. An
archive member that would land outside the extraction directory (``../``, absolute
paths, links) is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
import zlib
from pathlib import Path

CHUNK_BYTES = 1 << 16
HASH_ALGORITHMS = ("auto", "sha256", "md5")
ARCHIVE_FORMATS = ("auto", "tar", "zip")


def _hasher(algorithm: str, file_hash):
    if algorithm == "sha256" or (algorithm == "auto" and file_hash and len(file_hash) == 64):
        return hashlib.sha256()
    return hashlib.md5(usedforsecurity=False)


def hash_file(path, algorithm="sha256") -> str:
    """The hex digest of a file, read in chunks (``"sha256"`` or ``"md5"``)."""
    if algorithm not in ("sha256", "md5"):
        raise ValueError(f"hash_file: algorithm must be 'sha256' or 'md5'. Received: {algorithm!r}")
    h = _hasher(algorithm, None)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            h.update(chunk)
    return h.hexdigest()


def validate_file(path, file_hash: str, algorithm="auto") -> bool:
    """Does the file's digest equal ``file_hash`` (case-insensitive)?"""
    h = _hasher(algorithm, file_hash)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            h.update(chunk)
    return h.hexdigest() == str(file_hash).lower()


def _default_cache_dir() -> Path:
    home = os.environ.get("KERAS_HOME")
    return Path(home).expanduser() if home else Path.home() / ".keras"


def _download(origin: str, target: Path, timeout: float) -> None:
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.part")
    request = urllib.request.Request(origin, headers={"User-Agent": "cnnlab get_file"})
    try:
        with open(tmp, "xb") as out, urllib.request.urlopen(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            done = 0
            while chunk := resp.read(CHUNK_BYTES):
                out.write(chunk)
                done += len(chunk)
            if length and length.isdigit() and done != int(length):
                raise OSError(f"the download stopped after {done} of {length} bytes")
        os.replace(tmp, target)
    except urllib.error.HTTPError as err:
        raise OSError(f"URL fetch failure on {origin}: {err.code} -- {err.reason}") from None
    except urllib.error.URLError as err:
        raise OSError(f"URL fetch failure on {origin}: {err.reason}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _inside(root: Path, name: str) -> bool:
    target = (root / name).resolve()
    return target == root or root in target.parents


def _extract_tar(path, root: Path) -> None:
    """Check every member (kind, destination, total declared size), then extract."""
    from cnnlab.io import LIMITS, human_bytes

    with tarfile.open(path) as archive:
        for member in archive.getmembers():
            if not (member.isfile() or member.isdir()) or not _inside(root, member.name):
                raise ValueError(
                    f"extract_archive: refusing member {member.name!r} of {path}: it is a "
                    "link or device, or would be written outside the extraction directory"
                )
        total = sum(m.size for m in archive.getmembers())
        cap = LIMITS.inflation_cap(Path(path).stat().st_size)
        if total > cap:  # sizes from the headers, before anything is written
            raise ValueError(
                f"extract_archive: {path} declares {human_bytes(total)} of files, more than "
                f"{human_bytes(cap)} (cnnlab.io.LIMITS: {LIMITS.max_inflation_ratio} times "
                "the archive's size); refused as a decompression bomb"
            )
        root.mkdir(parents=True, exist_ok=True)
        archive.extractall(root, filter="data")


def extract_archive(path, directory, archive_format="auto") -> bool:
    """Unpack a tar (any compression) or zip archive into ``directory``.

    Returns:
        True if ``path`` was an archive of an accepted format and was extracted.

    Raises:
        ValueError: a member would be written outside ``directory`` or is a link/device.
    """
    formats = ("tar", "zip") if archive_format == "auto" else (archive_format,)
    root = Path(directory).resolve()
    if "tar" in formats and tarfile.is_tarfile(path):
        try:
            _extract_tar(path, root)
        except (tarfile.TarError, EOFError, zlib.error) as err:
            raise ValueError(f"extract_archive: {path} is damaged or truncated ({err})") from None
        return True
    if "zip" in formats and zipfile.is_zipfile(path):
        from cnnlab.io import SafeZip

        # Duplicates, encryption, odd methods and sizes the file cannot justify are
        # refused before anything is written (a zip bomb would fill the disk).
        SafeZip(path).close()
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if not _inside(root, name):
                    raise ValueError(
                        f"extract_archive: refusing member {name!r} of {path}: it would be "
                        "written outside the extraction directory"
                    )
            root.mkdir(parents=True, exist_ok=True)
            archive.extractall(root)
        return True
    return False


def get_file(
    fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
    cache_subdir="datasets", hash_algorithm="auto", extract=False, archive_format="auto",
    cache_dir=None, force_download=False, timeout=60.0,
) -> str:  # fmt: skip
    """Download ``origin`` into the cache unless it is already there; return the local path.

    Args:
        fname: the file's name in the cache (no directories); default the URL's last part.
        origin: the URL.
        untar: deprecated form of ``extract=True`` for tar files.
        md5_hash: deprecated form of ``file_hash``.
        file_hash: expected SHA-256 or MD5 hex digest, checked after every download.
        cache_subdir: sub-directory of ``cache_dir`` (may be absolute).
        hash_algorithm: ``"auto"``, ``"sha256"`` or ``"md5"``.
        extract: unpack the archive and return the extraction directory.
        archive_format: ``"auto"``, ``"tar"`` or ``"zip"``.
        cache_dir: default ``$KERAS_HOME`` or ``~/.keras``.
        force_download: download even when the file is cached.
        timeout: seconds to wait for the server (cnnlab extension).

    Returns:
        The path of the file (or of the extraction directory) as a string.

    Raises:
        ValueError: no origin, a bad ``fname``, a hash mismatch after download, an unsafe
            archive member, or bad ``hash_algorithm``/``archive_format``.
        OSError: the download failed (the message names the URL and the reason).

    Example:
        >>> import tempfile, pathlib
        >>> cache = tempfile.mkdtemp()
        >>> source = pathlib.Path(cache) / "hello.txt"
        >>> _ = source.write_text("hi")
        >>> path = get_file("copy.txt", source.as_uri(), cache_dir=cache)  # doctest: +ELLIPSIS
        Downloading data from file:///.../hello.txt
        >>> pathlib.Path(path).read_text(), pathlib.Path(path).parent.name
        ('hi', 'datasets')
    """
    if not origin or not isinstance(origin, str):
        raise ValueError(f'get_file: please specify the "origin" argument (URL of the file). '
                         f"Received: origin={origin!r}")  # fmt: skip
    if hash_algorithm not in HASH_ALGORITHMS:
        raise ValueError(f"get_file: hash_algorithm must be one of {HASH_ALGORITHMS}. "
                         f"Received: hash_algorithm={hash_algorithm!r}")  # fmt: skip
    if archive_format not in ARCHIVE_FORMATS:
        raise ValueError(f"get_file: archive_format must be one of {ARCHIVE_FORMATS}. "
                         f"Received: archive_format={archive_format!r}")  # fmt: skip
    file_hash = file_hash if file_hash is not None else md5_hash
    datadir = Path(cache_dir).expanduser() if cache_dir is not None else _default_cache_dir()
    datadir = datadir / cache_subdir
    datadir.mkdir(parents=True, exist_ok=True)
    provided = fname is not None
    if fname is None:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname or fname in (os.curdir, os.pardir):
            raise ValueError(f"get_file: can't parse the file name from the origin "
                             f"{origin!r}. Please specify the `fname` argument.")  # fmt: skip
    elif not isinstance(fname, str) or os.sep in fname or (os.altsep and os.altsep in fname) or (
        fname in (os.curdir, os.pardir)
    ):  # fmt: skip
        raise ValueError(
            "get_file: fname must be a file name; to choose its directory use the `cache_dir` "
            f"argument. Received: fname={fname!r}"
        )
    if extract or untar:
        if provided and "." in fname:
            target = datadir / fname
            extraction_dir = datadir / f"{fname[: fname.find('.')]}_extracted"
        else:
            target = datadir / f"{fname}_archive"
            extraction_dir = datadir / fname
    else:
        target = datadir / fname
    download = force_download or not target.exists()
    if not download and file_hash is not None and not validate_file(target, file_hash,
                                                                     hash_algorithm):  # fmt: skip
        print(f"A local file was found, but its hash does not match {file_hash}: "
              "downloading it again.")  # fmt: skip
        download = True
    if download:
        print(f"Downloading data from {origin}")
        _download(origin, target, timeout)
        if file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
            target.unlink()
            raise ValueError(
                "get_file: incomplete or corrupted file detected. The "
                f"{_hasher(hash_algorithm, file_hash).name} file hash does not match the "
                f"provided value of {file_hash}."
            )
    if extract or untar:
        if not extract_archive(target, extraction_dir, "tar" if untar else archive_format):
            raise ValueError(f"get_file: {target} is not a {archive_format} archive")
        return str(extraction_dir)
    return str(target)
