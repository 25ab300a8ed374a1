"""Callbacks with Keras 3's names and behaviour, called by ``fit``/``evaluate``/``predict``."""

from cnnlab.callbacks.callback import Callback, CallbackList
from cnnlab.callbacks.csv_logger import CSVLogger
from cnnlab.callbacks.early_stopping import EarlyStopping
from cnnlab.callbacks.history import History
from cnnlab.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from cnnlab.callbacks.model_checkpoint import ModelCheckpoint
from cnnlab.callbacks.progbar_logger import ProgbarLogger
from cnnlab.callbacks.tensorboard import TensorBoard
from cnnlab.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
]
