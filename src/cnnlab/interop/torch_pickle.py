"""Read PyTorch state dicts (``.pth``/``.pt``/``.bin``) without PyTorch, never running their code.

``torch.save`` writes a pickle, and unpickling a pickle can call any importable function
(``os.system``, ``eval`` ...). This reader unpickles with an allow-list: the only globals a
pickle may name are

* ``collections.OrderedDict`` (the state dict itself and its ``_metadata``),
* ``torch._utils._rebuild_tensor_v2`` and ``torch._utils._rebuild_parameter`` (tensors),
* ``torch.<Dtype>Storage`` (``FloatStorage``, ``LongStorage`` ..., only as dtype names),

and each resolves to a function of this module that only records a tensor's place.
Any other global is refused with a ``ValueError`` naming it, before anything is called.

Two container formats:

* **zip** (PyTorch >= 1.6): ``<dir>/data.pkl`` plus one member ``<dir>/data/<key>`` of raw
  little-endian bytes per storage. Members must be stored (uncompressed), as PyTorch writes
  them, so no member can expand beyond the file's size.
* **legacy**: five consecutive pickles in one file: magic number, protocol version,
  system info, the object, the list of storage keys; then per key an int64 element count
  and the raw bytes.

Memory is bounded by the file's real size: a storage is read only if the file holds all
of its ``numel * itemsize`` bytes; a tensor view must lie inside its storage and hold at
most as many elements as it; the arrays returned together hold at most
``MAX_EXPANSION`` times the file's size.

Example:
    >>> import pickle
    >>> _unpickle(pickle.dumps({"w": [1, 2]}))
    {'w': [1, 2]}
    >>> try:
    ...     _unpickle(b"cos\\nsystem\\n(S'echo hi'\\ntR.")  # os.system("echo hi")
    ... except ValueError as err:
    ...     print(str(err)[:40])
    the pickle names the global os.system, w
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np

# dtype name of a torch storage class -> NumPy dtype (little-endian on disk).
STORAGE_DTYPES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "BFloat16Storage": "<u2",  # converted to float32 (bfloat16 is the top half of a float32)
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
# The arrays returned may hold at most this many times the file's bytes (tied weights).
MAX_EXPANSION = 4


class _StorageType:
    """A dtype name from the pickle (``torch.FloatStorage``); not callable."""

    def __init__(self, name: str):
        self.name = name


class _Storage:
    """One storage: its dtype, element count, and (once read) its bytes as a 1-D array."""

    def __init__(self, key: str, type_name: str, numel: int):
        self.key, self.type_name, self.numel = key, type_name, numel
        self.dtype = np.dtype(STORAGE_DTYPES[type_name])
        self.array: np.ndarray | None = None


class _TensorRef:
    """Where a tensor lives: a view (offset, size, stride, in elements) of a storage."""

    def __init__(self, storage, offset, size, stride):
        if not isinstance(storage, _Storage):
            raise ValueError(f"a tensor's storage is not a storage reference: {storage!r:.80}")
        for name, value in (("size", size), ("stride", stride)):
            if not isinstance(value, tuple) or not all(_is_int(v) and v >= 0 for v in value):
                raise ValueError(f"a tensor's {name} must be a tuple of ints >= 0: {value!r:.80}")
        if not _is_int(offset) or offset < 0 or len(size) != len(stride):
            raise ValueError(f"a tensor's offset/size/stride do not agree: {offset!r:.40}")
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def numel(self) -> int:
        return int(np.prod(self.size, dtype=np.int64)) if self.size else 1

    def to_numpy(self) -> np.ndarray:
        store = self.storage
        n = self.numel()
        if n > store.numel:
            raise ValueError(
                f"a tensor of shape {self.size} has more elements than its storage "
                f"{store.key!r} ({store.numel})"
            )
        if n:
            last = self.offset + sum(
                (s - 1) * st for s, st in zip(self.size, self.stride, strict=True)
            )
            if last >= store.numel:
                raise ValueError(
                    f"a tensor of shape {self.size} reaches element {last} of storage "
                    f"{store.key!r}, which holds {store.numel}"
                )
        data = store.array
        item = data.itemsize
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :] if n else data[:0],
            shape=self.size,
            strides=tuple(st * item for st in self.stride),
            writeable=False,
        )
        array = np.array(view, dtype=data.dtype.newbyteorder("="), order="C")
        if store.type_name == "BFloat16Storage":
            array = (array.astype(np.uint32) << 16).view(np.float32)
        return array


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None, *rest):
    """Stand-in for ``torch._utils._rebuild_tensor_v2``: records the view, reads nothing."""
    return _TensorRef(storage, offset, size, stride)


def _rebuild_parameter(data, requires_grad=True, hooks=None, *rest):
    """Stand-in for ``torch._utils._rebuild_parameter``: a Parameter is its tensor."""
    if not isinstance(data, _TensorRef):
        raise ValueError(f"a parameter must wrap a tensor, got {type(data).__name__}")
    return data


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles only the allow-listed globals; storages come from ``storage_for``."""

    def __init__(self, file, storage_for):
        super().__init__(file)
        self._storage_for = storage_for

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise ValueError(
            f"the pickle names the global {module}.{name}, which a state dict never needs; "
            "refused (only tensors, storages and ordered dicts are read)"
        )

    def persistent_load(self, pid):
        if self._storage_for is None:
            raise ValueError("a storage reference appears where none is allowed")
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise ValueError(f"unknown persistent id in the pickle: {pid!r:.80}")
        stype, key, _location, numel = pid[1:5]
        if not isinstance(stype, _StorageType):
            raise ValueError(f"a storage's type is not a torch storage class: {stype!r:.80}")
        if not isinstance(key, str) or not _is_int(numel) or numel < 0:
            raise ValueError(f"a storage reference is malformed: {pid!r:.80}")
        if len(pid) == 6 and pid[5] is not None:
            raise ValueError("storage views (legacy view_metadata) are not supported")
        return self._storage_for(key, stype.name, numel)


