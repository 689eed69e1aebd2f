"""Soft (global) attention over any score function, and the base of kzoo's attention layers.

References:
    Bahdanau, Cho, Bengio (2015), "Neural Machine Translation by Jointly Learning to Align and
    Translate". Luong, Pham, Manning (2015), "Effective Approaches to Attention-based Neural
    Machine Translation" (global attention).
"""

import keras
from keras import ops

from kzoo.layers import scores as scores_lib
from kzoo.layers.checks import check_rank, check_same_batch

__all__ = ["Attention", "masked_softmax"]


def masked_softmax(scores, mask=None, axis=-1):
    """Softmax that is exactly 0 on masked positions and all-zero (finite) on fully masked rows.

    Computed in float32 (scores of 1e4 in float16 do not overflow), returned in float32.

    Args:
        scores: float tensor.
        mask: boolean tensor broadcastable to `scores`; True keeps a position. None keeps all.
        axis: the axis normalised to sum to 1.
    """
    scores = ops.cast(scores, "float32")
    if mask is None:
        return ops.softmax(scores, axis=axis)
    mask = ops.cast(mask, "bool")
    # exp(-3e38 - max) underflows to exactly 0, so masked keys get weight 0 in any row with a
    # valid key; multiplying by the mask zeroes the (uniform) rows that have none.
    weights = ops.softmax(ops.where(mask, scores, -3.0e38), axis=axis)
    return weights * ops.cast(mask, "float32")


def _shape(x):
    return tuple(x.shape)


