"""Attention pooling: a learned query summarises a sequence into one vector.

The alternative to taking an RNN's last state or the mean of all states: `context = Σ_t α_t h_t`
with `α = softmax(score(u, h_t))` for a learned query vector `u`. With the default "concat" score
this is `α_t ∝ exp(vᵀ tanh(W h_t + b))`, the word/sentence attention of Yang et al. (2016).

References:
    Yang et al. (2016), "Hierarchical Attention Networks for Document Classification".
    Raffel & Ellis (2015), "Feed-Forward Networks with Attention Can Solve Some Long-Term Memory
    Problems".
"""

import keras
from keras import ops

from kzoo.layers import scores as scores_lib
from kzoo.layers.attention import Attention
from kzoo.layers.checks import check_rank

__all__ = ["AttentionPooling"]


@keras.saving.register_keras_serializable(package="kzoo")
class AttentionPooling(keras.layers.Layer):
    """Pools `(batch_size, T, D)` into `(batch_size, D)` with a learned query.

    Args:
        score: a score name or `Score` layer; default "concat" (Yang et al. 2016).
        query_dim: size of the learned query vector; default `D`.
        dropout: dropout on attention weights, in [0, 1).
        seed: dropout seed.

    Call arguments:
        inputs: `(batch_size, T, D)`.
        mask: boolean `(batch_size, T)`; masked steps get weight exactly 0.
        return_attention_scores: if True, also return the weights `(batch_size, T)`.

    Returns:
        `(batch_size, D)`, and the weights if asked. A fully masked sequence pools to zeros.

    Examples:
        >>> import numpy as np
        >>> AttentionPooling()(np.ones((2, 7, 3), "float32")).shape
        TensorShape([2, 3])
    """

    def __init__(self, score="concat", query_dim=None, dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if query_dim is not None and (isinstance(query_dim, bool) or not isinstance(query_dim, int) or query_dim <= 0):
            raise ValueError(f"`query_dim` must be a positive int or None. Received: query_dim={query_dim!r}")
        self.query_dim = query_dim
        self.dropout = dropout
        self.seed = seed
        self.attention = Attention(score=score, dropout=dropout, seed=seed, dtype=self.dtype_policy)
        self.supports_masking = True

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        check_rank("inputs", input_shape, ("batch_size", "T", "D"))
        dim = self.query_dim or input_shape[-1]
        self.query = self.add_weight(name="query", shape=(1, 1, dim), initializer="glorot_uniform")
        self.attention.build([(None, 1, dim), input_shape])
        self.built = True

    def call(self, inputs, mask=None, training=None, return_attention_scores=False):
        check_rank("inputs", inputs.shape, ("batch_size", "T", "D"))
        batch = ops.shape(inputs)[0]
        query = ops.broadcast_to(ops.cast(self.query, inputs.dtype), (batch, 1, self.query.shape[-1]))
        output, weights = self.attention(
            [query, inputs], mask=[None, mask], training=training, return_attention_scores=True
        )
        output, weights = output[:, 0, :], weights[:, 0, :]  # (B, D), (B, T)
        if return_attention_scores:
            return output, weights
        return output

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(
            score=scores_lib.serialize(self.attention.score),
            query_dim=self.query_dim,
            dropout=self.dropout,
            seed=self.seed,
        )
        return config
