"""Spatial attention over a CNN feature map: the CNN + attention block of image captioning.

A query (e.g. a decoder state) scores every cell of a feature map `(H, W, C)`; the context is the
weighted sum of the cells' features.

Reference:
    Xu et al. (2015), "Show, Attend and Tell: Neural Image Caption Generation with Visual
    Attention" (soft attention, eq. 4-6).
"""

import keras
from keras import ops

from kzoo.layers import scores as scores_lib
from kzoo.layers.attention import Attention
from kzoo.layers.checks import check_rank, check_same_batch

__all__ = ["SpatialAttention"]


@keras.saving.register_keras_serializable(package="kzoo")
class SpatialAttention(keras.layers.Layer):
    """Attends from a query vector over the cells of a feature map.

    Args:
        score: a score name or `Score` layer; default "concat" (Xu et al. 2015).
        dropout: dropout on attention weights, in [0, 1).
        seed: dropout seed.

    Call arguments:
        inputs: `[query (batch_size, D), feature_map (batch_size, H, W, C)]`.
        mask: optional boolean `(batch_size, H, W)` of valid cells (e.g. unpadded image area),
            given as `mask=[None, cell_mask]` or as the tensor itself.
        return_attention_scores: if True, also return the weights `(batch_size, H, W)`.

    Returns:
        The context `(batch_size, C)`, and the weights if asked.

    Examples:
        >>> import numpy as np
        >>> ctx, w = SpatialAttention()(
        ...     [np.ones((2, 16), "float32"), np.ones((2, 7, 7, 32), "float32")],
        ...     return_attention_scores=True)
        >>> tuple(ctx.shape), tuple(w.shape)
        ((2, 32), (2, 7, 7))
    """

    def __init__(self, score="concat", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.dropout = dropout
        self.seed = seed
        self.attention = Attention(score=score, dropout=dropout, seed=seed, dtype=self.dtype_policy)

    @staticmethod
    def _check(query_shape, map_shape):
        check_rank("query", query_shape, ("batch_size", "dim"))
        check_rank("feature_map", map_shape, ("batch_size", "height", "width", "channels"))
        check_same_batch(query=query_shape, feature_map=map_shape)

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(
                "`inputs` must be a list [query, feature_map]. "
                f"Received: input_shape={input_shape}"
            )
        query_shape, map_shape = tuple(input_shape[0]), tuple(input_shape[1])
        self._check(query_shape, map_shape)
        h, w = map_shape[1], map_shape[2]
        cells = None if None in (h, w) else h * w
        self.attention.build([(None, 1, query_shape[-1]), (None, cells, map_shape[-1])])
        self.built = True

    def call(self, inputs, mask=None, training=None, return_attention_scores=False):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                "`inputs` must be a list [query, feature_map]. "
                f"Received: inputs of type {type(inputs).__name__}"
            )
        query, feature_map = inputs
        self._check(tuple(query.shape), tuple(feature_map.shape))
        if isinstance(mask, (list, tuple)):
            mask = mask[1]
        batch, h, w = ops.shape(feature_map)[0], ops.shape(feature_map)[1], ops.shape(feature_map)[2]
        cells = ops.reshape(feature_map, (batch, h * w, feature_map.shape[-1]))  # (B, H·W, C)
        cell_mask = None if mask is None else ops.reshape(ops.cast(mask, "bool"), (batch, h * w))
        context, weights = self.attention(
            [query[:, None, :], cells],  # query (B, 1, D)
            mask=[None, cell_mask],
            training=training,
            return_attention_scores=True,
        )
        context = context[:, 0, :]  # (B, C)
        if return_attention_scores:
            return context, ops.reshape(weights[:, 0, :], (batch, h, w))  # (B, H, W)
        return context

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(
            score=scores_lib.serialize(self.attention.score), dropout=self.dropout, seed=self.seed
        )
        return config
