"""The reading layer (cnnlab.io): every rule refused with a ValueError naming the file,
the member and the rule; valid files read exactly."""

import gzip
import io
import re
import zipfile
import zlib

import numpy as np
import pytest

from cnnlab.io import (
    LIMITS,
    BadFileError,
    NpzReader,
    SafeZip,
    check_file,
    gunzip,
    load_json_file,
    loads_json,
    open_image,
    override_limits,
    read_csv_matrix,
    read_file_bytes,
    read_npy_file,
)
from tests.io.hostile_files import (
    MiB,
    deflate_zeros,
    gzip_member,
    npy_header,
    npz_bytes,
    png_declaring,
    raw_zip,
)


# ---- zip --------------------------------------------------------------------------------
def test_valid_zip_round_trip(tmp_path):
    path = tmp_path / "ok.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.txt", b"x" * 5000)
        z.writestr("b.bin", bytes(range(256)))
    with SafeZip(path) as archive:
        assert archive.names() == ["a.txt", "b.bin"]
        assert archive.read("a.txt") == b"x" * 5000
        assert archive.read_prefix("b.bin", 3) == b"\x00\x01\x02"


@pytest.mark.parametrize(
    ("member", "rule"),
    [
        ({"name": "a", "data": b"x", "flags": 1}, "is encrypted"),
        ({"name": "a", "data": b"x", "flags": 0x40}, "is encrypted"),
        ({"name": "a", "data": b"x", "method": 12}, "compression method 12"),  # bzip2
        ({"name": "a", "data": b"x", "method": 14}, "compression method 14"),  # lzma
        ({"name": "a", "data": b"x", "method": 99}, "compression method 99"),
        ({"name": "a", "data": b"xy", "size": 7}, "is stored (not compressed) yet declares"),
        (
            {"name": "a", "data": deflate_zeros(MiB), "method": 8, "size": 2 * 1024**3},
            "declares 2.0 GiB inflated from",
        ),
    ],
)
def test_zip_oddities_are_refused_up_front(tmp_path, member, rule):
    path = tmp_path / "odd.zip"
    path.write_bytes(raw_zip([member]))
    with pytest.raises(BadFileError, match=rf"odd\.zip: member 'a': .*{re.escape(rule)}"):
        SafeZip(path)


def test_newer_zip_versions_are_refused(tmp_path):
    path = tmp_path / "new.zip"
    path.write_bytes(raw_zip([{"name": "a", "data": b"x", "version": 99}]))
    with pytest.raises(BadFileError, match=r"new\.zip: .*zip file version 9\.9"):
        SafeZip(path)


def test_duplicate_members_are_refused(tmp_path):
    path = tmp_path / "dup.zip"
    path.write_bytes(raw_zip([{"name": "config.json", "data": b"{}"}] * 2))
    with pytest.raises(BadFileError, match=r"member 'config.json': appears twice"):
        SafeZip(path)


def test_member_beyond_the_end_of_the_file_is_refused(tmp_path):
    data = raw_zip([{"name": "a", "data": b"hello"}])
    # Make the central directory claim 10 000 compressed bytes.
    central = data.index(b"PK\x01\x02")
    patched = bytearray(data)
    patched[central + 20 : central + 24] = (10_000).to_bytes(4, "little")
    patched[central + 24 : central + 28] = (10_000).to_bytes(4, "little")
    (tmp_path / "long.zip").write_bytes(bytes(patched))
    with pytest.raises(BadFileError, match="beyond the end of the"):
        SafeZip(tmp_path / "long.zip")


def test_member_that_lies_about_its_size_is_stopped_at_the_declared_size(tmp_path):
    # Declares 1 MiB (within limits) but its deflate stream holds 64 MiB.
    bomb = deflate_zeros(64 * MiB)
    path = tmp_path / "liar.zip"
    path.write_bytes(raw_zip([{"name": "a", "data": bomb, "method": 8, "size": MiB}]))
    with SafeZip(path) as archive, pytest.raises(BadFileError, match="member 'a': is corrupted"):
        archive.read("a")


@pytest.mark.parametrize("damage", ["deflate", "crc"])
def test_corrupt_members_give_a_value_error(tmp_path, damage):
    payload = zlib.compress(b"hello world" * 100)[2:-4]
    member = {"name": "a", "data": payload, "method": 8, "size": 1100}
    if damage == "deflate":
        member["data"] = b"\xff" * 40
    else:
        member["crc"] = 1234
    path = tmp_path / "bad.zip"
    path.write_bytes(raw_zip([member]))
    with SafeZip(path) as archive, pytest.raises(BadFileError, match="member 'a': is corrupted"):
        archive.read("a")


