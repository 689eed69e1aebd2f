"""Speed perturbation: every training utterance played a little faster or slower.

Resampling a recording by a factor `f` (reading it at `f` times its speed) shortens it to
`length / f` samples and moves its pitch and formants by `f`, which imitates another speaker's
rate and vocal tract: Ko, Peddinti, Povey and Khudanpur (2015), "Audio Augmentation for Speech
Recognition", trained on copies at 0.9, 1.0 and 1.1; Jaitly and Hinton (2013), "Vocal Tract Length
Perturbation (VTLP) improves speech recognition", warped the spectrum for the same reason. Here each
utterance of a training batch draws its own factor uniformly from `[low, high]` at every step, and
the waveform is read at positions `j·f` with linear interpolation between samples (no anti-alias
filter: for factors near 1 the folded band is the top few percent of the spectrum, above the
speech formants). Outside training the layer returns its input unchanged.
"""

import keras
import tensorflow as tf

__all__ = ["SpeedPerturbation"]


@keras.saving.register_keras_serializable(package="kzoo")
class SpeedPerturbation(keras.layers.Layer):
    """Resamples each training utterance by its own random speed factor (module docstring).

    Args:
        low: smallest factor, > 0; factors below 1 slow the utterance down (longer).
        high: largest factor, in [low, 2].
        seed: seed of the factors.

    Call arguments:
        waveforms: float `(batch_size, samples)`, zero past each row's length.
        lengths: int `(batch_size,)` valid samples.
        training: the perturbation is applied only when True.

    Returns:
        `(waveforms (batch_size, samples'), lengths (batch_size,))`: in training
        `samples' = ceil(samples / low)` and each row holds `floor((length - 1) / f) + 1` samples
        read at `j·f` from the original, zeros after; otherwise the inputs.

    Examples:
        >>> import numpy as np
        >>> layer = SpeedPerturbation(low=0.5, high=0.5)
        >>> out, lengths = layer(np.array([[0.0, 1.0, 2.0, 0.0]], "float32"), np.array([3]), training=True)
        >>> out.numpy().round(2).tolist(), lengths.numpy().tolist()
        ([[0.0, 0.5, 1.0, 1.5, 2.0, 0.0, 0.0, 0.0]], [5])
    """

    def __init__(self, low=0.9, high=1.1, seed=None, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("low", low), ("high", high)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"`{name}` must be a number. Received: {name}={value!r}")
        if not 0 < low <= high <= 2:
            raise ValueError(f"`low` and `high` must satisfy 0 < low <= high <= 2. Received: low={low!r}, high={high!r}")
        self.low, self.high, self.seed = float(low), float(high), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, waveforms, lengths, training=None):
        if not training:
            return waveforms, lengths
        waveforms = tf.convert_to_tensor(waveforms, tf.float32)
        lengths = tf.cast(lengths, tf.int32)
        batch, samples = tf.shape(waveforms)[0], tf.shape(waveforms)[1]
        factors = keras.random.uniform((batch,), self.low, self.high, seed=self.seed_generator)  # (B,)
        width = tf.cast(tf.math.ceil(tf.cast(samples, tf.float32) / self.low), tf.int32)
        positions = tf.cast(tf.range(width), tf.float32)[None, :] * factors[:, None]  # (B, W) in input samples
        new_lengths = tf.cast(tf.floor(tf.cast(tf.maximum(lengths - 1, 0), tf.float32) / factors), tf.int32) + 1
        new_lengths = tf.where(lengths > 0, new_lengths, 0)
        left = tf.minimum(tf.cast(tf.floor(positions), tf.int32), samples - 1)
        right = tf.minimum(left + 1, samples - 1)
        fraction = positions - tf.cast(left, tf.float32)
        values = (1 - fraction) * tf.gather(waveforms, left, batch_dims=1) + fraction * tf.gather(waveforms, right, batch_dims=1)
        valid = tf.range(width)[None, :] < new_lengths[:, None]
        return tf.where(valid, values, 0.0), new_lengths

    def compute_output_spec(self, waveforms, lengths, training=None):
        return keras.KerasTensor((waveforms.shape[0], None), "float32"), keras.KerasTensor(lengths.shape, "int32")

    def get_config(self):
        return {**super().get_config(), "low": self.low, "high": self.high, "seed": self.seed}
