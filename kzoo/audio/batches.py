"""User audio -> model batches: files, bytes and arrays at any rate -> padded waveforms at the model's.

`transcribe()` and the TFLite runner share these steps: read WAV files and bytes, check and mix
arrays to mono (`check_audio`), resample to the model's rate (`resample`), cut recordings longer
than `max_seconds` at their quietest points (`split_at_silences`) so that no recording is
truncated, pad a batch with its lengths, and join the pieces' transcripts. `decode_wav_batch`
decodes WAV bytes in graph (what an exported SavedModel serves).
"""

import numbers
import os

import numpy as np
import tensorflow as tf

from kzoo.audio.waveforms import MAX_SAMPLE_RATE, check_audio, read_wav, resample, split_at_silences

__all__ = ["audio_inputs", "decode_wav_batch", "join_pieces", "pad_waveforms", "split_long"]


def _is_clip(item):
    return isinstance(item, (str, bytes, os.PathLike)) or (
        isinstance(item, np.ndarray) and item.ndim in (1, 2) and item.dtype.kind != "O"
    )


def audio_inputs(audio, sample_rate, model_rate, name="audio"):
    """One recording or a list of them -> `(list of float32 1-D arrays at model_rate, single)`.

    Args:
        audio: a WAV file path, WAV file bytes, a 1-D array (mono), a 2-D array (one recording
            with channels, mixed to mono), or a list of these. A 2-D array is one recording,
            never a batch: pass a batch as a list.
        sample_rate: rate of the arrays in Hz; None means the model's rate. WAV files carry
            their own rate and ignore it.
        model_rate: the model's sample rate.
    """
    if sample_rate is not None and (
        isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or not 1 <= sample_rate <= MAX_SAMPLE_RATE
    ):
        raise ValueError(
            f"`sample_rate` must be None or an int in [1, {MAX_SAMPLE_RATE}] (Hz). Received: sample_rate={sample_rate!r}"
        )
    # A list of numbers is one waveform; a list of anything else is a batch.
    single = _is_clip(audio) or (
        isinstance(audio, (list, tuple)) and len(audio) > 0 and isinstance(audio[0], (numbers.Number, np.number))
    )
    items = [audio] if single else audio
    if not isinstance(items, (list, tuple)):
        raise TypeError(
            f"`{name}` must be a WAV path, WAV bytes, an audio array or a list of them. "
            f"Received: {name} of type {type(audio).__name__}"
        )
    out = []
    for i, item in enumerate(items):
        label = name if single else f"{name}[{i}]"
        if isinstance(item, (str, os.PathLike, bytes)):
            samples, rate = read_wav(item, name=label)
            if not samples.size:
                raise ValueError(f"`{label}` is a WAV file without samples. Received: {label} with an empty data chunk")
        else:
            samples, rate = check_audio(item, name=label), sample_rate or model_rate
        out.append(resample(samples, int(rate), model_rate) if rate != model_rate else samples)
    return out, single


def split_long(waveforms, sample_rate, max_seconds):
    """Cuts each waveform longer than `max_seconds` at silences.

    Returns:
        `(pieces, owners)`: the pieces in order and, per piece, the index of its waveform.
    """
    pieces, owners = [], []
    for i, samples in enumerate(waveforms):
        spans = [(0, len(samples))] if len(samples) <= max_seconds * sample_rate else split_at_silences(samples, sample_rate, max_seconds)
        for start, end in spans:
            pieces.append(samples[start:end])
            owners.append(i)
    return pieces, owners


def join_pieces(texts, owners, count):
    """The texts of `split_long`'s pieces joined per waveform with a space (empty texts skipped).

    Examples:
        >>> join_pieces(["one", "two", "", "three"], [0, 0, 1, 2], 3)
        ['one two', '', 'three']
    """
    return [" ".join(t for t, o in zip(texts, owners) if o == i and t) for i in range(count)]


def pad_waveforms(waveforms):
    """A list of 1-D float32 arrays -> `(waveforms (B, N) float32 zero-padded, lengths (B,) int32)`."""
    lengths = np.array([len(w) for w in waveforms], np.int32)
    batch = np.zeros((len(waveforms), int(lengths.max()) if len(lengths) else 0), np.float32)
    for row, samples in zip(batch, waveforms):
        row[: len(samples)] = samples
    return batch, lengths


def decode_wav_batch(data, sample_rate):
    """WAV file bytes `(B,)` (16-bit PCM at `sample_rate`) -> `(waveforms, lengths)`, in graph.

    Examples:
        >>> data = tf.stack([tf.audio.encode_wav(tf.zeros((3, 1)), 8000), tf.audio.encode_wav(tf.zeros((2, 1)), 8000)])
        >>> waveforms, lengths = decode_wav_batch(data, 8000)
        >>> waveforms.shape.as_list(), lengths.numpy().tolist()
        ([2, 3], [3, 2])
    """

    def one(contents):
        samples, rate = tf.audio.decode_wav(contents, desired_channels=1)
        check = tf.debugging.assert_equal(
            rate, sample_rate, message=f"WAV audio must be at the model's rate of {sample_rate} Hz"
        )
        with tf.control_dependencies([check]):
            return tf.identity(samples[:, 0])

    ragged = tf.map_fn(one, data, fn_output_signature=tf.RaggedTensorSpec([None], tf.float32, ragged_rank=0))
    return ragged.to_tensor(), tf.cast(ragged.row_lengths(), tf.int32)
