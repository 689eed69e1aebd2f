"""SpecAugment: frequency and time masking of spectrogram features during training.

Park et al. (2019) regularise speech recognisers by zeroing random bands of mel bins
("frequency masking") and random runs of frames ("time masking") of each training example. Time
warping, the paper's third augmentation, is not implemented: the paper finds it the most
expensive and the least influential of the three.

References:
    Park et al. (2019), "SpecAugment: A Simple Data Augmentation Method for Automatic Speech
    Recognition".
"""

import keras
from keras import ops

from kzoo.layers.checks import check_rank

__all__ = ["SpecAugment"]


@keras.saving.register_keras_serializable(package="kzoo")
class SpecAugment(keras.layers.Layer):
    """Zeroes random frequency bands and time spans of each example in training.

    Per example and per mask: a frequency mask has a width drawn uniformly from
    `[0, frequency_mask_width]` (at most the number of bins) and a uniform start, and covers the
    valid frames; a time mask has a width drawn uniformly from
    `[0, min(time_mask_width, floor(max_time_fraction * valid_frames))]` (the paper's upper bound
    `p * tau`) and a uniform start, and lies within the valid frames. Masked values become 0,
    which is the mean of normalised features (see `UtteranceNormalization`). Padded frames are
    never touched. Without `training=True` the layer is the identity.

    Args:
        frequency_masks: number of frequency masks per example (the paper's `m_F`).
        frequency_mask_width: the widest frequency mask, in bins (`F`).
        time_masks: number of time masks per example (`m_T`).
        time_mask_width: the widest time mask, in frames (`T`).
        max_time_fraction: the widest time mask as a fraction of the valid frames (`p`), in [0, 1].
        seed: seed of the masks; the same seed gives the same masks.

    Call arguments:
        features: `(batch_size, frames, bins)`, assumed normalised.
        mask: boolean `(batch_size, frames)` of valid frames; None: every frame is valid.
        training: masks are applied only when True.

    Returns:
        `(batch_size, frames, bins)`; the mask passes through.

    Examples:
        >>> import numpy as np
        >>> x = np.ones((2, 50, 20), "float32")
        >>> bool(np.all(np.asarray(SpecAugment(seed=1)(x)) == x))  # inference: identity
        True
        >>> out = np.asarray(SpecAugment(frequency_mask_width=5, seed=1)(x, training=True))
        >>> bool(0 < (out == 0).mean() < 1)
        True
    """

    def __init__(
        self,
        frequency_masks=2,
        frequency_mask_width=15,
        time_masks=2,
        time_mask_width=40,
        max_time_fraction=0.2,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (
            ("frequency_masks", frequency_masks),
            ("frequency_mask_width", frequency_mask_width),
            ("time_masks", time_masks),
            ("time_mask_width", time_mask_width),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"`{name}` must be an int >= 0. Received: {name}={value!r}")
        if isinstance(max_time_fraction, bool) or not isinstance(max_time_fraction, (int, float)) or not (
            0 <= max_time_fraction <= 1
        ):
            raise ValueError(
                f"`max_time_fraction` must be in [0, 1]. Received: max_time_fraction={max_time_fraction!r}"
            )
        self.frequency_masks = frequency_masks
        self.frequency_mask_width = frequency_mask_width
        self.time_masks = time_masks
        self.time_mask_width = time_mask_width
        self.max_time_fraction = max_time_fraction
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, features, mask=None, training=None):
        check_rank("features", features.shape, ("batch_size", "frames", "bins"))
        if not training:
            return features
        batch, frames, bins = ops.shape(features)[0], ops.shape(features)[1], ops.shape(features)[2]
        if mask is None:
            valid_frames = ops.ones((batch, frames), "bool")
        else:
            valid_frames = ops.cast(mask, "bool")
        valid = ops.sum(ops.cast(valid_frames, "float32"), axis=1)  # (B,)
        bins_f = ops.cast(bins, "float32")
        widest_band = ops.minimum(float(self.frequency_mask_width), bins_f) * ops.ones_like(valid)  # (B,)
        widest_span = ops.minimum(float(self.time_mask_width), ops.floor(self.max_time_fraction * valid))  # (B,)
        bands = self._bands(self.frequency_masks, widest_band, bins_f, bins)  # (B, bins)
        spans = self._bands(self.time_masks, widest_span, valid, frames)  # (B, frames)
        dropped = (bands[:, None, :] & valid_frames[:, :, None]) | spans[:, :, None]  # (B, frames, bins)
        return ops.where(dropped, ops.zeros_like(features), features)

    def _bands(self, count, widest, extent, size):
        """The union of `count` random bands per row, each of width uniform in [0, widest]
        within [0, extent): a boolean `(B, size)`."""
        positions = ops.cast(ops.arange(size), "float32")[None, :]  # (1, size)
        covered = ops.zeros((ops.shape(widest)[0], size), "bool")
        for _ in range(count):
            draw = keras.random.uniform((2, ops.shape(widest)[0]), seed=self.seed_generator)  # (2, B)
            width = ops.minimum(ops.floor(draw[0] * (widest + 1.0)), widest)  # clamp: u * (n + 1) may round to n + 1
            room = extent - width  # the last possible start
            start = ops.minimum(ops.floor(draw[1] * (room + 1.0)), room)
            band = (positions >= start[:, None]) & (positions < (start + width)[:, None])
            covered = covered | band
        return covered

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            frequency_masks=self.frequency_masks,
            frequency_mask_width=self.frequency_mask_width,
            time_masks=self.time_masks,
            time_mask_width=self.time_mask_width,
            max_time_fraction=self.max_time_fraction,
            seed=self.seed,
        )
        return config
