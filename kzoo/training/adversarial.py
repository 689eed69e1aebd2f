"""Adversarial training on word embeddings: each step also trains on the worst small change of
every example's word vectors.

Goodfellow, Shlens and Szegedy (2015) add to the loss the loss at the input moved by
`ε · sign(g)`, `g` the loss's gradient with respect to the input. Miyato, Dai and Goodfellow
(2017), "Adversarial Training Methods for Semi-Supervised Text Classification" (ICLR), carry this
to text: the input is the sequence of word embeddings, and the move is `r = ε · g / ‖g‖₂`, the
norm taken over a whole example (all its words), so that most of the change falls on the few
words the decision rests on. They normalise the embeddings first (zero mean, unit variance),
since a model could otherwise make any fixed `ε` negligible by growing its embeddings; here `ε`
is measured in units of the embedding matrix's standard deviation instead, which is the same
thing for this purpose.

`perturbation` computes `r`; a model's training step computes `g`, adds `r` and trains on the sum
of the clean and the adversarial loss (weight 1, as Miyato et al.).
"""

from keras import ops

__all__ = ["check_epsilon", "perturbation"]


def check_epsilon(epsilon, name="adversarial_epsilon"):
    """`epsilon` as a float >= 0; a `ValueError` naming `name` otherwise."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not 0 <= epsilon < float("inf"):
        raise ValueError(f"`{name}` must be a finite number >= 0 (0 turns it off). Received: {name}={epsilon!r}")
    return float(epsilon)


def perturbation(gradient, epsilon, scale=1.0, mask=None):
    """The adversarial move `ε · scale · g / ‖g‖₂` of each example, the norm over all its axes.

    Args:
        gradient: the loss's gradient with respect to the word vectors, `(batch_size, ..., E)`.
        epsilon: the move's L2 norm per example, in units of `scale`.
        scale: the unit of `epsilon` (a scalar; e.g. the embedding matrix's standard deviation).
        mask: optional boolean `(batch_size, ...)`, False at padding, which is never moved.

    Returns:
        A tensor shaped like `gradient`, without gradient of its own (a constant of the step).

    Examples:
        >>> import numpy as np
        >>> g = np.array([[[3.0, 0.0], [0.0, 4.0]], [[0.0, 0.0], [1.0, 0.0]]], "float32")  # (2, T=2, E=2)
        >>> ops.convert_to_numpy(perturbation(g, epsilon=2.0)).astype("float64").round(3).tolist()
        [[[1.2, 0.0], [0.0, 1.6]], [[0.0, 0.0], [2.0, 0.0]]]
    """
    gradient = ops.stop_gradient(gradient)
    if mask is not None:
        gradient = gradient * ops.cast(mask, gradient.dtype)[..., None]
    axes = tuple(range(1, len(gradient.shape)))
    norm = ops.sqrt(ops.sum(ops.square(gradient), axis=axes, keepdims=True))  # (B, 1, ..., 1)
    size = ops.cast(epsilon, gradient.dtype) * ops.stop_gradient(ops.cast(scale, gradient.dtype))
    return size * gradient / ops.maximum(norm, 1e-12)  # an all-zero gradient moves nothing
