"""Attention score functions: how similar is each query to each key.

Every score layer maps `query (batch_size, Tq, Dq)` and `key (batch_size, Tv, Dk)` to raw scores
`(batch_size, Tq, Tv)`; the attention layers own masking, softmax and dropout. A score is one
hook, `_calculate_scores`, and scores are looked up by name with `get`.

References:
    Luong, Pham, Manning (2015), "Effective Approaches to Attention-based Neural Machine
    Translation" (dot, general, concat). Vaswani et al. (2017), "Attention Is All You Need"
    (scaled dot). Bahdanau, Cho, Bengio (2015), "Neural Machine Translation by Jointly Learning
    to Align and Translate" (additive / concat). Graves, Wayne, Danihelka (2014), "Neural Turing
    Machines" (cosine similarity, scaled by a key strength).
"""

import math

import keras
from keras import ops

from kzoo.layers.checks import check_rank, check_same_batch

__all__ = [
    "Score",
    "DotScore",
    "ScaledDotScore",
    "GeneralScore",
    "CosineScore",
    "ConcatScore",
    "MLPScore",
    "get",
    "serialize",
]

_PACKAGE = "kzoo"
_SEQUENCE = ("batch_size", "length", "dim")


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Score(keras.layers.Layer):
    """Base class of score functions: `(query, key) -> scores (batch_size, Tq, Tv)`.

    Subclasses override `_calculate_scores(query, key)` and, when they own weights,
    `build(query_shape, key_shape)`. The base validates ranks, batch sizes and depths.

    Call arguments:
        query: `(batch_size, Tq, Dq)`.
        key: `(batch_size, Tv, Dk)`.

    Returns:
        Scores of shape `(batch_size, Tq, Tv)`.
    """

    #: Whether the score needs `Dq == Dk` (dot products between query and key).
    requires_equal_depth = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Masks are applied by the attention layer; a score only passes masked inputs through.
        self.supports_masking = True

    def build(self, query_shape, key_shape):
        self.built = True

    def call(self, query, key):
        return self._calculate_scores(query, key)

    def __call__(self, query, key, **kwargs):
        self._check_shapes(tuple(query.shape), tuple(key.shape))
        return super().__call__(query, key, **kwargs)

    def _check_shapes(self, query_shape, key_shape):
        check_rank("query", query_shape, _SEQUENCE)
        check_rank("key", key_shape, _SEQUENCE)
        check_same_batch(query=query_shape, key=key_shape)
        if self.requires_equal_depth and query_shape[-1] != key_shape[-1]:
            raise ValueError(
                f"The {self.__class__.__name__} needs `query` and `key` of the same last "
                "dimension (use score='general', 'concat' or 'mlp' to compare vectors of "
                f"different sizes). Received: query.shape={query_shape}, key.shape={key_shape}"
            )

    def _calculate_scores(self, query, key):
        raise NotImplementedError(
            f"{self.__class__.__name__} must implement `_calculate_scores(query, key)`."
        )

    def compute_output_shape(self, query_shape, key_shape):
        return (query_shape[0], query_shape[1], key_shape[1])


