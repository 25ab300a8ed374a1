"""Watch it learn: one short training run at a time, in a background thread, whose
progress the page reads as Server-Sent Events.

A run trains a small convnet (:func:`small_convnet`) on the first ``samples`` images
of MNIST or Fashion-MNIST (read from ``CNNLAB_DATA`` or cnnlab's dataset cache). Every
``report_every`` batches it records the running loss and accuracy and the first
layer's filters; at each epoch's end the accuracy on 1,000 test images. ``stop()``
sets ``model.stop_training``, which ``fit`` honours after the current batch.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from cnnlab.callbacks import Callback
from cnnlab.web.errors import BadRequestError, choice, integer

DATASETS = ("mnist", "fashion_mnist")
TEST_SAMPLES = 1000


def small_convnet(seed: int = 0):
    """conv1 = Conv2D(8, 3) -> pool1 = MaxPool(2) -> conv2 = Conv2D(16, 3) -> pool2 ->
    Dense(10), compiled
    with Adam: 5,258 parameters, fast enough to learn visibly in seconds."""
    from cnnlab import keras
    from cnnlab.keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(8, 3, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(16, 3, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(10, activation="softmax", name="classes")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def load_dataset(name: str, samples: int):
    """The first ``samples`` training and TEST_SAMPLES test images, float32 (N, 28, 28, 1)."""
    from cnnlab.datasets import DownloadError, fashion_mnist, mnist

    module = mnist if name == "mnist" else fashion_mnist
    try:
        (x, y), (xt, yt) = module.load_data(progress=False)
    except (DownloadError, OSError, ValueError) as err:
        raise BadRequestError(f"{name} is not available: {err}", 503) from None

    def prep(images):
        return images.reshape((-1, 28, 28, 1)).astype(np.float32) / np.float32(255)

    return (prep(x[:samples]), y[:samples]), (prep(xt[:TEST_SAMPLES]), yt[:TEST_SAMPLES])


@dataclass
class Run:
    """One training run: its settings and the events it has produced so far."""

    number: int
    dataset: str
    epochs: int
    samples: int
    batch_size: int
    events: list = field(default_factory=list)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    state: str = "running"  # then "finished", "stopped" or "failed"

    def add(self, kind: str, **data) -> None:
        self.events.append({"type": kind, "run": self.number, **data})

    def summary(self) -> dict:
        return {
            "run": self.number,
            "state": self.state,
            "dataset": self.dataset,
            "epochs": self.epochs,
            "samples": self.samples,
            "batch_size": self.batch_size,
            "events": len(self.events),
        }


def _filters(model) -> list:
    conv = next(lay for lay in model.layers if type(lay).__name__ == "Conv2D")
    kernels = np.asarray(conv.get_weights()[0])[:, :, 0, :]
    return np.round(kernels.transpose(2, 0, 1), 4).tolist()


class _Reporter(Callback):
    def __init__(self, run: Run, steps: int, report_every: int):
        super().__init__()
        self.run, self.steps, self.every = run, steps, report_every
        self.last_step = 0

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        epoch = self.params.get("_epoch", 0)
        self.last_step = epoch * self.steps + batch + 1
        if (batch + 1) % self.every == 0 or batch + 1 == self.steps:
            self.run.add(
                "progress",
                epoch=epoch,
                step=self.last_step,
                loss=float(logs.get("loss", float("nan"))),
                accuracy=float(logs.get("accuracy", float("nan"))),
                filters=_filters(self.model),
            )
        if self.run.stop_requested.is_set():
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self.params["_epoch"] = epoch

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.run.add(
            "epoch",
            epoch=epoch,
            step=self.last_step,
            val_loss=float(logs.get("val_loss", float("nan"))),
            val_accuracy=float(logs.get("val_accuracy", float("nan"))),
        )


class Trainer:
    """Starts, stops and remembers training runs; only one runs at a time."""

    def __init__(self, report_every: int = 5):
        self.report_every = report_every
        self.run: Run | None = None
        self._count = 0
        self._lock = threading.Lock()

    def start(self, data: dict) -> Run:
        """Start a run from ``{"dataset", "epochs", "samples", "batch_size"}``.

        Raises:
            BadRequestError: 409 while another run is going, 400 for a bad setting.
        """
        dataset = choice(data, "dataset", DATASETS, "mnist")
        epochs = integer(data, "epochs", 1, 10, 2)
        samples = integer(data, "samples", 100, 60000, 6000)
        batch_size = integer(data, "batch_size", 8, 512, 64)
        with self._lock:
            if self.run is not None and not self.run.finished.is_set():
                raise BadRequestError(
                    f"run {self.run.number} is still training; stop it first", 409
                )
            self._count += 1
            run = Run(self._count, dataset, epochs, samples, batch_size)
            self.run = run
        threading.Thread(target=self._train, args=(run,), daemon=True).start()
        return run

    def stop(self) -> Run:
        """Ask the current run to stop after its current batch (409 if none is going)."""
        run = self.run
        if run is None or run.finished.is_set():
            raise BadRequestError("no training run is going", 409)
        run.stop_requested.set()
        return run

    def _train(self, run: Run) -> None:
        started = time.monotonic()
        try:
            (x, y), test = load_dataset(run.dataset, run.samples)
            model = small_convnet()
            steps = -(-len(x) // run.batch_size)
            run.add("start", steps_per_epoch=steps, filters=_filters(model), **run.summary())
            model.fit(
                x,
                y,
                epochs=run.epochs,
                batch_size=run.batch_size,
                validation_data=test,
                verbose=0,
                callbacks=[_Reporter(run, steps, self.report_every)],
            )
            run.state = "stopped" if run.stop_requested.is_set() else "finished"
        except BadRequestError as err:
            run.state = "failed"
            run.add("error", message=err.message)
        except Exception as err:  # a failed run is reported on the page, not raised
            run.state = "failed"
            run.add("error", message=f"training failed: {type(err).__name__}: {err}")
        finally:
            run.add("done", state=run.state, seconds=round(time.monotonic() - started, 2))
            run.finished.set()