def test_not_a_zip(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"hello")
    with pytest.raises(BadFileError, match=r"x\.zip: not a zip archive"):
        SafeZip(tmp_path / "x.zip")


def test_a_cap_on_a_read(tmp_path):
    path = tmp_path / "j.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("big.json", b"[" + b"0," * 1000 + b"0]")
    with SafeZip(path) as archive, pytest.raises(BadFileError, match="more than the 100 B"):
        archive.read("big.json", max_bytes=100)


# ---- npy / npz --------------------------------------------------------------------------
def test_npz_headers_then_arrays():
    kernel = np.arange(6, dtype=np.float32).reshape(2, 3)
    fortran = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    with NpzReader(npz_bytes(kernel=kernel, f=fortran, b=np.zeros(0)), name="w.npz") as npz:
        assert [(k, s) for k, s, _ in npz.headers()] == [
            ("kernel", (2, 3)),
            ("f", (3, 4)),
            ("b", (0,)),
        ]
        assert npz.nbytes() == 24 + 96
        np.testing.assert_array_equal(npz.read("kernel"), kernel)
        np.testing.assert_array_equal(npz.read("f"), fortran)
        assert "kernel" in npz and "nope" not in npz


def test_npy_header_announcing_more_than_the_file_holds(tmp_path):
    path = tmp_path / "huge.npy"
    path.write_bytes(npy_header((10**9, 10**3)) + bytes(64))
    with pytest.raises(BadFileError, match=r"huge\.npy: its header announces .* \(3\.6 TiB\)"):
        read_npy_file(path)


def test_npz_member_announcing_more_than_it_holds():
    data = npy_header((1_500_000_000,)) + bytes(16)
    archive = raw_zip([{"name": "w.npy", "data": data}])
    with (
        NpzReader(archive, name="m.npz") as npz,
        pytest.raises(BadFileError, match=r"member 'w\.npy'"),
    ):
        npz.headers()


@pytest.mark.parametrize("dtype", ["|O", "<U5", "|V8", "<M8[s]"])
def test_non_numeric_dtypes_are_refused(tmp_path, dtype):
    path = tmp_path / "obj.npy"
    path.write_bytes(npy_header((1,), dtype) + bytes(64))
    with pytest.raises(BadFileError, match="not plain numbers"):
        read_npy_file(path)


def test_npz_with_a_foreign_member():
    archive = raw_zip([{"name": "evil.pkl", "data": b"x"}])
    with pytest.raises(BadFileError, match=r"member 'evil\.pkl': is not an \.npy array"):
        NpzReader(archive, name="m.npz")


def test_truncated_npy(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(100, dtype=np.float64))
    data = (tmp_path / "a.npy").read_bytes()
    (tmp_path / "a.npy").write_bytes(data[:-8])
    with pytest.raises(BadFileError, match="only 792 B follow"):
        read_npy_file(tmp_path / "a.npy")


# ---- JSON -------------------------------------------------------------------------------
def test_json_depth_and_duplicates():
    assert loads_json('{"a": "[[[[[["}', "x.json") == {"a": "[[[[[["}
    with pytest.raises(BadFileError, match=r"x\.json: the JSON nests 100001 levels deep"):
        loads_json("[" * 100_001 + "]" * 100_001, "x.json")
    with pytest.raises(BadFileError, match="the key 'a' appears twice"):
        loads_json('{"a": 1, "a": 2}', "x.json")
    with pytest.raises(BadFileError, match="is not UTF-8"):
        loads_json(b"\xff\xfe{}", "x.json")


def test_json_file_size_limit(tmp_path):
    path = tmp_path / "h.json"
    path.write_text("[" + "1," * 100 + "1]")
    with override_limits(max_json_bytes=50), pytest.raises(BadFileError, match="more than 50 B"):
        load_json_file(path)
    assert len(load_json_file(path)) == 101


# ---- gzip -------------------------------------------------------------------------------
def test_gzip_round_trip_and_bomb():
    assert gunzip(gzip.compress(b"abc" * 1000), "a.gz") == b"abc" * 1000
    assert gunzip(gzip.compress(b"a") + gzip.compress(b"b"), "two.gz") == b"ab"
    bomb = gzip_member(deflate_zeros(64 * MiB))
    with pytest.raises(BadFileError, match=r"bomb\.gz: inflates to more than 1\.0 MiB"):
        gunzip(bomb, "bomb.gz", max_bytes=MiB)
    limits = override_limits(inflation_allowance=0, max_inflation_ratio=10)
    with limits, pytest.raises(BadFileError, match="gzip bomb"):
        gunzip(bomb, "bomb.gz")