@keras.saving.register_keras_serializable(package=_PACKAGE)
class DotScore(Score):
    """Dot-product score `qᵀk` (Luong et al. 2015).

    Examples:
        >>> import numpy as np
        >>> DotScore()(np.ones((1, 2, 3)), np.ones((1, 4, 3))).shape
        TensorShape([1, 2, 4])
    """

    requires_equal_depth = True

    def _calculate_scores(self, query, key):
        return ops.matmul(query, ops.swapaxes(key, -1, -2))  # (B, Tq, Tv)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ScaledDotScore(DotScore):
    """Scaled dot-product score `qᵀk / √d` (Vaswani et al. 2017), `d` the key depth."""

    def _calculate_scores(self, query, key):
        scale = 1.0 / math.sqrt(key.shape[-1])
        return super()._calculate_scores(query, key) * ops.cast(scale, query.dtype)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class GeneralScore(Score):
    """Bilinear ("general") score `qᵀ W k` with a learned `W` of shape `(Dq, Dk)` (Luong 2015)."""

    def build(self, query_shape, key_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=(query_shape[-1], key_shape[-1]),
            initializer="glorot_uniform",
        )
        self.built = True

    def _calculate_scores(self, query, key):
        projected = ops.matmul(query, self.kernel)  # (B, Tq, Dk)
        return ops.matmul(projected, ops.swapaxes(key, -1, -2))  # (B, Tq, Tv)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CosineScore(Score):
    """Cosine similarity `scale · qᵀk / (‖q‖‖k‖)`.

    Cosine lies in [-1, 1], so a softmax over it is nearly uniform; `scale` sharpens it, as the
    key strength β of Graves et al. (2014).

    Args:
        scale: initial (or fixed) multiplier of the cosine. A float > 0; default 5.0.
        trainable_scale: whether `scale` is learned. Default True.
        epsilon: added under the square root of the norms so zero vectors score 0.
    """

    requires_equal_depth = True

    def __init__(self, scale=5.0, trainable_scale=True, epsilon=1e-12, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(scale, (int, float)) or isinstance(scale, bool) or scale <= 0:
            raise ValueError(f"`scale` must be a number > 0. Received: scale={scale!r}")
        self.scale = float(scale)
        self.trainable_scale = bool(trainable_scale)
        self.epsilon = float(epsilon)

    def build(self, query_shape, key_shape):
        self.scale_weight = self.add_weight(
            name="scale",
            shape=(),
            initializer=keras.initializers.Constant(self.scale),
            trainable=self.trainable_scale,
        )
        self.built = True

    def _calculate_scores(self, query, key):
        eps = ops.cast(self.epsilon, query.dtype)
        q = query * ops.rsqrt(ops.sum(ops.square(query), axis=-1, keepdims=True) + eps)
        k = key * ops.rsqrt(ops.sum(ops.square(key), axis=-1, keepdims=True) + eps)
        return self.scale_weight * ops.matmul(q, ops.swapaxes(k, -1, -2))  # (B, Tq, Tv)

    def get_config(self):
        config = super().get_config()
        config.update(
            scale=self.scale, trainable_scale=self.trainable_scale, epsilon=self.epsilon
        )
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ConcatScore(Score):
    """Additive ("concat") score `vᵀ tanh(W₁q + W₂k)` (Bahdanau et al. 2015; Luong's concat).

    `W[q; k]` equals `W₁q + W₂k` with `W = [W₁ W₂]`; computing the two products separately costs
    `Tq + Tv` projections instead of `Tq · Tv`.

    Args:
        units: size of the hidden layer; default the key depth.
    """

    def __init__(self, units=None, **kwargs):
        super().__init__(**kwargs)
        if units is not None and (not isinstance(units, int) or units <= 0):
            raise ValueError(f"`units` must be a positive int or None. Received: units={units!r}")
        self.units = units

    def build(self, query_shape, key_shape):
        units = self.units or key_shape[-1]
        self.query_kernel = self.add_weight(
            name="query_kernel", shape=(query_shape[-1], units), initializer="glorot_uniform"
        )
        self.key_kernel = self.add_weight(
            name="key_kernel", shape=(key_shape[-1], units), initializer="glorot_uniform"
        )
        self.vector = self.add_weight(name="vector", shape=(units,), initializer="glorot_uniform")
        self.built = True

    def _calculate_scores(self, query, key):
        q = ops.matmul(query, self.query_kernel)[:, :, None, :]  # (B, Tq, 1, U)
        k = ops.matmul(key, self.key_kernel)[:, None, :, :]  # (B, 1, Tv, U)
        return ops.sum(self.vector * ops.tanh(q + k), axis=-1)  # (B, Tq, Tv)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units)
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MLPScore(Score):
    """Multi-layer perceptron score on the concatenation `[q; k]`.

    The first layer is computed as `W₁q + W₂k + b` (equal to `W[q; k] + b`), then each further
    hidden layer, then a linear output unit without bias (a bias shifts every score alike and
    cannot change the attention weights).

    Args:
        hidden_units: sizes of the hidden layers, a non-empty tuple of ints; default (64, 64).
        activation: activation of the hidden layers; default "tanh".
    """

    def __init__(self, hidden_units=(64, 64), activation="tanh", **kwargs):
        super().__init__(**kwargs)
        hidden_units = tuple(hidden_units) if isinstance(hidden_units, (list, tuple)) else None
        if not hidden_units or not all(isinstance(u, int) and u > 0 for u in hidden_units):
            raise ValueError(
                "`hidden_units` must be a non-empty list of positive ints. "
                f"Received: hidden_units={hidden_units!r}"
            )
        self.hidden_units = hidden_units
        self.activation = keras.activations.get(activation)

    def build(self, query_shape, key_shape):
        first = self.hidden_units[0]
        self.query_kernel = self.add_weight(
            name="query_kernel", shape=(query_shape[-1], first), initializer="glorot_uniform"
        )
        self.key_kernel = self.add_weight(
            name="key_kernel", shape=(key_shape[-1], first), initializer="glorot_uniform"
        )
        self.first_bias = self.add_weight(name="first_bias", shape=(first,), initializer="zeros")
        self.hidden = []
        for i, (fan_in, fan_out) in enumerate(zip(self.hidden_units, self.hidden_units[1:])):
            kernel = self.add_weight(
                name=f"kernel_{i + 1}", shape=(fan_in, fan_out), initializer="glorot_uniform"
            )
            bias = self.add_weight(name=f"bias_{i + 1}", shape=(fan_out,), initializer="zeros")
            self.hidden.append((kernel, bias))
        # No output bias: a constant added to every score leaves the softmax unchanged.
        self.output_kernel = self.add_weight(
            name="output_kernel", shape=(self.hidden_units[-1], 1), initializer="glorot_uniform"
        )
        self.built = True

    def _calculate_scores(self, query, key):
        q = ops.matmul(query, self.query_kernel)[:, :, None, :]  # (B, Tq, 1, H1)
        k = ops.matmul(key, self.key_kernel)[:, None, :, :]  # (B, 1, Tv, H1)
        h = self.activation(q + k + self.first_bias)  # (B, Tq, Tv, H1)
        for kernel, bias in self.hidden:
            h = self.activation(ops.matmul(h, kernel) + bias)
        return ops.squeeze(ops.matmul(h, self.output_kernel), axis=-1)  # (B, Tq, Tv)

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_units=list(self.hidden_units),
            activation=keras.activations.serialize(self.activation),
        )
        return config


