"""Multi-head attention with a pluggable score function.

Each head projects query, key and value to `key_dim` / `value_dim`, attends with the chosen score,
and the heads are concatenated and projected back. Heads are folded into the batch axis so any
kzoo score function (rank-3 in, rank-3 out) serves every head; a score with weights (general,
concat, mlp, cosine) shares them across heads, after each head's own projections.

Reference:
    Vaswani et al. (2017), "Attention Is All You Need", section 3.2.2.
"""

import keras
from keras import ops

from kzoo.layers import scores as scores_lib
from kzoo.layers.attention import Attention
from kzoo.layers.checks import check_positive_int

__all__ = ["MultiHeadAttention"]


@keras.saving.register_keras_serializable(package="kzoo")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention; self-attention when `query` is `value`.

    Args:
        num_heads: number of heads, an int >= 1.
        key_dim: size of each head's query and key projection.
        value_dim: size of each head's value projection; default `key_dim`.
        score: a score name or `Score` layer; default "scaled_dot" (Vaswani et al.).
        dropout: dropout on attention weights, in [0, 1).
        use_bias: whether the projections have biases. Default True.
        output_dim: size of the output; default the query's last dimension.
        seed: dropout seed.

    Call arguments:
        inputs: `[query, value]` or `[query, value, key]` as in `kzoo.layers.Attention`.
        mask: `[query_mask, value_mask]`, booleans `(batch_size, Tq)` and `(batch_size, Tv)`.
        training: as in `kzoo.layers.Attention`.
        return_attention_scores: as in `kzoo.layers.Attention`.
        use_causal_mask: as in `kzoo.layers.Attention`.

    Returns:
        `output (batch_size, Tq, output_dim)`, and with `return_attention_scores=True` the
        weights `(batch_size, num_heads, Tq, Tv)`.

    Examples:
        >>> import numpy as np
        >>> x = np.random.rand(2, 5, 8).astype("float32")
        >>> MultiHeadAttention(num_heads=2, key_dim=4)([x, x]).shape
        TensorShape([2, 5, 8])
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        score="scaled_dot",
        dropout=0.0,
        use_bias=True,
        output_dim=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value, allow_none in (
            ("num_heads", num_heads, False),
            ("key_dim", key_dim, False),
            ("value_dim", value_dim, True),
            ("output_dim", output_dim, True),
        ):
            if value is None and allow_none:
                continue
            check_positive_int(name, value)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim or key_dim
        self.use_bias = bool(use_bias)
        self.output_dim = output_dim
        self.dropout = dropout
        self.seed = seed
        self.attention = Attention(score=score, dropout=dropout, seed=seed, dtype=self.dtype_policy)
        self.supports_masking = True

    def build(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        query_shape, value_shape = shapes[0], shapes[1]
        key_shape = shapes[2] if len(shapes) == 3 else value_shape
        self.attention._check_shapes(query_shape, value_shape, key_shape)
        h = self.num_heads

        def dense(name, units):
            return keras.layers.EinsumDense(
                "btd,dhk->bthk",
                output_shape=(None, h, units),
                bias_axes="hk" if self.use_bias else None,
                name=name,
                dtype=self.dtype_policy,
            )

        self.query_dense = dense("query", self.key_dim)
        self.key_dense = dense("key", self.key_dim)
        self.value_dense = dense("value", self.value_dim)
        self.query_dense.build(query_shape)
        self.key_dense.build(key_shape)
        self.value_dense.build(value_shape)
        self.output_dense = keras.layers.EinsumDense(
            "bthk,hkd->btd",
            output_shape=(None, self.output_dim or query_shape[-1]),
            bias_axes="d" if self.use_bias else None,
            name="output",
            dtype=self.dtype_policy,
        )
        self.output_dense.build((None, None, h, self.value_dim))
        folded = (None, None, self.key_dim)
        self.attention.build([folded, (None, None, self.value_dim), folded])
        self.built = True

    def _fold(self, x):
        """(B, T, H, d) -> (B·H, T, d)."""
        b, t = ops.shape(x)[0], ops.shape(x)[1]
        x = ops.transpose(x, (0, 2, 1, 3))  # (B, H, T, d)
        return ops.reshape(x, (b * self.num_heads, t, x.shape[-1]))

    def _repeat(self, mask):
        """(B, T) -> (B·H, T): each head sees its sample's mask."""
        return None if mask is None else ops.repeat(mask, self.num_heads, axis=0)

    def call(
        self,
        inputs,
        mask=None,
        training=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        query, value, key = self.attention._unpack(inputs)
        query_mask, value_mask = self.attention._unpack_mask(mask)
        b, tq = ops.shape(query)[0], ops.shape(query)[1]
        q = self._fold(self.query_dense(query))  # (B·H, Tq, dk)
        k = self._fold(self.key_dense(key))  # (B·H, Tv, dk)
        v = self._fold(self.value_dense(value))  # (B·H, Tv, dv)
        heads, weights = self.attention(
            [q, v, k],
            mask=[self._repeat(query_mask), self._repeat(value_mask)],
            training=training,
            return_attention_scores=True,
            use_causal_mask=use_causal_mask,
        )
        heads = ops.reshape(heads, (b, self.num_heads, tq, self.value_dim))  # (B, H, Tq, dv)
        output = self.output_dense(ops.transpose(heads, (0, 2, 1, 3)))  # (B, Tq, D)
        if query_mask is not None:
            output = output * ops.cast(query_mask, output.dtype)[:, :, None]
        if return_attention_scores:
            weights = ops.reshape(weights, (b, self.num_heads, tq, ops.shape(weights)[-1]))
            return output, weights  # weights (B, H, Tq, Tv)
        return output

    def compute_mask(self, inputs, mask=None):
        return self.attention.compute_mask(inputs, mask)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            key_dim=self.key_dim,
            value_dim=self.value_dim,
            score=scores_lib.serialize(self.attention.score),
            dropout=self.dropout,
            use_bias=self.use_bias,
            output_dim=self.output_dim,
            seed=self.seed,
        )
        return config
