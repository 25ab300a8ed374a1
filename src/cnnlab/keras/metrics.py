"""``keras.metrics``: forwards to :mod:`cnnlab.metrics` and the modules it registers."""

from cnnlab.metrics import *  # noqa: F403
from cnnlab.metrics import __all__ as _base
from cnnlab.metrics_auc import *  # noqa: F403
from cnnlab.metrics_auc import __all__ as _auc
from cnnlab.metrics_confusion import *  # noqa: F403
from cnnlab.metrics_confusion import __all__ as _confusion
from cnnlab.metrics_extra import *  # noqa: F403
from cnnlab.metrics_extra import __all__ as _extra
from cnnlab.metrics_iou import *  # noqa: F403
from cnnlab.metrics_iou import __all__ as _iou
from cnnlab.metrics_scores import *  # noqa: F403
from cnnlab.metrics_scores import __all__ as _scores

__all__ = [*_base, *_extra, *_confusion, *_auc, *_scores, *_iou]