_BY_NAME = {
    "dot": DotScore,
    "scaled_dot": ScaledDotScore,
    "general": GeneralScore,
    "cosine": CosineScore,
    "concat": ConcatScore,
    "additive": ConcatScore,
    "mlp": MLPScore,
}


def get(identifier, **kwargs):
    """Returns a `Score` layer from a name, a config dict or a `Score` instance.

    Args:
        identifier: one of "dot", "scaled_dot", "general", "cosine", "concat" (alias
            "additive"), "mlp"; a dict from `serialize`; or a `Score` layer (returned as is).
        **kwargs: passed to the score's constructor when `identifier` is a name.

    Examples:
        >>> get("cosine").__class__.__name__
        'CosineScore'
    """
    if isinstance(identifier, Score):
        return identifier
    if isinstance(identifier, dict):
        layer = keras.saving.deserialize_keras_object(identifier)
        if not isinstance(layer, Score):
            raise ValueError(f"`score` config must describe a Score layer. Received: {identifier!r}")
        return layer
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()](**kwargs)
    raise ValueError(
        f"`score` must be one of {sorted(_BY_NAME)} or a kzoo.layers.scores.Score layer. "
        f"Received: score={identifier!r}"
    )


def serialize(score):
    """The config dict of a `Score` layer, accepted by `get`."""
    return keras.saving.serialize_keras_object(score)
