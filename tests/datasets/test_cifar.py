"""CIFAR-10/100 from binary archives built here, served by a local HTTP server with
HTTP Range support (resumable downloads), plus corrupted and truncated archives."""

import hashlib
import http.server
import io
import tarfile
import threading

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.datasets import DownloadError, cifar10, cifar100


def _records(rng, count, label_bytes, classes):
    labels = np.stack([rng.integers(0, c, count) for c in classes], axis=1).astype(np.uint8)
    planes = rng.integers(0, 256, (count, 3, 32, 32), dtype=np.uint8)  # R, G, B planes
    raw = np.concatenate([labels, planes.reshape(count, -1)], axis=1).tobytes()
    return raw, planes.transpose(0, 2, 3, 1), labels


def _archive(folder, members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        notes = tarfile.TarInfo(f"{folder}/readme.html")  # other members are ignored
        notes.size = 2
        archive.addfile(notes, io.BytesIO(b"hi"))
    return buffer.getvalue()


@pytest.fixture
def cifar10_archive(monkeypatch):
    """A small cifar-10-binary.tar.gz (6 batches of 3 records) and the expected arrays."""
    rng = np.random.default_rng(0)
    members, xs, ys = {}, [], []
    for name in (*cifar10.TRAIN, *cifar10.TEST):
        members[name], x, y = _records(rng, 3, 1, [10])
        xs.append(x)
        ys.append(y)
    data = _archive(cifar10.FOLDER, members)
    monkeypatch.setattr(cifar10, "MD5", hashlib.md5(data).hexdigest())
    expected = ((np.concatenate(xs[:5]), np.concatenate(ys[:5])), (xs[5], ys[5]))
    return data, expected


@pytest.fixture
def env(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "datasets"


class RangeServer:
    """Serves ``files`` ({name: bytes}) on 127.0.0.1 with HTTP Range; the first
    ``cut_first`` responses stop after half of what they announce."""

    def __init__(self, files, cut_first=0):
        self.files, self.cut_left, self.ranges = files, cut_first, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # http.server's naming
                data = server.files.get(self.path.rsplit("/", 1)[-1])
                if data is None:
                    self.send_error(404)
                    return
                start = 0
                requested = self.headers.get("Range")
                server.ranges.append(requested)
                if requested:
                    start = int(requested.removeprefix("bytes=").rstrip("-"))
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.cut_left > 0:
                    server.cut_left -= 1
                    body = body[: len(body) // 2]
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/kriz/"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _assert_same(loaded, expected):
    for (x, y), (ex, ey) in zip(loaded, expected, strict=True):
        assert x.dtype == np.uint8 and y.dtype == np.uint8 and y.ndim == 2
        np.testing.assert_array_equal(x, ex)
        np.testing.assert_array_equal(y, ey)


def test_download_resumes_after_a_cut_connection_then_loads_offline(env, cifar10_archive,
                                                                     monkeypatch):  # fmt: skip
    data, expected = cifar10_archive
    with RangeServer({cifar10.ARCHIVE: data}, cut_first=1) as server:
        monkeypatch.setattr(cifar10, "MIRRORS", (server.url,))
        with pytest.raises(DownloadError, match=r"stopped after \d+ of \d+ bytes \(kept"):
            cifar10.load_data(progress=False)
        part = env / "cifar10" / f".{cifar10.ARCHIVE}.part"
        assert part.stat().st_size == len(data) // 2
        _assert_same(cifar10.load_data(progress=True), expected)
    assert server.ranges == [None, f"bytes={len(data) // 2}-"]
    assert sorted(p.name for p in (env / "cifar10").iterdir()) == [cifar10.ARCHIVE]
    _assert_same(cifar10.load_data(), expected)  # the server is gone: the cache serves
    assert keras.datasets.cifar10.load_data is cifar10.load_data


def test_corrupted_download_is_removed_and_a_local_truncated_archive_named(
    env, cifar10_archive, monkeypatch
):
    data, _ = cifar10_archive
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 0xFF
    with RangeServer({cifar10.ARCHIVE: bytes(bad)}) as server:
        monkeypatch.setattr(cifar10, "MIRRORS", (server.url,))
        with pytest.raises(DownloadError, match=r"checksum mismatch"):
            cifar10.load_data(progress=False)
    assert not (env / "cifar10").exists()  # no part kept for a wrong file
    local = env.parent.parent / "data" / "cifar10"
    local.mkdir()
    (local / cifar10.ARCHIVE).write_bytes(data[: len(data) // 2])  # truncated copy
    with pytest.raises(ValueError, match=r"cifar-10-binary\.tar\.gz: its MD5 is .*truncated"):
        cifar10.load_data()


def test_truncated_members_and_missing_members_are_errors(env, monkeypatch):
    rng = np.random.default_rng(1)
    members = {name: _records(rng, 2, 1, [10])[0] for name in (*cifar10.TRAIN, *cifar10.TEST)}
    members["test_batch.bin"] = members["test_batch.bin"][:-5]
    data = _archive(cifar10.FOLDER, members)
    monkeypatch.setattr(cifar10, "MD5", hashlib.md5(data).hexdigest())
    local = env.parent.parent / "data" / "cifar10"
    local.mkdir()
    (local / cifar10.ARCHIVE).write_bytes(data)
    with pytest.raises(ValueError, match=r"test_batch\.bin: 6141 bytes is not a whole number"):
        cifar10.load_data()
    del members["data_batch_3.bin"]
    data = _archive(cifar10.FOLDER, members)
    monkeypatch.setattr(cifar10, "MD5", hashlib.md5(data).hexdigest())
    (local / cifar10.ARCHIVE).write_bytes(data)
    with pytest.raises(ValueError, match=r"lacks cifar-10-batches-bin/data_batch_3\.bin"):
        cifar10.load_data()


def test_cifar100_label_modes_from_an_extracted_folder(env):
    rng = np.random.default_rng(2)
    folder = env.parent.parent / "data" / "cifar100" / cifar100.FOLDER
    folder.mkdir(parents=True)
    expected = {}
    for name in ("train.bin", "test.bin"):
        raw, x, y = _records(rng, 4, 2, [20, 100])
        (folder / name).write_bytes(raw)
        expected[name] = (x, y)
    (x_train, y_fine), (x_test, y_test) = keras.datasets.cifar100.load_data()
    np.testing.assert_array_equal(x_train, expected["train.bin"][0])
    np.testing.assert_array_equal(y_fine, expected["train.bin"][1][:, 1:])
    np.testing.assert_array_equal(y_test, expected["test.bin"][1][:, 1:])
    (_, y_coarse), _ = cifar100.load_data(label_mode="coarse")
    np.testing.assert_array_equal(y_coarse, expected["train.bin"][1][:, :1])
    assert y_coarse.shape == (4, 1) and x_test.shape == (4, 32, 32, 3)
    with pytest.raises(ValueError, match=r'`label_mode` must be one of `"fine"`, `"coarse"`'):
        cifar100.load_data(label_mode="medium")


def test_colour_planes_become_channels_last():
    raw = bytes([7]) + bytes([10] * 1024 + [20] * 1024 + [30] * 1024)
    from cnnlab.datasets._cifar import records_to_arrays

    images, labels = records_to_arrays(raw, 1, "one record")
    assert images.shape == (1, 32, 32, 3) and images[0, 5, 9].tolist() == [10, 20, 30]
    assert labels.tolist() == [[7]]