def _unpickle(data: bytes, storage_for=None):
    try:
        return _RestrictedUnpickler(io.BytesIO(data), storage_for).load()
    except ValueError:
        raise
    except (pickle.UnpicklingError, EOFError, TypeError, AttributeError, IndexError,
            KeyError, struct.error, RecursionError, MemoryError) as err:  # fmt: skip
        raise ValueError(f"the pickle is corrupted or not a state dict ({err!r:.120})") from err


def _storage_table():
    """A ``storage_for(key, type_name, numel)`` callback and the dict it fills."""
    table: dict[str, _Storage] = {}

    def storage_for(key, type_name, numel):
        store = table.get(key)
        if store is None:
            store = table[key] = _Storage(key, type_name, numel)
        elif store.numel != numel or store.type_name != type_name:
            raise ValueError(f"storage {key!r} is declared twice with different types or sizes")
        return store

    return table, storage_for


# ---- the two containers -----------------------------------------------------------------
def _read_zip(path: Path, file_size: int):
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        pkls = [i for i in infos if i.filename.endswith("/data.pkl") and i.filename.count("/") == 1]
        if len(pkls) != 1:
            raise ValueError(
                "a PyTorch zip file holds exactly one <dir>/data.pkl; this one does not"
            )
        prefix = pkls[0].filename[: -len("data.pkl")]
        by_name = {i.filename: i for i in infos}
        for info in infos:
            if info.compress_type != zipfile.ZIP_STORED or info.file_size > file_size:
                raise ValueError(
                    f"member {info.filename!r} is compressed or larger than the file; "
                    "PyTorch stores its members uncompressed"
                )
        order = by_name.get(prefix + "byteorder")
        if order is not None and archive.read(order).strip() not in (b"little", b""):
            raise ValueError("big-endian PyTorch files are not supported")
        table, storage_for = _storage_table()
        obj = _unpickle(archive.read(pkls[0]), storage_for)
        for key, store in table.items():
            info = by_name.get(f"{prefix}data/{key}")
            if info is None:
                raise ValueError(f"the file has no data for storage {key!r}")
            need = store.numel * store.dtype.itemsize
            if info.file_size < need:
                raise ValueError(
                    f"storage {key!r} needs {need} bytes but the file holds {info.file_size}"
                )
            raw = archive.read(info)[:need]
            store.array = np.frombuffer(raw, dtype=store.dtype)
    return obj


