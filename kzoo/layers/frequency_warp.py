"""Vocal tract length perturbation: every training utterance's spectrum stretched or squeezed.

A shorter vocal tract moves every formant up by about the same factor. Jaitly and Hinton (2013),
"Vocal Tract Length Perturbation (VTLP) improves speech recognition", imitate new speakers by
warping each training utterance's frequency axis with a random factor `alpha` (they draw it from
[0.9, 1.1]) and a piecewise-linear warp that keeps the band's edges in place:

    w(f) = alpha * f                                                  for f <= b
    w(f) = alpha * b + (upper - alpha * b) * (f - b) / (upper - b)    for b < f <= upper

with the break point `b = boundary * upper / max(alpha, 1)` (so `w(b) < upper` for every factor).
The warped spectrum has at frequency `g` the energy the original had at `w^-1(g)`. Here the warp
is applied to log-mel features: output bin `i`, centred at `g_i`, is the original features
linearly interpolated at the (fractional) mel bin of `w^-1(g_i)`, on the HTK mel scale
`1127 ln(1 + f / 700)` that `LogMelSpectrogram` uses. Unlike `SpeedPerturbation` it leaves the
timing alone and costs one gather per batch. Outside training the layer returns its input.
"""

import math

import keras
from keras import ops

from kzoo.layers.checks import check_positive_int, check_rank
from kzoo.layers.log_mel_spectrogram import mel_band_upper_edge

__all__ = ["FrequencyWarp"]


def _mel(hz):
    return 1127.0 * math.log1p(hz / 700.0)


@keras.saving.register_keras_serializable(package="kzoo")
class FrequencyWarp(keras.layers.Layer):
    """Warps the mel axis of each training utterance by its own random factor (module docstring).

    Args:
        sample_rate: sample rate of the audio the features came from, in Hz.
        num_mel_bins: bins of the features.
        lower_edge_hz: lower edge of the mel filters, as given to `LogMelSpectrogram`.
        upper_edge_hz: upper edge of the mel filters; None means `sample_rate / 2`.
        low: smallest warp factor, in (0, high]; factors below 1 move formants down.
        high: largest warp factor, in [low, 2].
        boundary: the break point `b` as a fraction of `upper_edge_hz`, in (0, 1) (before the
            `max(alpha, 1)` adjustment).
        seed: seed of the factors.

    Call arguments:
        features: `(batch_size, frames, num_mel_bins)` log-mel features.
        training: the warp is applied only when True.

    Returns:
        `(batch_size, frames, num_mel_bins)`. A frame of equal values (a zeroed padded frame)
        stays as it is.

    Examples:
        >>> import numpy as np
        >>> x = np.tile(np.arange(8, dtype="float32"), (1, 3, 1))  # (1, 3, 8)
        >>> up = FrequencyWarp(8000, 8, low=1.1, high=1.1)(x, training=True)
        >>> bool(np.all(np.asarray(up)[0, :, 1:6] < x[0, :, 1:6]))  # bins read from lower frequencies
        True
        >>> bool(np.all(np.asarray(FrequencyWarp(8000, 8)(x)) == x))  # inference: identity
        True
    """

    def __init__(
        self,
        sample_rate,
        num_mel_bins,
        lower_edge_hz=20.0,
        upper_edge_hz=None,
        low=0.9,
        high=1.1,
        boundary=0.8,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int("sample_rate", sample_rate)
        check_positive_int("num_mel_bins", num_mel_bins)
        upper = mel_band_upper_edge(sample_rate, lower_edge_hz, upper_edge_hz)
        for name, value in (("low", low), ("high", high), ("boundary", boundary)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"`{name}` must be a number. Received: {name}={value!r}")
        if not 0 < low <= high <= 2:
            raise ValueError(f"`low` and `high` must satisfy 0 < low <= high <= 2. Received: low={low!r}, high={high!r}")
        if not 0 < boundary < 1:
            raise ValueError(f"`boundary` must be in (0, 1). Received: boundary={boundary!r}")
        self.sample_rate, self.num_mel_bins = sample_rate, num_mel_bins
        self.lower_edge_hz, self.upper_edge_hz = float(lower_edge_hz), upper_edge_hz
        self.low, self.high, self.boundary, self.seed = float(low), float(high), float(boundary), seed
        self._upper = float(upper)
        mel_low, mel_high = _mel(self.lower_edge_hz), _mel(self._upper)
        self._mel_low, self._mel_step = mel_low, (mel_high - mel_low) / (num_mel_bins + 1)
        # Centre of bin i: the (i + 1)-th of num_mel_bins + 2 equally spaced mel points.
        self._centres_hz = [700.0 * math.expm1((mel_low + (i + 1) * self._mel_step) / 1127.0) for i in range(num_mel_bins)]
        self.seed_generator = keras.random.SeedGenerator(seed)

    def source_bins(self, alphas):
        """Fractional input bin read by each output bin for warp factors `alphas` `(B,)`:
        `(B, num_mel_bins)`, clipped to `[0, num_mel_bins - 1]`."""
        alphas = ops.cast(alphas, "float32")[:, None]  # (B, 1)
        centres = ops.convert_to_tensor(self._centres_hz, "float32")[None, :]  # (1, M)
        b = self.boundary * self._upper / ops.maximum(alphas, 1.0)
        below = centres / alphas
        above = b + (centres - alphas * b) * (self._upper - b) / (self._upper - alphas * b)
        source_hz = ops.where(centres <= alphas * b, below, above)  # w^-1(g)
        mel = 1127.0 * ops.log1p(ops.maximum(source_hz, 0.0) / 700.0)
        return ops.clip((mel - self._mel_low) / self._mel_step - 1.0, 0.0, float(self.num_mel_bins - 1))

    def call(self, features, training=None):
        check_rank("features", features.shape, ("batch_size", "frames", "num_mel_bins"))
        if not training:
            return features
        if features.shape[-1] is not None and features.shape[-1] != self.num_mel_bins:
            raise ValueError(f"`features` must have num_mel_bins={self.num_mel_bins} bins. "
                             f"Received: features.shape={tuple(features.shape)}")
        alphas = keras.random.uniform((ops.shape(features)[0],), self.low, self.high, seed=self.seed_generator)
        position = self.source_bins(alphas)  # (B, M)
        left = ops.cast(ops.floor(position), "int32")
        right = ops.minimum(left + 1, self.num_mel_bins - 1)
        fraction = ops.cast(position - ops.cast(left, "float32"), features.dtype)[:, None, :]  # (B, 1, M)
        frames = ops.shape(features)[1]

        def gather(index):  # (B, M) -> (B, frames, M)
            index = ops.broadcast_to(index[:, None, :], (ops.shape(features)[0], frames, self.num_mel_bins))
            return ops.take_along_axis(features, index, axis=2)

        return (1 - fraction) * gather(left) + fraction * gather(right)

    def get_config(self):
        return {
            **super().get_config(),
            "sample_rate": self.sample_rate,
            "num_mel_bins": self.num_mel_bins,
            "lower_edge_hz": self.lower_edge_hz,
            "upper_edge_hz": self.upper_edge_hz,
            "low": self.low,
            "high": self.high,
            "boundary": self.boundary,
            "seed": self.seed,
        }
