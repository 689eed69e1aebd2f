"""Caption attention: where the Captioner looked for each word, laid over the image."""

import numpy as np

__all__ = ["caption_attention", "upsample_attention"]


def upsample_attention(weights, height, width):
    """An attention map `(h, w)` stretched to `(height, width)` by nearest-cell lookup, so each
    feature-map cell covers the image region it summarises (Xu et al. 2015 upsample and blur)."""
    weights = np.asarray(weights, dtype=float)
    rows = np.minimum((np.arange(height) * weights.shape[0]) // height, weights.shape[0] - 1)
    cols = np.minimum((np.arange(width) * weights.shape[1]) // width, weights.shape[1] - 1)
    return weights[rows][:, cols]


def caption_attention(image, tokens, weights, columns=5, alpha=0.6, cmap="magma"):
    """One panel per generated word: the image with that word's attention map over it.

    Args:
        image: the image `(H, W, 3)` (or `(H, W)`), uint8 or floats in [0, 1].
        tokens: the generated words (e.g. `record["tokens"]` of `Captioner.caption(...,
            return_attention=True)`).
        weights: `(len(tokens), h, w)` attention weights over the feature map.
        columns: panels per row.
        alpha: opacity of the attention overlay.
        cmap: colour map of the overlay.

    Returns:
        A matplotlib Figure.

    Examples:
        >>> fig = caption_attention(np.zeros((8, 8, 3), np.uint8), ["a", "cat"], np.ones((2, 2, 2)) / 4)
        >>> [ax.get_title() for ax in fig.axes[:3]]
        ['image', 'a', 'cat']
    """
    image = np.asarray(image)
    weights = np.asarray(weights, dtype=float)
    if image.ndim not in (2, 3):
        raise ValueError(f"`image` must be (height, width) or (height, width, channels). Received: image.shape={image.shape}")
    if weights.ndim != 3 or weights.shape[0] != len(tokens):
        raise ValueError(
            "`weights` must be (len(tokens), h, w), one map per token. "
            f"Received: weights.shape={weights.shape} for {len(tokens)} tokens"
        )
    import matplotlib.pyplot as plt  # the session's backend: inline in a notebook, Agg on a headless machine

    panels = len(tokens) + 1
    rows = -(-panels // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.3 * rows), squeeze=False)
    height, width = image.shape[:2]
    shown = image if image.dtype != np.uint8 else image / 255.0
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= panels:
            continue
        ax.imshow(shown, cmap="gray" if image.ndim == 2 else None)
        if index == 0:
            ax.set_title("image")
            continue
        overlay = upsample_attention(weights[index - 1], height, width)
        ax.imshow(overlay, cmap=cmap, alpha=alpha, vmin=0.0, vmax=max(1e-9, overlay.max()))
        ax.set_title(str(tokens[index - 1]))
    fig.tight_layout()
    return fig
