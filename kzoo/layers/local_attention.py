"""Local attention (Luong et al. 2015): attend to a window of keys around an aligned position.

For query `t`, an aligned source position `p_t` is chosen and only keys `s` with
`|s - p_t| <= window` take part:

- `mode="monotonic"` (local-m): `p_t = t · S / T`, with `S` and `T` the valid source and query
  lengths (so `p_t = t` when both are equal, Luong's choice), or explicit `positions`.
- `mode="predictive"` (local-p): `p_t = S · sigmoid(v_pᵀ tanh(W_p h_t))`, learned from the query,
  and the scores are shaped by a Gaussian `exp(-(s - p_t)² / (2σ²))`, `σ = window / 2`, through
  which the position predictor receives gradients.

Unlike the paper, the windowed weights are renormalised to sum to 1 (the Gaussian becomes a
log-prior added to the scores), so every kzoo attention layer returns a distribution over keys.
Weights outside the window are exactly 0.

Reference:
    Luong, Pham, Manning (2015), "Effective Approaches to Attention-based Neural Machine
    Translation", section 3.2.
"""

import keras
from keras import ops

from kzoo.layers.attention import Attention, masked_softmax

__all__ = ["LocalAttention"]

_MODES = ("monotonic", "predictive")


@keras.saving.register_keras_serializable(package="kzoo")
class LocalAttention(Attention):
    """Local attention in a window of `2 · window + 1` keys around an aligned position.

    Args:
        score: a score name or `Score` layer, as in `Attention`. Default "general" (Luong's).
        window: half-width `D` of the window, an int >= 0.
        mode: "monotonic" (local-m) or "predictive" (local-p).
        position_units: hidden size of the local-p position predictor; default the query depth.
        **kwargs: as in `Attention` (`dropout`, `seed`, ...).

    Call arguments:
        As `Attention`, plus `positions`: optional float `(batch_size, Tq)` aligned positions that
        replace local-m's `t · S / T` (for step-by-step decoding, pass the step index).

    Returns:
        `output (batch_size, Tq, Dv)`, and the weights `(batch_size, Tq, Tv)` when
        `return_attention_scores=True`.

    Examples:
        >>> import numpy as np
        >>> layer = LocalAttention(window=1, mode="monotonic", score="dot")
        >>> x = np.random.rand(1, 5, 4).astype("float32")
        >>> w = layer([x, x], return_attention_scores=True)[1].numpy()
        >>> float(w[0, 0, 2:].sum())
        0.0
    """

    def __init__(self, score="general", window=4, mode="monotonic", position_units=None, **kwargs):
        super().__init__(score=score, **kwargs)
        if isinstance(window, bool) or not isinstance(window, int) or window < 0:
            raise ValueError(f"`window` must be an int >= 0. Received: window={window!r}")
        if mode not in _MODES:
            raise ValueError(f"`mode` must be one of {_MODES}. Received: mode={mode!r}")
        if position_units is not None and (not isinstance(position_units, int) or position_units <= 0):
            raise ValueError(
                f"`position_units` must be a positive int or None. Received: position_units={position_units!r}"
            )
        self.window = window
        self.mode = mode
        self.position_units = position_units

    def build(self, input_shape):
        super().build(input_shape)
        if self.mode == "predictive":
            query_dim = input_shape[0][-1]
            units = self.position_units or query_dim
            self.position_kernel = self.add_weight(
                name="position_kernel", shape=(query_dim, units), initializer="glorot_uniform"
            )
            self.position_vector = self.add_weight(
                name="position_vector", shape=(units,), initializer="glorot_uniform"
            )

    def decoding_arguments(self, query, start):
        """Local-m in a decoder: output step `t` is aligned with source position `t`."""
        if self.mode != "monotonic":
            return {}
        steps = ops.cast(ops.arange(ops.shape(query)[1]), "float32") + ops.cast(start, "float32")
        return {"positions": ops.zeros_like(query[:, :, 0], dtype="float32") + steps[None, :]}

    def aligned_positions(self, query, source_length, query_mask=None):
        """Aligned source positions `p_t`, float32 `(batch_size, Tq)`.

        `source_length` is the float32 `(batch_size, 1)` count of valid keys.
        """
        if self.mode == "predictive":
            hidden = ops.tanh(ops.matmul(query, ops.cast(self.position_kernel, query.dtype)))
            logit = ops.sum(hidden * ops.cast(self.position_vector, query.dtype), axis=-1)
            return source_length * ops.sigmoid(ops.cast(logit, "float32"))  # (B, Tq)
        tq = ops.shape(query)[1]
        if query_mask is None:
            query_length = ops.cast(tq, "float32")
        else:
            query_length = ops.sum(ops.cast(query_mask, "float32"), axis=-1, keepdims=True)
        steps = ops.cast(ops.arange(tq), "float32")[None, :]  # (1, Tq)
        return steps * source_length / ops.maximum(query_length, 1.0)

    def _compute_weights(
        self, scores, mask, query=None, query_mask=None, value_mask=None, positions=None, **kwargs
    ):
        tv = ops.shape(scores)[-1]
        if value_mask is None:
            source_length = ops.cast(ops.ones_like(scores[:, :1, 0]), "float32") * ops.cast(tv, "float32")
        else:
            source_length = ops.sum(ops.cast(value_mask, "float32"), axis=-1, keepdims=True)
        if positions is None:
            aligned = self.aligned_positions(query, source_length, query_mask)
        else:
            if len(positions.shape) != 2:
                raise ValueError(
                    "`positions` must have shape (batch_size, Tq). "
                    f"Received: positions.shape={tuple(positions.shape)}"
                )
            aligned = ops.cast(positions, "float32")
        distance = ops.cast(ops.arange(tv), "float32")[None, None, :] - aligned[:, :, None]  # (B, Tq, Tv)
        in_window = ops.abs(distance) <= float(self.window)
        mask = in_window if mask is None else ops.logical_and(mask, in_window)
        scores = ops.cast(scores, "float32")
        if self.mode == "predictive":
            sigma = max(self.window / 2.0, 0.5)  # σ = D/2 (Luong); 0.5 keeps window=0 finite
            scores = scores - ops.square(distance) / (2.0 * sigma**2)
        return masked_softmax(scores, mask)

    def get_config(self):
        config = super().get_config()
        config.update(window=self.window, mode=self.mode, position_units=self.position_units)
        return config
