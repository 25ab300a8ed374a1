"""What ``cnnlab train --data`` reads: MNIST, Fashion-MNIST, CIFAR-10 or a folder.

Each source gives training data, evaluation data and the class count for a model:
the grey 28x28 sets feed dense/convnet/convnet-nopool (pixels scaled to [0, 1]);
CIFAR-10 and folders of pictures feed convnet-color (raw 0-255 pixels, the model
rescales them). A folder is read lazily in batches (``image_dataset_from_directory``)
and split into training and validation subsets; the validation subset is then what
the model is evaluated on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

GREY_SETS = ("mnist", "fashion_mnist")
NAMED_SETS = (*GREY_SETS, "cifar10")


def describe(data: str) -> str:
    return {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}.get(
        data, f"the pictures in {data}"
    )


def load_training_data(model_name, data, limit, batch_size, validation_split, seed):
    """``(train, evaluation, num_classes, fit_kwargs)``: ``train`` and ``evaluation``
    are ``(x, y)`` arrays or data sets of batches; ``fit_kwargs`` what ``fit`` needs
    beside them (``batch_size``, ``validation_split``/``validation_data``)."""
    from cnnlab import zoo

    colour = model_name == "convnet-color"
    if data in GREY_SETS:
        if colour:
            raise ValueError(
                f"convnet-color takes colour pictures: use --data cifar10 or a folder, or "
                f"choose convnet for {data}"
            )
        import importlib

        module = importlib.import_module(f"cnnlab.datasets.{data}")
        (x_train, y_train), (x_test, y_test) = module.load_data()
        shape = zoo.input_shape_for(model_name)
        x_train, x_test = zoo.prepare_images(x_train, shape), zoo.prepare_images(x_test, shape)
    elif data == "cifar10":
        if not colour:
            raise ValueError("CIFAR-10 pictures are in colour: train convnet-color on them")
        from cnnlab.datasets import cifar10

        (x_train, y_train), (x_test, y_test) = cifar10.load_data()
        x_train, x_test = x_train.astype(np.float32), x_test.astype(np.float32)
        y_train, y_test = y_train.reshape(-1), y_test.reshape(-1)
    else:
        return _folder(model_name, data, limit, batch_size, validation_split, seed)
    if limit is not None:
        x_train, y_train, x_test, y_test = (
            x_train[:limit],
            y_train[:limit],
            x_test[:limit],
            y_test[:limit],
        )
    kwargs = {"batch_size": batch_size, "validation_split": validation_split}
    return (x_train, y_train), (x_test, y_test), int(max(y_train.max(), y_test.max())) + 1, kwargs


def _folder(model_name, data, limit, batch_size, validation_split, seed):
    from cnnlab import zoo
    from cnnlab.data import image_dataset_from_directory

    if model_name != "convnet-color":
        raise ValueError("a folder of pictures is read in colour: train convnet-color on it")
    if not Path(data).is_dir():
        raise ValueError(
            f"--data must be one of {', '.join(NAMED_SETS)} or a folder. Received: {data!r}"
        )
    split = validation_split or 0.2
    train, validation = image_dataset_from_directory(
        data, image_size=zoo.COLOR_SHAPE[:2], batch_size=batch_size, seed=seed,
        validation_split=split, subset="both", verbose=False,
    )  # fmt: skip
    if limit is not None:
        train = train.take(-(-limit // batch_size))
        validation = validation.take(-(-limit // batch_size))
    kwargs = {"validation_data": validation}
    return train.prefetch(2), validation, len(train.class_names), kwargs


__all__ = ["NAMED_SETS", "describe", "load_training_data"]
