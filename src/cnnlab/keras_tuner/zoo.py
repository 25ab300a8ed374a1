"""Search spaces around the lecture's models (used by ``cnnlab tune``).

Each hypermodel's defaults are the lecture's model exactly, so
``build(kt.HyperParameters())`` is the default configuration a search is compared with:

- ``"convnet"`` / ``"convnet-nopool"``: ``filters`` of the first convolution (16-64,
  step 16, default 32; the second and third have 2x and 4x as many, as 32/64/128 in
  the lecture), ``dropout`` before the classifier (0-0.5, step 0.1, default 0: none),
  RMSprop ``learning_rate`` (1e-4 to 1e-2, log-uniform, default 1e-3);
- ``"dense"``: ``units`` of the hidden layer (128-1024, step 128, default 512),
  ``dropout`` and ``learning_rate`` as above.
"""

from __future__ import annotations

from cnnlab.keras_tuner.hypermodel import HyperModel

MODEL_NAMES = ("dense", "convnet", "convnet-nopool")


class LectureHyperModel(HyperModel):
    """The lecture's ``name`` model with tuned width, dropout and learning rate.

    Example:
        >>> import cnnlab.keras_tuner as kt
        >>> LectureHyperModel("convnet").build(kt.HyperParameters()).count_params()
        104202
    """

    def __init__(self, name: str):
        if name not in MODEL_NAMES:
            raise ValueError(
                f"LectureHyperModel: name must be one of {', '.join(MODEL_NAMES)}. "
                f"Received: name={name!r}"
            )
        super().__init__(name=name)

    def build(self, hp):
        from cnnlab import keras
        from cnnlab.keras import layers

        dropout = hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.0)
        learning_rate = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log", default=1e-3)
        if self.name == "dense":
            units = hp.Int("units", 128, 1024, step=128, default=512)
            inputs = keras.Input(shape=(784,))
            x = layers.Dense(units, activation="relu")(inputs)
        else:
            filters = hp.Int("filters", 16, 64, step=16, default=32)
            inputs = keras.Input(shape=(28, 28, 1))
            x = inputs
            for scale, pool in ((1, True), (2, True), (4, False)):
                x = layers.Conv2D(filters=filters * scale, kernel_size=3, activation="relu")(x)
                if pool and self.name == "convnet":
                    x = layers.MaxPooling2D(pool_size=2)(x)
            x = layers.Flatten()(x)
        if dropout > 0:
            x = layers.Dropout(dropout)(x)
        outputs = layers.Dense(10, activation="softmax")(x)
        model = keras.Model(inputs=inputs, outputs=outputs)
        model.compile(
            optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model


def load_split(model_name: str, dataset: str, train: int | None, validation: int):
    """Training, validation and test arrays for a search, prepared for ``model_name``.

    The validation images are the last ``validation`` of the 60,000 training images
    (never the test set); training uses the first ``train`` of the rest (all if None).
    """
    from cnnlab import datasets, zoo

    if dataset not in ("mnist", "fashion_mnist"):
        raise ValueError(
            f"dataset must be 'mnist' or 'fashion_mnist'. Received: dataset={dataset!r}"
        )
    (x_train, y_train), (x_test, y_test) = getattr(datasets, dataset).load_data()
    if not 1 <= validation < len(x_train):
        raise ValueError(
            f"validation must be in 1..{len(x_train) - 1}. Received: validation={validation}"
        )
    shape = zoo.input_shape_for(model_name)
    x_val, y_val = x_train[-validation:], y_train[-validation:]
    x_fit, y_fit = x_train[:-validation], y_train[:-validation]
    if train is not None:
        x_fit, y_fit = x_fit[:train], y_fit[:train]
    prepare = zoo.prepare_images
    return (
        (prepare(x_fit, shape), y_fit),
        (prepare(x_val, shape), y_val),
        (prepare(x_test, shape), y_test),
    )