def test_gzip_damage():
    with pytest.raises(BadFileError, match="not a valid gzip file"):
        gunzip(b"hello", "x.gz")
    with pytest.raises(BadFileError, match="truncated"):
        gunzip(gzip.compress(b"abc" * 1000)[:-12], "x.gz")
    with pytest.raises(BadFileError, match="not a valid gzip file"):
        gunzip(b"\x1f\x8b\x08\x00" + b"\xff" * 40, "x.gz")


# ---- images -----------------------------------------------------------------------------
def test_image_pixel_limit_before_decoding(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(png_declaring(12000, 12000))
    with pytest.raises(BadFileError, match=r"big\.png: the image is 12000x12000 = 144,000,000"):
        open_image(path)
    path.write_bytes(png_declaring(20000, 20000))  # above Pillow's own bomb limit too
    with pytest.raises(BadFileError, match=r"big\.png: "):
        open_image(path)
    assert LIMITS.max_image_pixels < 89_478_485  # well below Pillow's warning limit


def test_small_image_reads_and_junk_does_not(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((5, 7), 200, np.uint8)).save(tmp_path / "ok.png")
    assert open_image(tmp_path / "ok.png").size == (7, 5)
    (tmp_path / "junk.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    with pytest.raises(BadFileError, match=r"junk\.png: not an image Pillow can read"):
        open_image(tmp_path / "junk.png")


# ---- files and CSV ----------------------------------------------------------------------
def test_file_system_errors_are_oserrors(tmp_path):
    with pytest.raises(FileNotFoundError, match="model file not found"):
        check_file(tmp_path / "nope", "model file")
    with pytest.raises(IsADirectoryError, match="is a folder, not a file"):
        check_file(tmp_path, "model file")
    (tmp_path / "f").write_bytes(b"12345")
    with pytest.raises(BadFileError, match="the file is 5 B, more than 4 B"):
        read_file_bytes(tmp_path / "f", 4)


def test_csv_matrix(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("1,2,3\n4,5,6\n")
    np.testing.assert_array_equal(read_csv_matrix(path), [[1, 2, 3], [4, 5, 6]])
    path.write_text("1\n2\n")
    np.testing.assert_array_equal(read_csv_matrix(path), [1, 2])
    for text, rule in [
        ("1,2\n3,x\n", "line 2: 'x' is not a number"),
        ("1,2\n3\n", "line 2 has 1 values but the first row has 2"),
        ("1,nan\n", "line 1: 'nan' is not finite"),
        ("\n\n", "holds no numbers"),
    ]:
        path.write_text(text)
        with pytest.raises(BadFileError, match=rf"m\.csv: {rule}"):
            read_csv_matrix(path)


def test_bad_file_error_is_a_value_error():
    err = BadFileError("a.keras", "config.json", "is broken.")
    assert isinstance(err, ValueError)
    assert str(err) == "a.keras: member 'config.json': is broken."
    assert (err.path, err.member, err.rule) == ("a.keras", "config.json", "is broken.")


def test_override_limits_checks_names():
    with pytest.raises(TypeError, match="unknown limits"), override_limits(max_pixels=3):
        pass
    with pytest.raises(ValueError, match="must be an int >= 0"), override_limits(max_json_depth=-1):
        pass


def test_a_stream_is_not_read_past_its_size():
    # A zip inside bytes is handled like a file.
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("a", b"abc")
    with SafeZip(data.getvalue(), name="mem.zip") as archive:
        assert archive.size("a") == 3
        with pytest.raises(BadFileError, match="member 'b': is missing"):
            archive.read("b")


def test_extract_archive_refuses_a_tar_that_inflates_too_much(tmp_path):
    import tarfile

    from cnnlab.utils.file_download import extract_archive

    path = tmp_path / "zeros.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("zeros.bin")
        info.size = MiB
        archive.addfile(info, io.BytesIO(bytes(MiB)))
    limits = override_limits(inflation_allowance=0, max_inflation_ratio=10)
    with limits, pytest.raises(ValueError, match=r"zeros\.tar\.gz declares 1\.0 MiB of files"):
        extract_archive(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert extract_archive(path, tmp_path / "out")  # within the default limits
    assert (tmp_path / "out" / "zeros.bin").stat().st_size == MiB
