"""Speech encoder: log-mel front end, convolutional subsampling in time and bidirectional LSTMs.

Waveforms `(B, N)` with their lengths -> speed perturbation (optional, training only) -> log-mel frames every 10 ms (`LogMelSpectrogram`) ->
vocal tract length perturbation (optional, training only) -> per-utterance normalisation -> SpecAugment masks (training only) -> `conv_layers` 3x3
convolutions over time and frequency (none by default), each followed by a max-pool of 2 mel bands
when `frequency_pooling` -> `log2(subsampling)` strided
3x3 convolutions that halve the frame rate and the mel axis each -> `num_layers` context layers,
bidirectional LSTMs (`context="bilstm"`, the default) or residual 1-D convolutions over time
(`context="conv"`) -> memory `(B, S, 2·units)` with its mask `(B, S)` and no states: the seq2seq
encoder contract, so the shared attention decoder and a CTC head both read it.

The convolutional context (Collobert, Puhrsch, Synnaeve 2016, Wav2Letter: a CTC acoustic model
without recurrence; residual blocks as in Li et al. 2019, Jasper) replaces each BiLSTM with a
block `x + ReLU(LayerNorm(Conv1D(x)))` of `context_kernel` frames: every frame is computed at
once instead of one after another, which on a CPU makes a training step cheaper, and the model
sees `num_layers · (context_kernel − 1)` frames around each one (a digit word spans 20-30
frames at the default 50 per second).

Subsampling shortens what the LSTMs and the attention have to cover (100 frames per second of
speech become 50 or 25) while keeping enough frames for CTC, which needs at least one frame per
output character plus one between repeated characters. After every convolution the frames past
an utterance's end are set to zero, so that what an utterance's last frames read does not depend
on how long the other utterances of its batch are.

References:
    Chan, Jaitly, Le, Vinyals (2016), "Listen, Attend and Spell" (a shortened BiLSTM encoder for
    attention decoding). Graves, Mohamed, Hinton (2013), "Speech Recognition with Deep Recurrent
    Neural Networks" (bidirectional LSTM acoustic encoder). Park et al. (2019), "SpecAugment".
    Ko et al. (2015), "Audio Augmentation for Speech Recognition" (speed perturbation). Jaitly and
    Hinton (2013), "Vocal Tract Length Perturbation (VTLP) improves speech recognition".
    Abdel-Hamid et al. (2014), "Convolutional Neural Networks for Speech Recognition" (pooling
    over frequency). Collobert, Puhrsch, Synnaeve (2016), "Wav2Letter: an End-to-End
    ConvNet-based Speech Recognition System". Li et al. (2019), "Jasper: An End-to-End
    Convolutional Neural Acoustic Model". Ba, Kiros, Hinton (2016), "Layer Normalization".
"""

import keras
from keras import ops

from kzoo.layers.checks import check_positive_int
from kzoo.layers.frequency_warp import FrequencyWarp
from kzoo.layers.log_mel_spectrogram import LogMelSpectrogram
from kzoo.layers.spec_augment import SpecAugment
from kzoo.layers.speed_perturbation import SpeedPerturbation
from kzoo.layers.utterance_normalization import UtteranceNormalization

__all__ = ["SpeechEncoder"]

_SUBSAMPLING = (1, 2, 4)
CONTEXTS = ("bilstm", "conv")  # the encoder_context names SpeechToText accepts too


def _after_stride_two(frames):
    """Valid frames after a stride-2 convolution over `frames` valid frames: `ceil(frames / 2)`."""
    return (frames + 1) // 2


