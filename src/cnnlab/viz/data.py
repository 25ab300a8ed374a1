"""Pictures of data: augmented versions of one image, labelled samples of a data set."""

from __future__ import annotations

import math

import numpy as np

from cnnlab.viz.style import new_figure, styled


def augmented_versions(image: np.ndarray, augment_layers, count: int = 9, seed: int = 0):
    """``count`` outputs of ``augment_layers`` (applied in order, ``training=True``) on
    one ``(H, W, C)`` image with values in [0, 255]: ``(count, H', W', C)``."""
    from cnnlab.utils.random import set_random_seed

    set_random_seed(seed)
    batch = np.repeat(image[None].astype(np.float32), count, axis=0)
    for layer in augment_layers:
        batch = layer(batch, training=True).numpy()
    return batch


@styled
def plot_image_grid(images, titles=None, columns: int | None = None, title: str | None = None):
    """A grid of pictures ``(N, H, W, C)`` (values in [0, 255]) with optional titles."""
    count = len(images)
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    aspect = images.shape[1] / images.shape[2]
    fig = new_figure(1.9 * columns, (1.9 * aspect + (0.3 if titles else 0)) * rows
                     + (0.4 if title else 0))  # fmt: skip
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= count:
            continue
        picture = np.clip(images[i], 0, 255).astype(np.uint8)
        if picture.shape[-1] == 1:
            ax.imshow(picture[..., 0], cmap="gray", vmin=0, vmax=255)
        else:
            ax.imshow(picture[..., :3])
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


__all__ = ["augmented_versions", "plot_image_grid"]
