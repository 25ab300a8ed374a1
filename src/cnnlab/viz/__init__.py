"""Pictures of what a CNN computes: animations of convolution and pooling, image
filters, feature maps, learned filters, training curves and the X-versus-O example.

Everything is drawn with matplotlib's Agg renderer (no screen needed) and written
atomically. Submodules are imported on first use, so ``import cnnlab.viz`` is cheap.
"""

import importlib

_EXPORTS = {
    "animate_conv": "cnnlab.viz.animate",
    "animate_pool": "cnnlab.viz.animate",
    "conv_frames": "cnnlab.viz.animate",
    "pool_frames": "cnnlab.viz.animate",
    "filter_image": "cnnlab.viz.filtering",
    "plot_filtered": "cnnlab.viz.filtering",
    "feature_maps": "cnnlab.viz.inspect",
    "plot_feature_maps": "cnnlab.viz.inspect",
    "plot_filters": "cnnlab.viz.inspect",
    "load_history": "cnnlab.viz.history",
    "plot_history": "cnnlab.viz.history",
    "plot_xo": "cnnlab.viz.xo",
    "save_figure": "cnnlab.viz.style",
    "atomic_write": "cnnlab.viz.files",
}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'cnnlab.viz' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))


__all__ = sorted(_EXPORTS)
