"""Log-mel filterbank features: the input representation of most speech recognisers.

A short-time Fourier transform with a periodic Hann window, the power spectrum `|X|^2`, triangular
filters equally spaced on the HTK mel scale `1127 ln(1 + f / 700)` (Stevens, Volkmann & Newman
1937; Young et al., "The HTK Book"), and a log. The defaults (25 ms frames every 10 ms, 80 bins)
are those of Listen, Attend and Spell (Chan et al. 2016) and of Whisper (Radford et al. 2022).
Built from `tf.signal` ops that convert to TFLite builtins (RFFT2D needs a power-of-two FFT).

References:
    Stevens, Volkmann & Newman (1937), "A Scale for the Measurement of the Psychological
    Magnitude Pitch".
    Davis & Mermelstein (1980), "Comparison of Parametric Representations for Monosyllabic Word
    Recognition in Continuously Spoken Sentences".
    Chan et al. (2016), "Listen, Attend and Spell".
"""

import keras
import tensorflow as tf
from keras import ops

from kzoo.layers.checks import check_positive_int

__all__ = ["LogMelSpectrogram"]


@keras.saving.register_keras_serializable(package="kzoo")
class LogMelSpectrogram(keras.layers.Layer):
    """Turns a batch of waveforms into log-mel features and a mask of the valid frames.

    Frames start every `frame_step` samples from sample 0 and the signal is zero-padded at the
    end (`pad_end=True`), so `samples` samples give `ceil(samples / frame_step)` frames. Samples
    past a row's `lengths` are zeroed first, so a padded row gets the features it would get alone.

    Args:
        sample_rate: samples per second of the input, a positive int.
        frame_length_ms: window length in milliseconds (25 ms: 400 samples at 16 kHz).
        frame_step_ms: hop in milliseconds (10 ms: 160 samples at 16 kHz).
        fft_length: FFT size, a power of two >= the frame length in samples; None picks the
            smallest such power (512 for 400 samples).
        num_mel_bins: number of mel filters, the feature size.
        lower_edge_hz: lower edge of the lowest filter, in Hz.
        upper_edge_hz: upper edge of the highest filter, in Hz; None means `sample_rate / 2`.
        log_offset: added before the log so silence stays finite (log(1e-6) ≈ -13.8).

    Call arguments:
        waveforms: float32 `(batch_size, samples)`, samples in [-1, 1].
        lengths: int `(batch_size,)`, the number of valid samples per row; None: all are valid.

    Returns:
        `(features, mask)`: features `(batch_size, frames, num_mel_bins)` with
        `frames = ceil(samples / frame_step)`, zero at invalid frames, and a boolean mask
        `(batch_size, frames)` that is True for the first `num_frames(lengths)` frames of a row.

    Examples:
        >>> import numpy as np
        >>> layer = LogMelSpectrogram()
        >>> features, mask = layer(np.zeros((2, 16000), "float32"), np.array([16000, 8000]))
        >>> features.shape, mask.shape
        (TensorShape([2, 100, 80]), TensorShape([2, 100]))
        >>> np.asarray(layer.num_frames(np.array([16000, 8000, 1, 0])))
        array([100,  50,   1,   0]...)
    """

    def __init__(
        self,
        sample_rate=16000,
        frame_length_ms=25.0,
        frame_step_ms=10.0,
        fft_length=None,
        num_mel_bins=80,
        lower_edge_hz=20.0,
        upper_edge_hz=None,
        log_offset=1e-6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int("sample_rate", sample_rate)
        check_positive_int("num_mel_bins", num_mel_bins)
        for name, value in (
            ("frame_length_ms", frame_length_ms),
            ("frame_step_ms", frame_step_ms),
            ("log_offset", log_offset),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"`{name}` must be a positive number. Received: {name}={value!r}")
        self.frame_length = round(sample_rate * frame_length_ms / 1000)  # in samples
        self.frame_step = round(sample_rate * frame_step_ms / 1000)  # in samples
        for name, ms, samples in (
            ("frame_length_ms", frame_length_ms, self.frame_length),
            ("frame_step_ms", frame_step_ms, self.frame_step),
        ):
            if samples < 1:
                raise ValueError(
                    f"`{name}` must span at least one sample at sample_rate={sample_rate}. "
                    f"Received: {name}={ms!r}"
                )
        smallest_fft = 1 << (self.frame_length - 1).bit_length()
        if fft_length is not None:
            check_positive_int("fft_length", fft_length)
            if fft_length & (fft_length - 1) or fft_length < self.frame_length:
                raise ValueError(
                    "`fft_length` must be a power of two >= the frame length "
                    f"({self.frame_length} samples, so at least {smallest_fft}), because TFLite's "
                    f"RFFT2D kernel accepts only power-of-two sizes. Received: fft_length={fft_length}"
                )
        upper = mel_band_upper_edge(sample_rate, lower_edge_hz, upper_edge_hz)
        self.sample_rate = sample_rate
        self.frame_length_ms = frame_length_ms
        self.frame_step_ms = frame_step_ms
        self.fft_length = fft_length
        self.num_mel_bins = num_mel_bins
        self.lower_edge_hz = lower_edge_hz
        self.upper_edge_hz = upper_edge_hz
        self.log_offset = log_offset
        self._fft_length = fft_length or smallest_fft
        self._upper_edge_hz = upper

    def num_frames(self, lengths):
        """The valid frame count `ceil(lengths / frame_step)` (>= 1 for `lengths >= 1`), e.g. CTC lengths."""
        lengths = ops.cast(lengths, "int32")
        return (lengths + self.frame_step - 1) // self.frame_step

    def call(self, waveforms, lengths=None):
        waveforms = ops.cast(waveforms, "float32")  # the FFT runs in float32 under any policy
        samples = ops.shape(waveforms)[1]
        if lengths is None:
            lengths = ops.full((ops.shape(waveforms)[0],), samples, "int32")
        lengths = ops.cast(lengths, "int32")
        valid_samples = ops.arange(samples, dtype="int32")[None, :] < lengths[:, None]  # (B, samples)
        waveforms = ops.where(valid_samples, waveforms, 0.0)
        stft = tf.signal.stft(
            waveforms,
            frame_length=self.frame_length,
            frame_step=self.frame_step,
            fft_length=self._fft_length,
            window_fn=tf.signal.hann_window,  # periodic by default
            pad_end=True,
        )  # (B, frames, fft_length // 2 + 1), complex64
        power = ops.square(tf.math.real(stft)) + ops.square(tf.math.imag(stft))
        filters = tf.signal.linear_to_mel_weight_matrix(
            num_mel_bins=self.num_mel_bins,
            num_spectrogram_bins=self._fft_length // 2 + 1,
            sample_rate=self.sample_rate,
            lower_edge_hertz=self.lower_edge_hz,
            upper_edge_hertz=self._upper_edge_hz,
        )  # (fft_length // 2 + 1, num_mel_bins)
        features = ops.log(ops.matmul(power, filters) + self.log_offset)  # (B, frames, num_mel_bins)
        frames = ops.shape(features)[1]
        mask = ops.arange(frames, dtype="int32")[None, :] < self.num_frames(lengths)[:, None]  # (B, frames)
        features = ops.where(mask[:, :, None], features, 0.0)
        return ops.cast(features, self.compute_dtype), mask

    def get_config(self):
        config = super().get_config()
        config.update(
            sample_rate=self.sample_rate,
            frame_length_ms=self.frame_length_ms,
            frame_step_ms=self.frame_step_ms,
            fft_length=self.fft_length,
            num_mel_bins=self.num_mel_bins,
            lower_edge_hz=self.lower_edge_hz,
            upper_edge_hz=self.upper_edge_hz,
            log_offset=self.log_offset,
        )
        return config


def mel_band_upper_edge(sample_rate, lower_edge_hz, upper_edge_hz):
    """The band's upper edge in Hz (`sample_rate / 2` for None), after checking
    `0 <= lower_edge_hz < upper_edge_hz <= sample_rate / 2`; shared by the layers that work on
    `LogMelSpectrogram`'s bins."""
    for name, value, allow_none in (("lower_edge_hz", lower_edge_hz, False), ("upper_edge_hz", upper_edge_hz, True)):
        if (value is not None or not allow_none) and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"`{name}` must be a number{' or None' if allow_none else ''}. Received: {name}={value!r}")
    nyquist = sample_rate / 2
    upper = nyquist if upper_edge_hz is None else upper_edge_hz
    if not 0 <= lower_edge_hz < upper <= nyquist:
        raise ValueError(
            f"The mel filters must satisfy 0 <= lower_edge_hz < upper_edge_hz <= sample_rate / 2 "
            f"= {nyquist:g}. Received: lower_edge_hz={lower_edge_hz!r}, upper_edge_hz={upper_edge_hz!r}"
        )
    return upper
