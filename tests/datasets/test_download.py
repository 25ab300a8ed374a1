"""The download code, against a local HTTP server on 127.0.0.1 serving fake IDX files."""

import socket

import numpy as np
import pytest

from cnnlab.datasets import DownloadError, fashion_mnist, mnist
from tests.datasets._fake_idx import FILES, LocalServer, make_dataset, md5


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Empty CNNLAB_DATA and CNNLAB_HOME; returns the mnist download cache directory."""
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "datasets" / "mnist"


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_download_from_second_mirror_then_load_offline(tmp_path, env, monkeypatch):
    arrays, checksums = make_dataset(tmp_path / "served" / "good")
    # One file is listed by the MD5 of its gzip bytes instead of its content.
    name = FILES["y_train"]
    checksums[name] = (md5((tmp_path / "served" / "good" / name).read_bytes()),)
    monkeypatch.setattr(mnist, "CHECKSUMS", checksums)
    with LocalServer(tmp_path / "served") as server:
        monkeypatch.setattr(mnist, "MIRRORS", (server.url + "missing/", server.url + "good/"))
        (x_train, y_train), (x_test, y_test) = mnist.load_data(progress=True)
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_train, arrays["y_train"])
    np.testing.assert_array_equal(x_test, arrays["x_test"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert _leftovers(env) == sorted(FILES.values())  # no temporary files left
    # The server is gone: the cached files are used.
    (x_again, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x_again, arrays["x_train"])


def test_files_in_cnnlab_data_are_not_downloaded(tmp_path, env, monkeypatch):
    arrays, checksums = make_dataset(tmp_path / "data" / "mnist")
    monkeypatch.setattr(mnist, "CHECKSUMS", checksums)
    monkeypatch.setattr(mnist, "MIRRORS", ("http://127.0.0.1:9/never/",))
    (x_train, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    assert _leftovers(env) == []


def test_checksum_mismatch_leaves_no_file(tmp_path, env, monkeypatch):
    _, checksums = make_dataset(tmp_path / "served")
    checksums[FILES["x_train"]] = ("f" * 32,)
    monkeypatch.setattr(mnist, "CHECKSUMS", checksums)
    with LocalServer(tmp_path / "served") as server:
        monkeypatch.setattr(mnist, "MIRRORS", (server.url,))
        with pytest.raises(DownloadError, match=r"train-images-idx3-ubyte.gz: checksum mismatch"):
            mnist.load_data(progress=False)
    assert _leftovers(env) == []


def test_corrupted_file_on_the_mirror_is_rejected(tmp_path, env, monkeypatch):
    _, checksums = make_dataset(tmp_path / "served")
    path = tmp_path / "served" / FILES["y_test"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    monkeypatch.setattr(mnist, "CHECKSUMS", checksums)
    with LocalServer(tmp_path / "served") as server:
        monkeypatch.setattr(mnist, "MIRRORS", (server.url,))
        with pytest.raises(DownloadError, match=r"t10k-labels-idx1-ubyte\.gz: checksum mismatch"):
            mnist.load_data(progress=False)
    assert FILES["y_test"] not in _leftovers(env)
    assert not any(name.endswith(".part") for name in _leftovers(env))


def test_dropped_connection_leaves_no_partial_file(tmp_path, env, monkeypatch):
    _, checksums = make_dataset(tmp_path / "served")
    monkeypatch.setattr(mnist, "CHECKSUMS", checksums)
    with LocalServer(tmp_path / "served", truncate=True) as server:
        monkeypatch.setattr(mnist, "MIRRORS", (server.url,))
        with pytest.raises(DownloadError, match=r"Could not download train-images-idx3-ubyte.gz"):
            mnist.load_data(progress=False)
    assert _leftovers(env) == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_network_names_the_urls_and_cnnlab_data(env, monkeypatch):
    port = _closed_port()
    mirrors = (f"http://127.0.0.1:{port}/a/", f"http://127.0.0.1:{port}/b/")
    monkeypatch.setattr(mnist, "MIRRORS", mirrors)
    with pytest.raises(DownloadError) as info:
        mnist.load_data(progress=False)
    message = str(info.value)
    assert f"http://127.0.0.1:{port}/a/train-images-idx3-ubyte.gz" in message
    assert f"http://127.0.0.1:{port}/b/train-images-idx3-ubyte.gz" in message
    assert "CNNLAB_DATA" in message
    assert not env.parent.parent.exists()  # the cache directories it made are gone again


def test_fashion_mnist_downloads_into_its_own_directory(tmp_path, env, monkeypatch):
    arrays, checksums = make_dataset(tmp_path / "served", seed=3)
    monkeypatch.setattr(fashion_mnist, "CHECKSUMS", checksums)
    with LocalServer(tmp_path / "served") as server:
        monkeypatch.setattr(fashion_mnist, "MIRRORS", (server.url,))
        (x_train, _), (_, y_test) = fashion_mnist.load_data(progress=False)
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert _leftovers(env.parent / "fashion_mnist") == sorted(FILES.values())
