"""Per-utterance feature normalisation (cepstral mean and variance normalisation, CMVN).

Each utterance's features are shifted and scaled to zero mean and unit variance per feature bin,
over its valid frames only, which removes a recording's channel and loudness (a constant offset
of log-spectra) before the acoustic model sees it (Viikki & Laurila 1998).

References:
    Viikki & Laurila (1998), "Cepstral domain segmental feature vector normalization for noise
    robust speech recognition".
"""

import keras
from keras import ops

from kzoo.layers.checks import check_rank

__all__ = ["UtteranceNormalization"]


@keras.saving.register_keras_serializable(package="kzoo")
class UtteranceNormalization(keras.layers.Layer):
    """Normalises each utterance to zero mean and unit variance per bin over its valid frames.

    `(x - mean) / sqrt(var + epsilon)`, with the mean and the (population) variance taken over
    the frames where `mask` is True; padded frames do not change the statistics and come out 0.
    Statistics are computed in float32 under any dtype policy.

    Args:
        epsilon: added to the variance, so constant bins stay finite.

    Call arguments:
        inputs: `(batch_size, frames, bins)`.
        mask: boolean `(batch_size, frames)`; None: every frame is valid.

    Returns:
        `(batch_size, frames, bins)`; the mask passes through.

    Examples:
        >>> import numpy as np
        >>> x = np.array([[[1.0], [3.0], [100.0]]], "float32")
        >>> np.asarray(UtteranceNormalization()(x, mask=np.array([[True, True, False]])))[0, :, 0].round(3)
        array([-1.,  1.,  0.], dtype=float32)
    """

    def __init__(self, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not epsilon > 0:
            raise ValueError(f"`epsilon` must be a positive number. Received: epsilon={epsilon!r}")
        self.epsilon = epsilon
        self.supports_masking = True

    def call(self, inputs, mask=None):
        check_rank("inputs", inputs.shape, ("batch_size", "frames", "bins"))
        x = ops.cast(inputs, "float32")
        if mask is None:
            valid = ops.ones_like(x[:, :, :1])
        else:
            valid = ops.cast(mask, "float32")[:, :, None]  # (B, frames, 1)
        count = ops.maximum(ops.sum(valid, axis=1, keepdims=True), 1.0)  # (B, 1, 1)
        x = ops.where(valid > 0, x, 0.0)
        mean = ops.sum(x, axis=1, keepdims=True) / count  # (B, 1, bins)
        centred = ops.where(valid > 0, x - mean, 0.0)
        variance = ops.sum(ops.square(centred), axis=1, keepdims=True) / count  # (B, 1, bins)
        outputs = centred * ops.rsqrt(variance + self.epsilon)
        return ops.cast(outputs, self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(epsilon=self.epsilon)
        return config