@keras.saving.register_keras_serializable(package="kzoo")
class Attention(keras.layers.Layer):
    """Soft (global) attention: every query attends to every unmasked key.

    `weights = softmax(score(query, key))` over the keys, `output = weights @ value`. Hooks for
    subclasses: `_calculate_scores` (the score function, by default `self.score`) and
    `_compute_weights` (by default a masked softmax); masking, dropout and the weighted sum stay
    here.

    Scores and softmax run in float32 under a float16/bfloat16 policy, so large scores cannot
    overflow; the weighted sum runs in the layer's compute dtype.

    Args:
        score: a score name ("dot", "scaled_dot", "general", "cosine", "concat", "mlp") or a
            `kzoo.layers.scores.Score` layer. Default "dot".
        dropout: fraction of attention weights dropped in training, in [0, 1). Default 0.
        seed: seed of the dropout.

    Call arguments:
        inputs: `[query, value]` or `[query, value, key]`, with `query (batch_size, Tq, Dq)`,
            `value (batch_size, Tv, Dv)`, `key (batch_size, Tv, Dk)`; `key` defaults to `value`.
        mask: `[query_mask, value_mask]` booleans `(batch_size, Tq)` and `(batch_size, Tv)`;
            either may be None. Masked keys get weight exactly 0; masked queries get all-zero weights and output.
        training: whether dropout applies.
        return_attention_scores: if True, also return the weights `(batch_size, Tq, Tv)`.
        use_causal_mask: if True, query `i` attends only to keys `j <= i`.

    Returns:
        `output (batch_size, Tq, Dv)`, and the weights if asked.

    Examples:
        >>> import numpy as np
        >>> layer = Attention(score="general")
        >>> out, w = layer([np.ones((2, 3, 4)), np.ones((2, 5, 6))], return_attention_scores=True)
        >>> tuple(out.shape), tuple(w.shape)
        ((2, 3, 6), (2, 3, 5))
    """

    def __init__(self, score="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` must be a float in [0, 1). Received: dropout={dropout!r}")
        self.score = self._make_score(score)
        self.dropout = float(dropout)
        self.seed = seed
        self.supports_masking = True
        if self.dropout > 0:
            self.seed_generator = keras.random.SeedGenerator(seed)

    def _make_score(self, score):
        if isinstance(score, scores_lib.Score):
            return score
        layer = scores_lib.get(score)
        if self.dtype_policy.compute_dtype in ("float16", "bfloat16"):
            # Scores in float32: a float16 dot product of moderate vectors overflows 65504.
            layer = layer.__class__.from_config({**layer.get_config(), "dtype": "float32"})
        return layer

    # === Input checks ===
    def _unpack(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            raise ValueError(
                "`inputs` must be a list [query, value] or [query, value, key]. "
                f"Received: inputs of type {type(inputs).__name__}"
                + (f" and length {len(inputs)}" if isinstance(inputs, (list, tuple)) else "")
            )
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        return query, value, key

    def _check_shapes(self, query_shape, value_shape, key_shape):
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            check_rank(name, shape, ("batch_size", "length", "dim"))
        check_same_batch(query=query_shape, value=value_shape, key=key_shape)
        if None not in (value_shape[1], key_shape[1]) and value_shape[1] != key_shape[1]:
            raise ValueError(
                "`value` and `key` must have the same length (axis 1). "
                f"Received: value.shape={value_shape}, key.shape={key_shape}"
            )

    def _unpack_mask(self, mask):
        if mask is None:
            return None, None
        if not isinstance(mask, (list, tuple)) or len(mask) not in (2, 3):
            raise ValueError(
                "`mask` must be a list [query_mask, value_mask] (either may be None). "
                f"Received: mask of type {type(mask).__name__}"
            )
        return mask[0], mask[1]

    # === Layer ===
    def build(self, input_shape):
        if not all(isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError(
                "`inputs` must be a list [query, value] or [query, value, key]. "
                f"Received: inputs of type tensor with shape {tuple(input_shape)}"
            )
        shapes = [tuple(s) for s in self._unpack(list(input_shape))]
        query_shape, value_shape, key_shape = shapes
        self._check_shapes(query_shape, value_shape, key_shape)
        if not self.score.built:
            self.score._check_shapes(query_shape, key_shape)
            self.score.build(query_shape, key_shape)
        self.built = True

    def call(
        self,
        inputs,
        mask=None,
        training=None,
        return_attention_scores=False,
        use_causal_mask=False,
        **kwargs,
    ):
        query, value, key = self._unpack(inputs)
        self._check_shapes(_shape(query), _shape(value), _shape(key))
        query_mask, value_mask = self._unpack_mask(mask)
        scores = self._calculate_scores(query, key)  # (B, Tq, Tv)
        key_mask = self._key_mask(scores, value_mask, use_causal_mask)
        weights = self._compute_weights(
            scores,
            key_mask,
            query=query,
            query_mask=query_mask,
            value_mask=value_mask,
            training=training,
            **kwargs,
        )
        if query_mask is not None:  # a padded query attends to nothing: weights and output 0
            weights = weights * ops.cast(query_mask, weights.dtype)[:, :, None]
        weights = ops.cast(weights, value.dtype)
        output = self._weighted_sum(weights, value, training)
        if return_attention_scores:
            return output, weights
        return output

    def _weighted_sum(self, weights, value, training):
        if self.dropout > 0 and training:
            weights = keras.random.dropout(weights, self.dropout, seed=self.seed_generator)
        return ops.matmul(weights, value)  # (B, Tq, Dv)

    # === Hooks ===
    def decoding_arguments(self, query, start):
        """Extra call arguments when a decoder calls this layer with queries `(batch_size, Tq, D)`
        for output steps `start, start + 1, ...` (e.g. aligned positions); none by default."""
        return {}

    def _calculate_scores(self, query, key):
        """Raw scores `(batch_size, Tq, Tv)`; by default the score layer's."""
        return self.score(query, key)

    def _compute_weights(self, scores, mask, **kwargs):
        """Attention weights `(batch_size, Tq, Tv)` from scores and a boolean key mask or None.

        `kwargs` holds `query`, `query_mask`, `value_mask`, `training` and any extra call
        arguments of a subclass.
        """
        return masked_softmax(scores, mask)

    # === Masks ===
    def _key_mask(self, scores, value_mask, use_causal_mask):
        """Boolean `(batch_size or 1, Tq, Tv)` mask of the keys each query may see, or None."""
        mask = None
        if value_mask is not None:
            mask = ops.cast(value_mask, "bool")[:, None, :]  # (B, 1, Tv)
        if use_causal_mask:
            tq, tv = ops.shape(scores)[1], ops.shape(scores)[2]
            rows = ops.arange(tq)[:, None]
            cols = ops.arange(tv)[None, :]
            causal = (cols <= rows)[None]  # (1, Tq, Tv)
            mask = causal if mask is None else ops.logical_and(mask, causal)
        return mask

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        return self._unpack_mask(mask)[0]

    def get_config(self):
        config = super().get_config()
        config.update(
            score=scores_lib.serialize(self.score), dropout=self.dropout, seed=self.seed
        )
        return config
