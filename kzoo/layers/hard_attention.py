"""Hard attention: each query attends to exactly one key.

Training uses the straight-through Gumbel-softmax estimator: the forward pass is a one-hot sample
from `softmax(scores)`, the backward pass is the gradient of the relaxed sample
`softmax((log_softmax(scores) + g) / temperature)`, `g ~ Gumbel(0, 1)`. At inference the weights are
the exact one-hot argmax of the scores.

References:
    Xu et al. (2015), "Show, Attend and Tell" (hard attention). Jang, Gu, Poole (2017),
    "Categorical Reparameterization with Gumbel-Softmax". Maddison, Mnih, Teh (2017), "The Concrete
    Distribution".
"""

import keras
from keras import ops

from kzoo.layers.attention import Attention, masked_softmax

__all__ = ["HardAttention"]


@keras.saving.register_keras_serializable(package="kzoo")
class HardAttention(Attention):
    """Hard attention: the output is the value of one chosen key.

    Args:
        score: a score name or `Score` layer, as in `Attention`. Default "dot".
        temperature: temperature of the Gumbel-softmax relaxation used for gradients in training,
            a float > 0. Lower is closer to the discrete sample, with noisier gradients. Default 1.
        seed: seed of the Gumbel noise (and of dropout).
        **kwargs: as in `Attention`.

    Call arguments and returns are those of `kzoo.layers.Attention`; the weights are one-hot over
    the unmasked keys (all zero on a fully masked row).

    Examples:
        >>> import numpy as np
        >>> q = np.array([[[1.0, 0.0]]]); v = np.array([[[1.0, 0.0], [0.0, 1.0]]])
        >>> HardAttention()([q, v]).numpy().tolist()
        [[[1.0, 0.0]]]
    """

    def __init__(self, score="dot", temperature=1.0, seed=None, **kwargs):
        super().__init__(score=score, seed=seed, **kwargs)
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or temperature <= 0:
            raise ValueError(
                f"`temperature` must be a float > 0. Received: temperature={temperature!r}"
            )
        self.temperature = float(temperature)
        self.gumbel_seed_generator = keras.random.SeedGenerator(seed)

    def _compute_weights(self, scores, mask, training=None, **kwargs):
        probs = masked_softmax(scores, mask)  # (B, Tq, Tv), float32
        valid = ops.ones_like(probs, dtype="bool") if mask is None else ops.broadcast_to(
            ops.cast(mask, "bool"), ops.shape(probs)
        )
        any_valid = ops.cast(ops.any(valid, axis=-1, keepdims=True), probs.dtype)
        if not training:
            logits = ops.where(valid, ops.cast(scores, "float32"), -3.0e38)
            return ops.one_hot(ops.argmax(logits, axis=-1), ops.shape(probs)[-1]) * any_valid
        uniform = keras.random.uniform(
            ops.shape(probs), minval=1e-20, maxval=1.0, seed=self.gumbel_seed_generator
        )
        gumbel = -ops.log(-ops.log(uniform))
        log_probs = ops.log(ops.maximum(probs, 1e-30))
        relaxed = masked_softmax((log_probs + gumbel) / self.temperature, mask)
        hard = ops.one_hot(ops.argmax(relaxed, axis=-1), ops.shape(probs)[-1]) * any_valid
        return hard + (relaxed - ops.stop_gradient(relaxed))  # forward: exactly hard; backward: relaxed

    def get_config(self):
        config = super().get_config()
        config.update(temperature=self.temperature)
        return config