@keras.saving.register_keras_serializable(package="kzoo")
class SpeechEncoder(keras.layers.Layer):
    """Waveforms -> `(memory, mask, None)` (see the module docstring).

    Args:
        sample_rate: audio sample rate in Hz.
        num_mel_bins: mel bands of the front end.
        frame_length_ms: analysis window and hop.
        frame_step_ms: analysis window and hop.
        subsampling: 1, 2 or 4, the factor by which the convolutions shorten the frame sequence.
        filters: channels of the convolutions.
        conv_layers: 3x3 convolutions (stride 1, ReLU) over time and frequency before the
            subsampling ones: a deeper convolutional front end, as in the VGG-style encoders
            of Hori et al. (2017).
        frequency_pooling: if True, each of those convolutions is followed by a max-pool of 2
            over the mel axis (time untouched): a feature that moves by a band or so, as formants
            do from one voice to another, gives the same output (Abdel-Hamid et al. 2014).
        units: LSTM units per direction (the memory has `2·units` features with either context).
        num_layers: context layers (bidirectional LSTMs or convolutional blocks).
        context: "bilstm" (default) or "conv", the layers that give each frame its context
            (see the module docstring).
        context_kernel: frames each convolution of the "conv" context reads, an odd int >= 3.
        spec_augment: whether SpecAugment masks the features in training.
        dropout: dropout between the context layers, in [0, 1).
        speed_perturbation: None, or `(low, high)`: in training every utterance is resampled
            by its own factor drawn from that range (`kzoo.layers.SpeedPerturbation`).
        frequency_warp: None, or `(low, high)`: in training the log-mel features of every
            utterance are warped along the frequency axis by its own factor drawn from that range
            (`kzoo.layers.FrequencyWarp`, vocal tract length perturbation).
        seed: seed of SpecAugment's masks and of the speed and warp factors.

    Call arguments:
        waveforms: float32 `(batch_size, samples)`; lengths: int `(batch_size,)` valid samples.

    Returns:
        `(memory (batch_size, S, 2·units), mask (batch_size, S) bool, None)`.

    Examples:
        >>> import numpy as np
        >>> enc = SpeechEncoder(sample_rate=8000, num_mel_bins=16, filters=4, units=8, num_layers=1)
        >>> memory, mask, _ = enc(np.zeros((2, 8000), "float32"), np.array([8000, 4000]))
        >>> tuple(memory.shape), mask.numpy().sum(axis=1).tolist()
        ((2, 50, 16), [50, 25])
    """

    def __init__(
        self,
        sample_rate=16000,
        num_mel_bins=80,
        frame_length_ms=25.0,
        frame_step_ms=10.0,
        subsampling=2,
        filters=32,
        units=256,
        num_layers=2,
        spec_augment=True,
        dropout=0.0,
        seed=None,
        speed_perturbation=None,
        frequency_warp=None,
        conv_layers=0,
        context="bilstm",
        context_kernel=5,
        frequency_pooling=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if context not in CONTEXTS:
            raise ValueError(f"`context` must be one of {CONTEXTS}. Received: context={context!r}")
        if isinstance(context_kernel, bool) or not isinstance(context_kernel, int) or context_kernel < 3 or context_kernel % 2 == 0:
            raise ValueError(f"`context_kernel` must be an odd int >= 3. Received: context_kernel={context_kernel!r}")
        self.context, self.context_kernel = context, context_kernel
        if subsampling not in _SUBSAMPLING:
            raise ValueError(f"`subsampling` must be one of {_SUBSAMPLING}. Received: subsampling={subsampling!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout!r}")
        self.sample_rate = check_positive_int("sample_rate", sample_rate)
        self.num_mel_bins = check_positive_int("num_mel_bins", num_mel_bins)
        self.frame_length_ms = float(frame_length_ms)
        self.frame_step_ms = float(frame_step_ms)
        self.subsampling = subsampling
        self.filters = check_positive_int("filters", filters)
        if isinstance(conv_layers, bool) or not isinstance(conv_layers, int) or conv_layers < 0:
            raise ValueError(f"`conv_layers` must be an int >= 0. Received: conv_layers={conv_layers!r}")
        self.conv_layers = conv_layers
        if not isinstance(frequency_pooling, bool):
            raise ValueError(f"`frequency_pooling` must be True or False. Received: frequency_pooling={frequency_pooling!r}")
        if frequency_pooling and not conv_layers:
            raise ValueError("`frequency_pooling=True` pools after the stride-1 convolutions and needs `conv_layers` >= 1. "
                             f"Received: conv_layers={conv_layers!r}")
        self.frequency_pooling = frequency_pooling
        self.units = check_positive_int("units", units)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.spec_augment = bool(spec_augment)
        self.dropout = float(dropout)
        self.seed = seed
        for name, value in (("speed_perturbation", speed_perturbation), ("frequency_warp", frequency_warp)):
            if value is not None and not (
                isinstance(value, (list, tuple)) and len(value) == 2
                and all(isinstance(f, (int, float)) and not isinstance(f, bool) for f in value)
            ):
                raise ValueError(f"`{name}` must be None or a pair of numbers (low, high). Received: {name}={value!r}")
        self.speed_perturbation = None if speed_perturbation is None else tuple(float(f) for f in speed_perturbation)
        self.perturb = None if speed_perturbation is None else SpeedPerturbation(*speed_perturbation, seed=seed, name="speed")
        self.front_end = LogMelSpectrogram(
            sample_rate, frame_length_ms, frame_step_ms, num_mel_bins=num_mel_bins, name="log_mel"
        )
        self.frequency_warp = None if frequency_warp is None else tuple(float(f) for f in frequency_warp)
        self.warp = None if frequency_warp is None else FrequencyWarp(
            sample_rate, num_mel_bins, self.front_end.lower_edge_hz, self.front_end.upper_edge_hz,
            *self.frequency_warp, seed=None if seed is None else seed + 1, name="frequency_warp",
        )
        self.normalization = UtteranceNormalization(name="normalization")
        self.augment = SpecAugment(seed=seed, name="spec_augment") if spec_augment else None
        self.feature_convolutions = [
            keras.layers.Conv2D(filters, 3, padding="valid", activation="relu", name=f"conv_{i}") for i in range(conv_layers)
        ]
        self.convolutions = [
            keras.layers.Conv2D(filters, 3, strides=2, padding="valid", activation="relu", name=f"subsample_{i}")
            for i in range(subsampling.bit_length() - 1)
        ]
        convolved = self.feature_convolutions or self.convolutions
        self.projection = keras.layers.Dense(units, name="projection") if convolved else None
        if context == "bilstm":
            self.rnns = [
                keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True), name=f"bilstm_{i}")
                for i in range(num_layers)
            ]
            self.context_norms = []
        else:  # self.rnns: the context layers, whichever they are
            self.rnns = [
                keras.layers.Conv1D(2 * units, context_kernel, padding="same", name=f"context_conv_{i}")
                for i in range(num_layers)
            ]
            self.context_norms = [keras.layers.LayerNormalization(name=f"context_norm_{i}") for i in range(num_layers)]
        self.dropout_layer = keras.layers.Dropout(dropout, seed=seed)

    def num_output_frames(self, lengths):
        """Valid memory positions for `lengths` samples: `ceil(frames / 2)` per convolution."""
        frames = self.front_end.num_frames(lengths)
        for _ in self.convolutions:
            frames = _after_stride_two(frames)
        return frames

    def call(self, waveforms, lengths, training=None):
        if self.perturb is not None:
            waveforms, lengths = self.perturb(waveforms, lengths, training=training)
        features, mask = self.front_end(waveforms, lengths)  # (B, F, mels), (B, F)
        if self.warp is not None:
            features = self.warp(features, training=training)  # zeroed padded frames stay zero
        features = self.normalization(features, mask=mask)
        if self.augment is not None:
            features = self.augment(features, mask=mask, training=training)
        if self.projection is not None:
            x = ops.expand_dims(features, -1)  # (B, F, mels, 1)
            valid = self.front_end.num_frames(ops.cast(lengths, "int32"))
            for conv in self.feature_convolutions + self.convolutions:
                # One frame of zeros on each side, then a "valid" convolution: output t reads
                # frames t-1..t+1 (stride 1) or 2t-1..2t+1 (stride 2). ("same" padding would
                # shift the stride-2 windows with the parity of the padded batch length, so an
                # utterance's transcript would depend on the others in its batch.)
                x = conv(ops.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]))  # (B, F', mels', filters)
                if self.frequency_pooling and conv.strides[0] == 1:
                    x = ops.max_pool(x, pool_size=(1, 2), strides=(1, 2), padding="valid")  # mels' // 2
                if conv.strides[0] == 2:
                    valid = _after_stride_two(valid)
                mask = ops.arange(ops.shape(x)[1])[None, :] < valid[:, None]  # (B, F')
                x = x * ops.cast(mask, x.dtype)[:, :, None, None]  # past the end: zeros, as padding
            shape = ops.shape(x)
            x = ops.reshape(x, (shape[0], shape[1], x.shape[2] * x.shape[3]))  # (B, S, mels'·filters)
            features = self.projection(x)  # (B, S, units)
        x = features
        for i, rnn in enumerate(self.rnns):
            if i:
                x = self.dropout_layer(x, training=training)
            if self.context == "bilstm":
                x = rnn(x, mask=mask)
            else:
                x = self._conv_block(rnn, self.context_norms[i], x, mask, residual=i > 0)
        return x, mask, None  # x: (B, S, 2·units)

    @staticmethod
    def _conv_block(conv, norm, x, mask, residual):
        """`x + ReLU(LayerNorm(Conv1D(x)))` (no residual in the first block, which changes the
        width); frames past an utterance's end are zero on the way in and out, so that the
        "same" padding of a frame near the end reads zeros whatever the batch's length."""
        keep = ops.cast(mask, x.dtype)[:, :, None]
        y = ops.relu(norm(conv(x * keep)))
        return (x + y if residual else y) * keep

    def get_config(self):
        config = super().get_config()
        config.update(
            sample_rate=self.sample_rate,
            num_mel_bins=self.num_mel_bins,
            frame_length_ms=self.frame_length_ms,
            frame_step_ms=self.frame_step_ms,
            subsampling=self.subsampling,
            filters=self.filters,
            units=self.units,
            num_layers=self.num_layers,
            spec_augment=self.spec_augment,
            dropout=self.dropout,
            seed=self.seed,
            speed_perturbation=self.speed_perturbation,
            frequency_warp=self.frequency_warp,
            conv_layers=self.conv_layers,
            context=self.context,
            context_kernel=self.context_kernel,
            frequency_pooling=self.frequency_pooling,
        )
        return config
