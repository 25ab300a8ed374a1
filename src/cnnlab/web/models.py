"""The models a server shows: the ``.keras`` files of one folder, by file name only.

The browser names a model by its file name (``convnet.keras``); the name must be one
of the files listed in the served folder, so no path typed in a browser ever reaches
the file system. Models load with :func:`cnnlab.models.saving.load_model`, which never
runs code from a file. A loaded model is kept (and reloaded when its file changes)
together with a probe model that returns every feature map and the prediction in one
pass (the Keras recipe ``Model(model.inputs, [layer.output, ...])``).
"""

from __future__ import annotations

import math
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnlab.web.errors import BadRequestError

SPATIAL_LAYERS = ("Conv", "Pooling")  # class names of layers whose outputs are maps
MAX_MODEL_BYTES = 64 * 1024 * 1024  # an uploaded model file
MAX_UPLOADS = 4  # uploaded models kept in memory (the oldest is dropped)
UPLOAD_PREFIX = "upload: "


@dataclass
class LoadedModel:
    """A model ready for the page: ``predict_all(x)`` gives the maps and the output."""

    name: str
    model: object
    map_layers: list[str]
    probe: object
    mtime: float
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def input_shape(self) -> tuple:
        shape = self.model.input_shape
        return tuple(shape[0] if isinstance(shape, list) else shape)[1:]

    def takes_digits(self) -> bool:
        """True when a 28x28 grey drawing can be reshaped to the model's input."""
        shape = self.input_shape
        return None not in shape and math.prod(shape) == 28 * 28

    def predict_all(self, image28: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """One (28, 28) image -> ([(H, W, C) map per map layer], (classes,) output)."""
        x = image28.reshape((1, *self.input_shape)).astype(np.float32)
        with self.lock:  # a model's cached plans are not shared between threads
            outputs = self.probe(x)
        outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
        arrays = [np.asarray(o.numpy() if hasattr(o, "numpy") else o)[0] for o in outputs]
        return arrays[:-1], arrays[-1].ravel()


def _map_layers(model) -> list[str]:
    names = []
    for layer in model.layers:
        kind = type(layer).__name__
        shape = getattr(getattr(layer, "output", None), "shape", None)
        if kind.startswith("Global") or shape is None or len(shape) != 4:
            continue
        if any(word in kind for word in SPATIAL_LAYERS):
            names.append(layer.name)
    return names


def prepare(name: str, model, mtime: float = 0.0) -> LoadedModel:
    """Wrap a model for the page (its probe model is built once here)."""
    from cnnlab.models.model import Model

    maps = _map_layers(model)
    outputs = [model.get_layer(n).output for n in maps] + list(model.outputs)
    probe = Model(inputs=model.inputs, outputs=outputs)
    return LoadedModel(name=name, model=model, map_layers=maps, probe=probe, mtime=mtime)


class ModelFolder:
    """The ``.keras`` files directly inside ``folder`` (no subfolders, no links out).

    Args:
        folder: the served folder.
        default: the file name shown first (else the first name in order).
    """

    def __init__(self, folder: Path, default: str | None = None):
        self.folder = Path(folder).resolve()
        if not self.folder.is_dir():
            raise ValueError(f"serve: the models folder {str(folder)!r} is not a folder")
        self._default = default
        self._loaded: dict[str, LoadedModel] = {}
        self._uploads: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()

    def files(self) -> list[str]:
        """The model file names of the folder, sorted."""
        return sorted(
            p.name
            for p in self.folder.glob("*.keras")
            if p.is_file() and p.resolve().parent == self.folder
        )

    def names(self) -> list[str]:
        """The folder's model files, then the uploaded models (``"upload: name.keras"``)."""
        return self.files() + list(self._uploads)

    def add_upload(self, filename: str, data: bytes) -> LoadedModel:
        """Load an uploaded ``.keras`` file and keep it in memory (never in the folder).

        Raises:
            BadRequestError: 400 not a .keras name, 413 too large, 422 not a model.
        """
        from cnnlab.models.saving import load_model

        base = re.sub(r"[^A-Za-z0-9._-]", "_", str(filename).replace("\\", "/").split("/")[-1])
        if not base.endswith(".keras") or len(base) > 80:
            raise BadRequestError(
                f"model must be a .keras file (at most 80 characters). Received: {filename!r}"
            )
        if len(data) > MAX_MODEL_BYTES:
            raise BadRequestError(
                f"the model file is {len(data):,} bytes; the limit is {MAX_MODEL_BYTES:,}", 413
            )
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / base
            path.write_bytes(data)
            try:
                model = load_model(path, compile=False)
            except (ValueError, OSError) as err:
                raise BadRequestError(f"{base} cannot be loaded: {err}", 422) from None
        name = UPLOAD_PREFIX + base
        loaded = prepare(name, model)
        with self._lock:
            self._uploads.pop(name, None)
            self._uploads[name] = loaded
            while len(self._uploads) > MAX_UPLOADS:
                self._uploads.pop(next(iter(self._uploads)))
        return loaded

    def default(self) -> str | None:
        names = self.files()
        if self._default in names:
            return self._default
        return names[0] if names else None

    def get(self, name: str | None) -> LoadedModel:
        """The loaded model of file ``name`` (the default when None).

        Raises:
            BadRequestError: 404 for a name that is not a file of the folder, 422 for a file
                that is not a model cnnlab can load.
        """
        from cnnlab.models.saving import load_model

        name = self.default() if name is None else name
        if isinstance(name, str) and name in self._uploads:
            return self._uploads[name]
        if not isinstance(name, str) or name not in self.files():
            listed = ", ".join(self.names()) or "(none)"
            raise BadRequestError(
                f"model must be one of the served models: {listed}. Received: {name!r}", 404
            )
        path = self.folder / name
        mtime = path.stat().st_mtime
        with self._lock:
            loaded = self._loaded.get(name)
            if loaded is None or loaded.mtime != mtime:
                try:
                    model = load_model(path, compile=False)
                except (ValueError, OSError) as err:
                    raise BadRequestError(f"model {name!r} cannot be loaded: {err}", 422) from None
                loaded = prepare(name, model, mtime)
                self._loaded[name] = loaded
        return loaded

    def get_digits(self, name: str | None) -> LoadedModel:
        """As :meth:`get`, for a model that reads 28x28 grey digits (else 422)."""
        loaded = self.get(name)
        if not loaded.takes_digits():
            raise BadRequestError(
                f"model {loaded.name!r} takes inputs of shape {loaded.input_shape}; the drawing "
                "pad makes 28x28 grey digits",
                422,
            )
        return loaded