def _read_legacy(data: bytes):
    stream = io.BytesIO(data)

    def next_pickle(storage_for=None):
        try:
            unpickler = _RestrictedUnpickler(stream, storage_for)
            return unpickler.load()
        except ValueError:
            raise
        except Exception as err:  # the stdlib unpickler raises many types on garbage
            raise ValueError(f"the pickle is corrupted or not a state dict ({err!r:.120})") from err

    if next_pickle() != LEGACY_MAGIC:
        raise ValueError("not a PyTorch file (neither a zip archive nor the legacy magic number)")
    if next_pickle() != LEGACY_PROTOCOL:
        raise ValueError("unsupported legacy PyTorch protocol version")
    info = next_pickle()
    if isinstance(info, dict) and not info.get("little_endian", True):
        raise ValueError("big-endian PyTorch files are not supported")
    table, storage_for = _storage_table()
    obj = next_pickle(storage_for)
    keys = next_pickle()
    if not isinstance(keys, list) or set(keys) != set(table) or len(keys) != len(table):
        raise ValueError("the list of storage keys does not match the storages the pickle uses")
    for key in keys:
        store = table[key]
        head = stream.read(8)
        if len(head) != 8:
            raise ValueError(f"the file ends before storage {key!r} (truncated)")
        (numel,) = struct.unpack("<q", head)
        if numel != store.numel:
            raise ValueError(f"storage {key!r} declares {numel} elements, the pickle {store.numel}")
        need = numel * store.dtype.itemsize
        raw = stream.read(need)
        if len(raw) != need:
            raise ValueError(f"the file ends inside storage {key!r} (truncated)")
        store.array = np.frombuffer(raw, dtype=store.dtype)
    return obj


def _materialise(obj, budget: list[int]):
    """Replace every tensor reference in dicts/lists/tuples by a NumPy array."""
    if isinstance(obj, _TensorRef):
        array = obj.to_numpy()
        budget[0] -= array.nbytes
        if budget[0] < 0:
            raise ValueError("the tensors would take far more memory than the file holds")
        return array
    if isinstance(obj, dict):
        return {key: _materialise(value, budget) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_materialise(value, budget) for value in obj)
    return obj


def load_torch_file(filepath):
    """Everything ``torch.load`` would return, with tensors as NumPy arrays.

    Args:
        filepath: a ``.pth``/``.pt``/``.bin`` written by ``torch.save`` (zip or legacy).

    Returns:
        The unpickled object (a ``dict`` for a state dict; ``OrderedDict`` becomes ``dict``)
        with every tensor replaced by a C-contiguous ``np.ndarray`` of its dtype
        (bfloat16 becomes float32).

    Raises:
        FileNotFoundError: no such file.
        ValueError: a global outside the allow-list, a truncated or corrupted file, or
            storages and views that do not fit the bytes the file holds.
    """
    path = Path(os.fspath(filepath))
    if not path.is_file():
        raise FileNotFoundError(f"load_torch_file: no such file: {str(path)!r}")
    file_size = path.stat().st_size
    try:
        if zipfile.is_zipfile(path):
            obj = _read_zip(path, file_size)
        else:
            obj = _read_legacy(path.read_bytes())
        return _materialise(obj, [MAX_EXPANSION * file_size + 1024])
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError,
            struct.error, UnicodeDecodeError, OverflowError) as err:  # fmt: skip
        raise ValueError(f"{path}: the file is corrupted ({err!r:.120})") from None


def load_torch_state_dict(filepath) -> dict[str, np.ndarray]:
    """A PyTorch state dict as ``{name: np.ndarray}``, in the file's order.

    Accepts a bare state dict or a checkpoint holding one under ``"state_dict"`` or
    ``"model_state_dict"``.

    Raises:
        ValueError: the file holds no mapping of names to tensors (see also
            :func:`load_torch_file`).
    """
    obj = load_torch_file(filepath)
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not all(
        isinstance(k, str) and isinstance(v, np.ndarray) for k, v in obj.items()
    ):
        raise ValueError(f"{filepath}: the file holds no state dict (names -> tensors)")
    return obj
