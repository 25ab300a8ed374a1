"""A web page for seeing a convnet at work: ``cnnlab serve [MODEL]``.

Five views, served by a small Starlette app (:func:`create_app`) as plain HTML,
JavaScript and ``<canvas>`` (no build step, nothing fetched from the internet):

- **Draw**: a digit drawn with the mouse, the model's top-3 guesses and every
  convolution and pooling layer's feature maps, updated while drawing;
- **Look closer**: one feature-map cell's receptive field on the input and, for the
  first layer, the window, kernel, products and sum (:func:`cnnlab.explain.explain_conv`);
- **Convolution explorer**: any small input and kernel with stride, padding, padding
  mode and dilation, computed by :func:`cnnlab.ops.correlate2d`;
- **Filters on photos**: the classic kernels (:mod:`cnnlab.kernels`) on each colour
  channel of a photo, beside the model's learned first-layer filters;
- **Watch it learn**: a short training run on MNIST or Fashion-MNIST with its curves
  and first-layer filters streamed live (Server-Sent Events).

Needs the ``web`` extra (``pip install "cnnlab[web]"``). See ``docs/web.md``.
"""

from cnnlab.web.app import create_app

__all__ = ["create_app"]
