"""get_file against a local HTTP server on 127.0.0.1: download, cache, hash check,
re-download of a stale file, extraction (and refusal of unsafe archives)."""

import hashlib
import http.server
import io
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from cnnlab.keras import utils
from cnnlab.utils import file_download

PAYLOAD = b"cnnlab test payload\n" * 100


def _tar_bytes(members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def server():
    files = {
        "/data.bin": PAYLOAD,
        "/images.tar.gz": _tar_bytes({"images/a.txt": b"A", "images/b.txt": b"B"}),
        "/flowers.zip": _zip_bytes({"flowers/rose.txt": b"rose"}),
        "/evil.tar.gz": _tar_bytes({"../outside.txt": b"x"}),
    }
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = files.get(self.path)
            if body is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()
    httpd.server_close()


def test_download_cache_and_hash(server, tmp_path):
    base, hits = server
    sha256 = hashlib.sha256(PAYLOAD).hexdigest()
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    before = len(hits)
    path = utils.get_file("data.bin", f"{base}/data.bin", file_hash=sha256, cache_dir=tmp_path)
    assert Path(path) == tmp_path / "datasets" / "data.bin"
    assert Path(path).read_bytes() == PAYLOAD
    # cached: no second request, with or without a (matching) hash
    assert utils.get_file("data.bin", f"{base}/data.bin", cache_dir=tmp_path) == path
    assert utils.get_file("data.bin", f"{base}/data.bin", md5_hash=md5, cache_dir=tmp_path) == path
    assert len(hits) == before + 1
    # a stale cached file (hash mismatch) is downloaded again
    Path(path).write_bytes(b"old")
    utils.get_file("data.bin", f"{base}/data.bin", file_hash=sha256, cache_dir=tmp_path)
    assert Path(path).read_bytes() == PAYLOAD and len(hits) == before + 2
    # force_download, fname from the URL, cache_subdir
    other = utils.get_file(origin=f"{base}/data.bin", cache_dir=tmp_path, cache_subdir="x",
                           force_download=True)  # fmt: skip
    assert Path(other) == tmp_path / "x" / "data.bin"


def test_wrong_hash_deletes_and_raises(server, tmp_path):
    base, _ = server
    with pytest.raises(ValueError, match="file hash does not match"):
        utils.get_file("data.bin", f"{base}/data.bin", file_hash="0" * 64, cache_dir=tmp_path)
    assert not (tmp_path / "datasets" / "data.bin").exists()
    assert not list((tmp_path / "datasets").glob(".*part"))


def test_http_error_names_the_url(server, tmp_path):
    base, _ = server
    with pytest.raises(OSError, match=r"URL fetch failure on .*missing\.bin: 404"):
        utils.get_file("missing.bin", f"{base}/missing.bin", cache_dir=tmp_path)
    assert not (tmp_path / "datasets" / "missing.bin").exists()


def test_extract_tar_and_zip(server, tmp_path):
    base, _ = server
    out = utils.get_file("images.tar.gz", f"{base}/images.tar.gz", extract=True,
                         cache_dir=tmp_path)  # fmt: skip
    assert Path(out) == tmp_path / "datasets" / "images_extracted"
    assert (Path(out) / "images" / "b.txt").read_bytes() == b"B"
    out = utils.get_file("flowers", f"{base}/flowers.zip", extract=True, cache_dir=tmp_path)
    assert (Path(out) / "flowers" / "rose.txt").read_text() == "rose"
    assert (tmp_path / "datasets" / "flowers_archive").exists()


def test_unsafe_archive_is_refused(server, tmp_path):
    base, _ = server
    with pytest.raises(ValueError, match="outside the extraction directory"):
        utils.get_file("evil.tar.gz", f"{base}/evil.tar.gz", extract=True, cache_dir=tmp_path)
    assert not (tmp_path / "datasets" / "outside.txt").exists()


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='specify the "origin"'):
        utils.get_file("a.bin")
    with pytest.raises(ValueError, match="fname must be a file name"):
        utils.get_file("sub/a.bin", "http://127.0.0.1:9/a.bin", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="hash_algorithm must be one of"):
        utils.get_file("a.bin", "http://127.0.0.1:9/a.bin", hash_algorithm="sha1")
    with pytest.raises(ValueError, match="hash_algorithm must be one of"):
        utils.get_file("a.bin", "http://127.0.0.1:9/a.bin", hash_algorithm="sha1")
    with pytest.raises(ValueError, match="algorithm must be 'sha256' or 'md5'"):
        file_download.hash_file(__file__, "sha1")
