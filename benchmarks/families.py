"""The model families a course meets after the lecture's convnet, built the same way in
cnnlab, PyTorch and (when importable) Keras, and timed on synthetic data of the right shape.

    python benchmarks/families.py FRAMEWORK FAMILY [--steps 20] [--images 10000]

FRAMEWORK is cnnlab, torch or keras; FAMILY one of FAMILIES. Prints one ``RESULT`` JSON line
(training seconds per step: cnnlab and Keras run ``fit`` for one epoch of ``--steps``
batches after a warm-up epoch, as a user trains, PyTorch the same batches in its usual loop;
the median of ``train_on_batch`` steps too; inference images/s over ``--images`` images;
peak RSS of this process). ``run.py --models`` runs every pair, each in
its own child process, and prints the table.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from _common import blas_description, emit, peak_rss_gb, timed_inference

# family: (input shape HWC, batch size, optimizer, description)
FAMILIES = {
    "convnet": ((28, 28, 1), 128, "rmsprop", "the lecture's MNIST convnet"),
    "convnet_dropout": ((28, 28, 1), 128, "adam", "Keras' MNIST convnet with Dropout(0.5)"),
    "cifar_convnet": ((32, 32, 3), 64, "rmsprop", "Keras' classic CIFAR-10 convnet"),
    "vgg": ((32, 32, 3), 64, "adam", "VGG-style: (conv-BN-ReLU)x2 + pool, three blocks, GAP"),
    "resnet": ((32, 32, 3), 64, "sgd", "small ResNet: stem + three residual blocks, GAP"),
}


# ---- cnnlab (and Keras: the same code with another import) -------------------------------
def build_keras_style(keras, family: str):
    """The family as Keras code; ``keras`` is ``cnnlab.keras`` or Keras itself."""
    layers = keras.layers
    shape, _, optimizer, _ = FAMILIES[family]
    inputs = keras.Input(shape=shape)
    if family == "convnet":
        x = layers.Conv2D(32, 3, activation="relu")(inputs)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(64, 3, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(128, 3, activation="relu")(x)
        x = layers.Flatten()(x)
    elif family == "convnet_dropout":
        x = layers.Conv2D(32, 3, activation="relu")(inputs)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(64, 3, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Flatten()(x)
        x = layers.Dropout(0.5)(x)
    elif family == "cifar_convnet":
        x = inputs
        for filters in (32, 64):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
            x = layers.Conv2D(filters, 3, activation="relu")(x)
            x = layers.MaxPooling2D(2)(x)
            x = layers.Dropout(0.25)(x)
        x = layers.Flatten()(x)
        x = layers.Dense(512, activation="relu")(x)
        x = layers.Dropout(0.5)(x)
    elif family == "vgg":
        x = inputs
        for filters in (32, 64, 128):
            for _ in range(2):
                x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
                x = layers.BatchNormalization()(x)
                x = layers.ReLU()(x)
            x = layers.MaxPooling2D(2)(x)
        x = layers.GlobalAveragePooling2D()(x)
    else:  # resnet
        x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
        x = layers.ReLU()(layers.BatchNormalization()(x))
        for filters, stride in ((16, 1), (32, 2), (64, 2)):
            y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
            y = layers.ReLU()(layers.BatchNormalization()(y))
            y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
            y = layers.BatchNormalization()(y)
            if stride != 1:
                x = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
                x = layers.BatchNormalization()(x)
            x = layers.ReLU()(layers.Add()([x, y]))
        x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    opt = {
        "rmsprop": lambda: keras.optimizers.RMSprop(),
        "adam": lambda: keras.optimizers.Adam(),
        "sgd": lambda: keras.optimizers.SGD(0.01, momentum=0.9),
    }[optimizer]()
    model.compile(opt, "sparse_categorical_crossentropy")
    return model


def keras_step(model, x, y):
    return lambda: model.train_on_batch(x, y)


# ---- PyTorch ------------------------------------------------------------------------------
def build_torch(family: str):
    import torch
    from torch import nn

    def block(cin, cout, stride=1):
        return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    if family == "convnet":
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3), nn.ReLU(), nn.Flatten(), nn.Linear(1152, 10),
        )  # fmt: skip
    elif family == "convnet_dropout":
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10),
        )  # fmt: skip
    elif family == "cifar_convnet":
        model = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25),
            nn.Flatten(), nn.Linear(2304, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, 10),
        )  # fmt: skip
    elif family == "vgg":
        model = nn.Sequential(
            *block(3, 32), *block(32, 32), nn.MaxPool2d(2),
            *block(32, 64), *block(64, 64), nn.MaxPool2d(2),
            *block(64, 128), *block(128, 128), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10),
        )  # fmt: skip
    else:

        class Residual(nn.Module):
            def __init__(self, cin, cout, stride):
                super().__init__()
                self.body = nn.Sequential(
                    *block(cin, cout, stride),
                    nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
                    nn.BatchNorm2d(cout),
                )
                self.shortcut = (
                    nn.Identity()
                    if stride == 1
                    else nn.Sequential(
                        nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
                    )
                )

            def forward(self, x):
                return torch.relu(self.shortcut(x) + self.body(x))

        model = nn.Sequential(
            *block(3, 16), Residual(16, 16, 1), Residual(16, 32, 2), Residual(32, 64, 2),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10),
        )  # fmt: skip
    optimizer = FAMILIES[family][2]
    opt = {
        "rmsprop": lambda p: torch.optim.RMSprop(p, lr=1e-3, alpha=0.9, eps=1e-7),
        "adam": lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-7),
        "sgd": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
    }[optimizer](model.parameters())
    return model, opt


def torch_layout(x):
    import torch

    return torch.from_numpy(x.transpose(0, 3, 1, 2)).contiguous(memory_format=torch.channels_last)


# ---- one measurement ----------------------------------------------------------------------
def measure(framework: str, family: str, steps: int, images: int) -> dict:
    shape, batch, _, _ = FAMILIES[family]
    rng = np.random.default_rng(0)
    x = rng.random((batch, *shape), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    x_test = rng.random((images, *shape), dtype=np.float32)
    if framework == "torch":
        import torch

        torch.manual_seed(0)
        torch.set_num_threads(2)
        model, opt = build_torch(family)
        model = model.to(memory_format=torch.channels_last)
        loss_fn = torch.nn.CrossEntropyLoss()
        xt, yt = torch_layout(x), torch.from_numpy(y)

        def step():
            model.train()
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xt), yt).backward()
            opt.step()

        def epoch(xs, ys):
            model.train()
            xs, ys = torch_layout(xs), torch.from_numpy(ys)
            for i in range(0, len(xs), batch):
                opt.zero_grad(set_to_none=True)
                loss_fn(model(xs[i : i + batch]), ys[i : i + batch]).backward()
                opt.step()

        def predict(a):
            model.eval()
            with torch.no_grad():
                t = torch_layout(a)
                return torch.cat([model(t[i : i + 128]) for i in range(0, len(t), 128)])

        version = f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads"
    else:
        if framework == "keras":
            import keras

            keras.utils.set_random_seed(0)
            version = f"Keras {keras.__version__} ({keras.backend.backend()})"
        else:
            import cnnlab
            from cnnlab import keras

            keras.utils.set_random_seed(0)
            version = f"cnnlab {cnnlab.__version__}; {blas_description()}"
        model = build_keras_style(keras, family)
        step = keras_step(model, x, y)

        def epoch(xs, ys):
            model.fit(xs, ys, batch_size=batch, epochs=1, shuffle=False, verbose=0)

        def predict(a):
            return model.predict(a, batch_size=128, verbose=0)

    for _ in range(3):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    many_x = rng.random((steps * batch, *shape), dtype=np.float32)
    many_y = rng.integers(0, 10, steps * batch)
    epoch(many_x[: 3 * batch], many_y[: 3 * batch])  # warm-up
    start = time.perf_counter()
    epoch(many_x, many_y)
    fit_step = (time.perf_counter() - start) / steps
    _, images_per_s = timed_inference(predict, x_test)
    return {
        "framework": version,
        "family": family,
        "step_seconds": fit_step,
        "train_on_batch_seconds": statistics.median(times),
        "inference_images_per_s": images_per_s,
        "peak_rss_gb": peak_rss_gb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=["cnnlab", "torch", "keras"])
    parser.add_argument("family", choices=list(FAMILIES))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--images", type=int, default=10000)
    args = parser.parse_args()
    emit(measure(args.framework, args.family, args.steps, args.images))


if __name__ == "__main__":
    main()
