"""SpeechToText's training data: transcripts checked, `((waveforms, lengths), transcripts)` batches.

`speech_dataset` builds batches from lists (bucketed by duration to limit padding);
`speech_batches` accepts the datasets `SpeechToText.fit` takes.
"""

import numpy as np
import tensorflow as tf

from kzoo.audio.waveforms import check_audio
from kzoo.data.pipeline import bucket_batches
from kzoo.text.tokenizer import check_texts

__all__ = ["check_transcripts", "speech_batches", "speech_dataset"]


def check_transcripts(transcripts):
    """A list of non-empty transcripts, one per recording, with clear errors.

    Examples:
        >>> check_transcripts(["one two", "three"])
        ['one two', 'three']
    """
    texts, single = check_texts(transcripts, "transcripts")
    if single:
        raise TypeError("`transcripts` must be a list of strings, one per recording. Received: a single string")
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty:
        raise ValueError(f"`transcripts` must not contain empty transcripts. Received: an empty one at index {empty[0]}")
    return texts


def speech_dataset(audio, transcripts, batch_size=32, shuffle=True, seed=None):
    """`((waveforms, lengths), transcript)` batches from a list of 1-D arrays at the model's
    rate and their transcripts, bucketed by duration to limit padding.

    Examples:
        >>> import numpy as np
        >>> data = speech_dataset([np.zeros(400, "float32"), np.zeros(400, "float32")], ["one", "two"], shuffle=False)
        >>> [(audio[0].shape[0], texts.shape[0]) for audio, texts in data]
        [(2, 2)]
    """
    texts = check_transcripts(transcripts)
    if not isinstance(audio, (list, tuple)) or len(audio) != len(texts):
        raise ValueError(
            "`audio` must be a list of waveforms with one transcript each. "
            f"Received: {type(audio).__name__} of length {len(audio) if hasattr(audio, '__len__') else '?'} "
            f"and {len(texts)} transcripts"
        )
    waveforms = [check_audio(a, name=f"audio[{i}]") for i, a in enumerate(audio)]
    lengths = np.array([len(w) for w in waveforms], np.int64)
    ragged = tf.RaggedTensor.from_row_lengths(np.concatenate(waveforms), lengths)
    ds = tf.data.Dataset.from_tensor_slices((ragged, texts))
    if shuffle:
        ds = ds.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)
    return speech_batches(ds, batch_size, lengths).prefetch(tf.data.AUTOTUNE)


def speech_batches(data, batch_size=32, lengths=None):
    """Accepts a Dataset of single `(waveform (N,), transcript)` examples (bucketed by length
    into batches of `batch_size`), of batched `(waveforms (B, N), transcripts)` (every
    sample valid), or of `((waveforms, lengths), transcripts)`; int16 audio is scaled.

    Examples:
        >>> batched = tf.data.Dataset.from_tensors((tf.zeros((2, 400), tf.int16), tf.constant(["a", "b"])))
        >>> [lengths.numpy().tolist() for (waveforms, lengths), texts in speech_batches(batched)]
        [[400, 400]]
    """
    spec = data.element_spec
    if not (isinstance(spec, tuple) and len(spec) == 2) or isinstance(spec[0], tuple):
        return data
    audio_spec = spec[0]
    if isinstance(audio_spec, tf.RaggedTensorSpec):
        data = data.map(lambda w, t: (w.to_tensor() if isinstance(w, tf.RaggedTensor) else w, t))
    scale = 1.0 / 32768 if audio_spec.dtype == tf.int16 else 1.0
    if audio_spec.shape.rank == 1:
        data = data.map(lambda w, t: ((tf.cast(w, tf.float32) * scale, tf.shape(w)[0]), t))
        quantiles = np.quantile(lengths, np.linspace(0, 1, 9)[1:-1]) if lengths is not None and len(lengths) else []
        boundaries = sorted({int(q) + 1 for q in quantiles}) or [10**9]
        return bucket_batches(data, lambda audio, t: audio[1], lengths, boundaries, batch_size)
    return data.map(lambda w, t: ((tf.cast(w, tf.float32) * scale, tf.fill(tf.shape(w)[:1], tf.shape(w)[1])), t))
