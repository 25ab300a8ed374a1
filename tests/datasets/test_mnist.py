"""MNIST from $CNNLAB_DATA (the real files) and the loader's handling of bad files."""

import gzip

import numpy as np
import pytest

from cnnlab.datasets import _idx, mnist
from tests.datasets._fake_idx import FILES, idx_bytes, make_dataset, md5

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_full_mnist_shapes_dtypes_and_published_statistics():
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    assert np.bincount(y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test, minlength=10).sum() == 10000
    # Exact integer moments from a histogram (no 400 MB float64 copy).
    counts = np.bincount(x_train.reshape(-1), minlength=256)
    values = np.arange(256, dtype=np.int64)
    n = int(counts.sum())
    mean = int(counts @ values) / n
    std = np.sqrt(int(counts @ values**2) / n - mean**2)
    mean, std = mean / 255, std / 255
    assert mean == pytest.approx(0.1306604762738429, rel=1e-12)
    assert std == pytest.approx(0.30810780385646264, rel=1e-9)


def test_returned_arrays_are_private_copies():
    (x_train, y_train), _ = mnist.load_data()
    first = int(x_train[0].sum())
    x_train[0] = 0
    y_train[:] = 99
    (x_again, y_again), _ = mnist.load_data()
    assert int(x_again[0].sum()) == first
    assert y_again.max() == 9


def test_keras_default_path_is_accepted_and_a_directory_is_read(tmp_path, monkeypatch):
    (x, _), _ = mnist.load_data(path="mnist.npz")  # Keras' default name: ignored
    assert x.shape == (60000, 28, 28)
    arrays, checksums = make_dataset(tmp_path / "fake")
    monkeypatch.setattr(mnist, "CHECKSUMS", checksums)
    (x_train, _), (_, y_test) = mnist.load_data(path=tmp_path / "fake")
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def test_keras_npz_file_is_read_without_pickle(tmp_path):
    arrays, _ = make_dataset(tmp_path / "unused")
    np.savez(tmp_path / "mnist.npz", **arrays)
    (x_train, _), (_, y_test) = mnist.load_data(path=tmp_path / "mnist.npz")
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    np.savez(tmp_path / "objects.npz", x_train=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match=r"objects\.npz: not an MNIST \.npz"):
        mnist.load_data(path=tmp_path / "objects.npz")


def test_bad_path_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="path must be None, a directory"):
        mnist.load_data(path=tmp_path / "nope.bin")


@pytest.fixture
def fake_data(tmp_path, monkeypatch):
    """A CNNLAB_DATA directory holding a small, valid fake MNIST; returns its mnist dir."""
    _, checksums = make_dataset(tmp_path / "data" / "mnist")
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(mnist, "CHECKSUMS", checksums)
    monkeypatch.setattr(mnist, "MIRRORS", ())
    return tmp_path / "data" / "mnist"


def test_fake_data_set_loads(fake_data):
    (x_train, _), (_, y_test) = mnist.load_data()
    assert x_train.shape == (6, 28, 28) and y_test.shape == (4,)


def test_wrong_magic_number(fake_data):
    raw = bytearray(idx_bytes(np.zeros((6, 28, 28), np.uint8)))
    raw[2] = 0x0D  # float32 elements
    (fake_data / FILES["x_train"]).write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz: not an IDX file"):
        mnist.load_data()


def test_dimensions_disagree_with_size(fake_data):
    raw = idx_bytes(np.zeros((6, 28, 28), np.uint8))[:-100]
    (fake_data / FILES["x_train"]).write_bytes(gzip.compress(raw))
    with pytest.raises(ValueError, match=r"shape \(6, 28, 28\).*truncated or corrupted"):
        mnist.load_data()


def _replace(directory, role, array, monkeypatch):
    """Write a well-formed IDX file for ``role`` and accept its checksum."""
    raw = idx_bytes(array)
    (directory / FILES[role]).write_bytes(gzip.compress(raw))
    monkeypatch.setattr(mnist, "CHECKSUMS", {**mnist.CHECKSUMS, FILES[role]: (md5(raw),)})


def test_images_must_be_28x28(fake_data, monkeypatch):
    _replace(fake_data, "x_test", np.zeros((4, 5, 5), np.uint8), monkeypatch)
    with pytest.raises(ValueError, match=r"images must be 28x28. Received: shape \(4, 5, 5\)"):
        mnist.load_data()


def test_labels_and_images_must_pair_up(fake_data, monkeypatch):
    _replace(fake_data, "y_test", np.zeros(3, np.uint8), monkeypatch)
    with pytest.raises(ValueError, match=r"holds 4 images but .* holds 3 labels"):
        mnist.load_data()


def test_labels_must_be_digits(fake_data, monkeypatch):
    _replace(fake_data, "y_train", np.full(6, 10, np.uint8), monkeypatch)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 10\). Received: max 10"):
        mnist.load_data()


def test_truncated_gzip(fake_data):
    path = fake_data / FILES["y_train"]
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.gz: the gzip file is truncated"):
        mnist.load_data()


def test_not_gzip_at_all(fake_data):
    (fake_data / FILES["y_train"]).write_bytes(b"<html>Not found</html>")
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.gz: not a valid gzip file"):
        mnist.load_data()


def test_well_formed_file_with_wrong_checksum(fake_data, monkeypatch):
    checksums = dict(mnist.CHECKSUMS)
    checksums[FILES["y_train"]] = ("0" * 32,)
    monkeypatch.setattr(mnist, "CHECKSUMS", checksums)
    with pytest.raises(ValueError, match="does not match the published checksum"):
        mnist.load_data()


def test_parsed_arrays_are_cached_in_memory(fake_data, monkeypatch):
    mnist.load_data()
    calls = []
    real_gunzip = _idx.gunzip
    monkeypatch.setattr(_idx, "gunzip", lambda *a, **k: calls.append(a) or real_gunzip(*a, **k))
    mnist.load_data()
    assert calls == []
    # A changed file (new size and time stamp) is read again.
    (fake_data / FILES["y_test"]).write_bytes(gzip.compress(idx_bytes(np.ones(4, np.uint8)), 9))
    monkeypatch.setattr(mnist, "CHECKSUMS", {**mnist.CHECKSUMS, FILES["y_test"]: ()})
    with pytest.raises(ValueError, match="checksum"):
        mnist.load_data()
    assert len(calls) == 1


def test_keras_facade_points_to_cnnlab_datasets():
    from cnnlab import keras
    from cnnlab.datasets import fashion_mnist

    assert keras.datasets.mnist.load_data is mnist.load_data
    assert keras.datasets.fashion_mnist.load_data is fashion_mnist.load_data


def test_full_fashion_mnist_from_recompressed_copies_is_verified_by_content():
    from cnnlab.datasets import _download, fashion_mnist

    path = _download.data_dir() / "fashion_mnist" / FILES["x_test"]
    gzip_md5 = md5(path.read_bytes())
    assert gzip_md5 not in fashion_mnist.CHECKSUMS[FILES["x_test"]][:1]  # not Zalando's bytes
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(progress=False)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_test.dtype == np.uint8
    assert np.bincount(y_train, minlength=10).tolist() == [6000] * 10
    assert np.bincount(y_test, minlength=10).tolist() == [1000] * 10
