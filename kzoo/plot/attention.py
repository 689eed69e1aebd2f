"""Attention maps: which key each query attended to, as a heat map."""

import numpy as np

__all__ = ["attention_map"]


def attention_map(weights, x_labels=None, y_labels=None, ax=None, title=None, cmap="viridis"):
    """Draws attention weights `(Tq, Tv)` as a heat map; returns the matplotlib Figure.

    Args:
        weights: array-like `(Tq, Tv)` (a leading batch axis of size 1 is dropped); rows are
            queries (e.g. output tokens), columns keys (e.g. input tokens).
        x_labels: `Tv` labels of the keys (columns), e.g. source tokens.
        y_labels: `Tq` labels of the queries (rows), e.g. output tokens.
        ax: a matplotlib Axes to draw on; default a new figure.
        title: optional title.
        cmap: colour map name.

    Examples:
        >>> fig = attention_map([[0.9, 0.1], [0.2, 0.8]], ["a", "b"], ["x", "y"])
        >>> fig.axes[0].get_xticklabels()[1].get_text()
        'b'
    """
    weights = np.asarray(weights, dtype=float)
    if weights.ndim == 3 and weights.shape[0] == 1:
        weights = weights[0]
    if weights.ndim != 2:
        raise ValueError(
            "`weights` must have shape (Tq, Tv) (or (1, Tq, Tv)). "
            f"Received: weights.shape={weights.shape}"
        )
    for name, labels, size in (("x_labels", x_labels, weights.shape[1]), ("y_labels", y_labels, weights.shape[0])):
        if labels is not None and len(labels) != size:
            raise ValueError(
                f"`{name}` must have one label per {'column' if name == 'x_labels' else 'row'} "
                f"of `weights` ({size}). Received: len({name})={len(labels)}"
            )
    import matplotlib.pyplot as plt  # the session's backend: inline in a notebook, Agg on a headless machine

    if ax is None:
        width = max(3.0, 0.45 * weights.shape[1] + 1.5)
        height = max(2.5, 0.4 * weights.shape[0] + 1.0)
        fig, ax = plt.subplots(figsize=(width, height))
    else:
        fig = ax.figure
    image = ax.imshow(weights, cmap=cmap, vmin=0.0, vmax=max(1e-9, float(weights.max())), aspect="auto")
    if x_labels is not None:
        ax.set_xticks(range(len(x_labels)))
        ax.set_xticklabels([str(t) for t in x_labels], rotation=90)
    if y_labels is not None:
        ax.set_yticks(range(len(y_labels)))
        ax.set_yticklabels([str(t) for t in y_labels])
    ax.set_xlabel("keys")
    ax.set_ylabel("queries")
    if title:
        ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig
