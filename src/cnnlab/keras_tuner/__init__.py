"""KerasTuner's API on Optuna's engine: ``import cnnlab.keras_tuner as kt``.

Example (the lecture's convnet, searching filters, dropout and learning rate)::

    import cnnlab.keras_tuner as kt
    from cnnlab import keras
    from cnnlab.keras import layers

    def build_model(hp):
        model = keras.Sequential([
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(hp.Int("filters", 16, 64, step=16), 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(hp.Float("dropout", 0.0, 0.5, step=0.1)),
            layers.Dense(10, activation="softmax"),
        ])
        lr = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
        model.compile(keras.optimizers.RMSprop(lr), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=10,
                            directory="runs", project_name="convnet")
    tuner.search(x_train, y_train, epochs=3, validation_data=(x_val, y_val))
    tuner.results_summary()
    best_model = tuner.get_best_models(1)[0]

Needs Optuna: ``pip install 'cnnlab[tune]'``. See docs/tuning.md.
"""

try:
    import optuna  # noqa: F401
except ImportError as err:  # pragma: no cover - the tune extra is installed in CI
    raise ImportError(
        "cnnlab.keras_tuner searches with Optuna, which is not installed. "
        "Install it with: pip install 'cnnlab[tune]'"
    ) from err

from cnnlab.keras_tuner.hypermodel import HyperModel
from cnnlab.keras_tuner.hyperparameters import HyperParameters
from cnnlab.keras_tuner.objective import Objective
from cnnlab.keras_tuner.tuner import Tuner
from cnnlab.keras_tuner.tuners import TPE, BayesianOptimization, GridSearch, Hyperband, RandomSearch

__all__ = [
    "TPE",
    "BayesianOptimization",
    "GridSearch",
    "HyperModel",
    "HyperParameters",
    "Hyperband",
    "Objective",
    "RandomSearch",
    "Tuner",
]
