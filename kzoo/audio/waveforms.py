"""Waveforms in and out: WAV files, input checks, polyphase resampling, splitting long recordings.

Audio in kzoo is a float32 1-D mono array with samples in [-1, 1] and an int sample rate.
`read_wav` parses the RIFF container itself (Microsoft's "Multimedia Programming Interface and
Data Specifications 1.0", 1991, and the WAVE_FORMAT_EXTENSIBLE addendum), so no audio library is
needed. `resample` is the polyphase FIR resampler of Crochiere & Rabiner (1983), "Multirate Digital
Signal Processing", with the Kaiser-windowed low-pass filter (Kaiser 1974) and defaults of
`scipy.signal.resample_poly`, to whose output it is numerically equal.
"""

import math
import os
import struct

import numpy as np

from kzoo.export.atomic import atomic_path

__all__ = ["read_wav", "write_wav", "check_audio", "resample", "split_at_silences"]

# Registered WAVE format tags (RFC 2361, appendix A), named in errors for the common ones.
_FORMAT_NAMES = {
    0x0001: "PCM",
    0x0002: "Microsoft ADPCM",
    0x0003: "IEEE float",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0050: "MPEG",
    0x0055: "MP3",
    0x00FF: "AAC",
    0xFFFE: "WAVE_FORMAT_EXTENSIBLE",
}
_PCM, _FLOAT, _EXTENSIBLE = 0x0001, 0x0003, 0xFFFE

# Integer PCM dtypes `check_audio` accepts, and the divisor that maps each to [-1, 1].
_INT_SCALES = {np.dtype("int16"): 2.0**15, np.dtype("int32"): 2.0**31}

# A 2-D array's channel axis is the shorter one, and at most this long (7.1 surround has 8).
_MAX_CHANNELS = 8

# The highest rate kzoo reads and resamples: what audio interfaces record at. A WAV header can
# claim 4 GHz, and the resampling filter grows with the rates (gigabytes beyond this).
MAX_SAMPLE_RATE = 768_000


# === Reading and writing WAV files ===


def read_wav(source, name="source"):
    """Reads a WAV file into float32 mono samples in [-1, 1] and its sample rate.

    Supports PCM 8-bit unsigned, 16, 24 and 32-bit signed, IEEE float 32 and 64 bits, plainly
    (format tags 1 and 3) or as WAVE_FORMAT_EXTENSIBLE (0xFFFE) with those sub-formats. Chunks
    other than `fmt ` and `data` (`LIST`, `fact`, `cue `, ...) are skipped. Several channels are
    mixed to mono by their mean; float samples beyond [-1, 1] are clipped.

    Args:
        source: a path (`str` or `os.PathLike`) or the file's contents as bytes.
        name: how errors name the argument.

    Returns:
        `(samples, sample_rate)`: a float32 array `(num_samples,)` and an int.

    Raises:
        ValueError: naming the source and what is wrong: not a RIFF/WAVE file, no `fmt ` or
            `data` chunk, a truncated chunk, an unsupported format tag, bit depth or a sample
            rate above `MAX_SAMPLE_RATE`.
        FileNotFoundError: a path that is not a file.

    Examples:
        >>> import io, wave
        >>> buffer = io.BytesIO()
        >>> with wave.open(buffer, "wb") as f:
        ...     f.setnchannels(1); f.setsampwidth(2); f.setframerate(8000)
        ...     f.writeframes(np.array([0, 16384, -32768], "<i2").tobytes())
        >>> read_wav(buffer.getvalue())
        (array([ 0. ,  0.5, -1. ], dtype=float32), 8000)
    """
    data, where = _read_source(source, name)

    def fail(problem):
        return ValueError(f"`{name}` is not WAV audio kzoo can read: {problem}. Received: {name}={where}")

    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise fail(f"not a RIFF/WAVE file (it starts with {bytes(data[:12])!r})")
    fmt, payload = None, None
    offset = 12
    while offset + 8 <= len(data):
        chunk_id = bytes(data[offset : offset + 4])
        (size,) = struct.unpack_from("<I", data, offset + 4)
        body = offset + 8
        if chunk_id == b"data":
            if body + size > len(data):
                raise fail(
                    f"truncated data chunk ({size} bytes declared, {len(data) - body} present)"
                )
            payload = data[body : body + size]
        elif chunk_id == b"fmt ":
            if body + size > len(data) or size < 16:
                raise fail(f"truncated fmt chunk ({size} bytes declared, {len(data) - body} present)")
            fmt = data[body : body + size]
        offset = body + size + (size & 1)  # chunks are padded to an even length
    if fmt is None:
        raise fail("no fmt chunk")
    if payload is None:
        raise fail("no data chunk")
    tag, channels, sample_rate, _, _, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE:
        if len(fmt) < 40:
            raise fail(f"truncated WAVE_FORMAT_EXTENSIBLE fmt chunk ({len(fmt)} bytes, 40 needed)")
        (tag,) = struct.unpack_from("<H", fmt, 24)  # the sub-format GUID starts with the tag
    if tag not in (_PCM, _FLOAT):
        format_name = _FORMAT_NAMES.get(tag, "unknown")
        raise fail(f"unsupported format tag {tag} ({format_name}); only PCM and IEEE float are supported")
    if channels < 1 or sample_rate < 1:
        raise fail(f"invalid fmt chunk ({channels} channels, sample rate {sample_rate})")
    if sample_rate > MAX_SAMPLE_RATE:
        raise fail(f"sample rate {sample_rate} Hz is above the {MAX_SAMPLE_RATE} Hz kzoo supports")
    dtypes = {_PCM: {8: "u1", 16: "<i2", 24: "i3", 32: "<i4"}, _FLOAT: {32: "<f4", 64: "<f8"}}
    if bits not in dtypes[tag]:
        raise fail(
            f"unsupported {_FORMAT_NAMES[tag]} bit depth {bits} "
            f"(supported: {', '.join(map(str, dtypes[tag]))})"
        )
    frame_bytes = channels * bits // 8
    if len(payload) % frame_bytes:
        raise fail(
            f"truncated data chunk ({len(payload)} bytes is not a whole number of "
            f"{frame_bytes}-byte sample frames)"
        )
    samples = _decode(payload, dtypes[tag][bits])
    if tag == _FLOAT:
        if not np.all(np.isfinite(samples)):
            first = int(np.flatnonzero(~np.isfinite(samples))[0]) // channels
            raise fail(f"non-finite float sample (NaN or inf) at sample {first}")
        samples = np.clip(samples, -1.0, 1.0)
    mono = samples.reshape(-1, channels).mean(axis=1)  # (num_samples, C) -> (num_samples,)
    return mono.astype("float32"), int(sample_rate)


def _read_source(source, name):
    """The bytes of `source` and how to name it in errors."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return data, f"<{len(data)} bytes>"
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"`{name}` is not a file. Received: {name}={path!r}")
        with open(path, "rb") as f:
            return f.read(), repr(path)
    raise TypeError(
        f"`{name}` must be a path (str or os.PathLike) or the WAV file's bytes. "
        f"Received: {name} of type {type(source).__name__}"
    )


def _decode(payload, dtype):
    """Little-endian samples of `dtype` ("i3" is packed 24-bit) as float64 in [-1, 1]."""
    raw = np.frombuffer(payload, dtype="u1")
    if dtype == "u1":
        return (raw.astype("float64") - 128.0) / 128.0
    if dtype == "i3":
        # Put the 3 bytes in the high bytes of an int32: its value is the 24-bit sample * 2**8.
        wide = np.zeros((raw.size // 3, 4), "u1")
        wide[:, 1:] = raw.reshape(-1, 3)
        return wide.view("<i4")[:, 0] / 2.0**31
    values = np.frombuffer(payload, dtype=dtype)
    if values.dtype.kind == "f":
        return values.astype("float64")
    return values / (2.0 ** (8 * values.itemsize - 1))


def write_wav(path, samples, sample_rate):
    """Writes mono 16-bit PCM WAV, atomically (a crash never leaves a half-written file).

    Args:
        path: the file to write.
        samples: mono or multichannel audio in any form `check_audio` accepts; float values
            outside [-1, 1] are clipped instead of rejected.
        sample_rate: samples per second, a positive int.

    Examples:
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
        >>> write_wav(path, [0.0, 0.5, -2.0], 16000)
        >>> read_wav(path)
        (array([ 0. ,  0.5, -1. ], dtype=float32), 16000)
    """
    _check_rate("sample_rate", sample_rate)
    array = np.asarray(samples)
    if array.dtype.kind == "f":
        array = np.clip(array, -1.0, 1.0)
    mono = check_audio(array, name="samples")
    pcm = np.clip(np.round(mono.astype("float64") * 2.0**15), -(2**15), 2**15 - 1).astype("<i2")
    data = pcm.tobytes()
    fmt = struct.pack("<HHIIHH", _PCM, 1, sample_rate, sample_rate * 2, 2, 16)
    header = b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE"
    header += b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data))
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(header + data)


# === Checking audio arrays ===


def check_audio(audio, name="audio"):
    """Validates audio and returns it as a float32 1-D mono array in [-1, 1].

    Accepted forms: a 1-D NumPy array, list or `tf.Tensor` of floats in [-1, 1] or of integer
    PCM (int16 scaled by 1/32768, int32 by 1/2**31, uint8 as `(x - 128) / 128`, int64 like int16
    when every value fits in the int16 range); or a 2-D array of those, channels last
    `(samples, C)` or channels first `(C, samples)`, mixed to mono by the mean. The channel axis
    is the shorter axis, which must have length <= 8 (for two equal axes, channels last).

    Args:
        audio: the audio to check.
        name: how errors name the argument.

    Returns:
        A new float32 array `(num_samples,)`.

    Raises:
        TypeError: a non-numeric or boolean dtype.
        ValueError: no samples, more than 2 dimensions, NaN or inf (the first bad sample is
            named), floats beyond [-1, 1], int64 beyond the int16 range.

    Examples:
        >>> check_audio(np.array([0, 16384, -32768], "int16"))
        array([ 0. ,  0.5, -1. ], dtype=float32)
        >>> check_audio(np.array([[1.0, 0.0], [0.5, 0.5]]))  # (samples, 2) stereo to mono
        array([0.5, 0.5], dtype=float32)
        >>> check_audio([0.5, 2.0], name="waveform")
        Traceback (most recent call last):
        ValueError: `waveform` floats must lie in [-1, 1]; pass int16 PCM as int16. Received: max |waveform|=2 at sample 1
    """
    return _to_mono(audio, name, unit_range=True)


_EXPECTED = (
    "a 1-D waveform (samples,) or a 2-D array (samples, channels) / (channels, samples) of floats "
    "in [-1, 1] or int16 / int32 / int64 / uint8 PCM"
)


def _to_mono(audio, name, unit_range):
    """`check_audio`; with `unit_range=False` floats of any finite magnitude are accepted."""
    try:
        array = np.asarray(audio)
    except (ValueError, TypeError) as error:  # ragged nested lists
        raise ValueError(f"`{name}` must be {_EXPECTED}. Received: {name} that NumPy cannot read ({error})") from None
    kind = array.dtype.kind
    if kind not in "fiu":
        raise TypeError(f"`{name}` must be {_EXPECTED}. Received: {name}.dtype={array.dtype}")
    if array.ndim not in (1, 2):
        raise ValueError(f"`{name}` must be {_EXPECTED}. Received: {name}.shape={array.shape}")
    if array.size == 0:
        raise ValueError(f"`{name}` has no samples: expected {_EXPECTED}. Received: {name}.shape={array.shape}")
    if array.ndim == 2:
        rows, cols = array.shape
        if min(rows, cols) > _MAX_CHANNELS:
            raise ValueError(
                f"`{name}` is 2-D but neither axis looks like channels (at most {_MAX_CHANNELS}): "
                f"expected (samples, channels) or (channels, samples). Received: {name}.shape={array.shape}"
            )
        if rows < cols:
            array = array.T  # (C, samples) -> (samples, C)
    else:
        array = array[:, None]  # (samples,) -> (samples, 1)
    samples = _scale(array, name, unit_range)  # (samples, C), float64
    return samples.mean(axis=1).astype("float32")


def _scale(array, name, unit_range):
    """`(samples, C)` of any accepted dtype -> float64 in [-1, 1] (or any finite floats)."""
    where = (lambda i, c: f"sample {i}, channel {c}") if array.shape[1] > 1 else (lambda i, c: f"sample {i}")
    dtype = array.dtype
    if dtype.kind == "f":
        values = array.astype("float64")
        bad = ~np.isfinite(values)
        if bad.any():
            i, c = np.argwhere(bad)[0]
            raise ValueError(
                f"`{name}` contains NaN or inf: expected finite floats in [-1, 1]. "
                f"Received: {name} value {values[i, c]} at {where(i, c)}"
            )
        peak = np.abs(values)
        if unit_range and peak.max() > 1.0:
            i, c = np.unravel_index(np.argmax(peak), peak.shape)
            raise ValueError(
                f"`{name}` floats must lie in [-1, 1]; pass int16 PCM as int16. "
                f"Received: max |{name}|={peak[i, c]:.6g} at {where(i, c)}"
            )
        return values
    if dtype == np.uint8:
        return (array.astype("float64") - 128.0) / 128.0
    if dtype == np.int64:
        low, high = array.min(), array.max()
        if low < -(2**15) or high > 2**15 - 1:
            raise ValueError(
                f"`{name}` int64 values are read as int16 PCM and must lie in [-32768, 32767]; "
                f"pass int32 PCM as int32. Received: {name} values in [{low}, {high}]"
            )
        return array / 2.0**15
    if dtype in _INT_SCALES:
        return array / _INT_SCALES[dtype]
    raise TypeError(f"`{name}` must be {_EXPECTED}. Received: {name}.dtype={dtype}")


# === Resampling ===


def resample(samples, orig_rate, target_rate):
    """Resamples audio by the rational factor `target_rate / orig_rate` with a polyphase FIR.

    Equal to `scipy.signal.resample_poly(samples, up, down)` for `up / down` the rates divided by
    their gcd: a Kaiser-windowed (beta 5.0) sinc low-pass of half length `10 * max(up, down)` and
    cutoff `1 / max(up, down)` of Nyquist, gain `up`, the signal zero-extended at both ends, and
    `ceil(len(samples) * up / down)` outputs. Each output is the dot product of one polyphase
    branch of the filter with the input (Crochiere & Rabiner 1983), so the zero-stuffed signal is
    never formed; a minute at 22,050 Hz resamples to 16 kHz in about a tenth of a second.

    Args:
        samples: audio in any form `check_audio` accepts (mixed to mono); floats need not lie in
            [-1, 1].
        orig_rate: the rate of `samples`, a positive int.
        target_rate: the rate wanted, a positive int.

    Returns:
        A float32 array `(ceil(len(samples) * target_rate / orig_rate),)`; a copy when the rates
        are equal.

    Examples:
        >>> resample(np.ones(8, "float32"), 16000, 8000).shape
        (4,)
    """
    _check_rate("orig_rate", orig_rate)
    _check_rate("target_rate", target_rate)
    orig_rate, target_rate = int(orig_rate), int(target_rate)
    x = _to_mono(samples, "samples", unit_range=False).astype("float64")
    divisor = math.gcd(orig_rate, target_rate)
    up, down = target_rate // divisor, orig_rate // divisor
    if up == down:
        return x.astype("float32")
    bank, half_len = _polyphase_bank(up, down)  # (up, taps)
    taps = bank.shape[1]
    n_out = -(-len(x) * up // down)
    # Output m sits at filter position t = m * down + half_len of the zero-stuffed signal, so it
    # reads input x[t // up - i] through branch t % up: y[m] = sum_i bank[t % up, i] x[t // up - i].
    # Outputs m = q * up + r share the branch of r and read inputs q * down + t_r // up - i.
    last = ((n_out - 1) * down + half_len) // up
    padded = np.concatenate([np.zeros(taps - 1), x, np.zeros(max(0, last + 1 - len(x)))])
    windows = np.lib.stride_tricks.sliding_window_view(padded, taps)  # row j: x[j - taps + 1 : j + 1]
    y = np.empty(n_out)
    for r in range(min(up, n_out)):
        t = r * down + half_len
        rows = windows[t // up :: down][: len(range(r, n_out, up))]  # (Q_r, taps)
        y[r::up] = rows @ bank[t % up, ::-1]
    return y.astype("float32")


def _polyphase_bank(up, down):
    """`scipy.signal.resample_poly`'s default filter split into `up` branches `(up, taps)`."""
    max_rate = max(up, down)
    half_len = 10 * max_rate  # scipy's choice: ten zero crossings of the sinc on each side
    cutoff = 1.0 / max_rate  # of Nyquist: pass what both rates can represent
    offsets = np.arange(2 * half_len + 1) - half_len
    h = cutoff * np.sinc(cutoff * offsets) * np.kaiser(2 * half_len + 1, 5.0)
    h = h / h.sum() * up  # unit gain at DC, times `up` for the energy zero-stuffing spreads out
    taps = -(-len(h) // up)
    bank = np.zeros(taps * up)
    bank[: len(h)] = h
    return bank.reshape(taps, up).T, half_len  # bank[p, i] = h[p + i * up]


def _check_rate(name, rate):
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or rate <= 0:
        raise ValueError(f"`{name}` must be a positive int (samples per second). Received: {name}={rate!r}")
    if rate > MAX_SAMPLE_RATE:
        raise ValueError(f"`{name}` must be at most {MAX_SAMPLE_RATE} samples per second. Received: {name}={rate!r}")


# === Splitting long recordings ===


def split_at_silences(samples, sample_rate, max_seconds=20.0, frame_ms=10.0):
    """Cuts a long recording into spans of at most `max_seconds`, each cut in the quietest spot.

    This is the documented way to transcribe a long recording: split it, transcribe every span
    on its own, and join the texts; a model trained on utterances of a few seconds then never
    sees minutes of audio, and cuts fall in pauses rather than inside words. While more than
    `max_seconds` remain, the next cut is placed at the centre of the frame (of `frame_ms`, on a
    grid from sample 0) with the lowest RMS energy among the frames lying wholly within the last
    third of the allowed window; ties go to the latest such frame. When that third holds no whole
    frame, the cut is at the window's end.

    Args:
        samples: audio in any form `check_audio` accepts; floats need not lie in [-1, 1].
        sample_rate: samples per second, a positive int.
        max_seconds: the longest span, in seconds.
        frame_ms: the energy frame length, in milliseconds.

    Returns:
        A list of `(start, end)` sample indices tiling the whole signal: the first start is 0,
        each end is the next start, the last end is `len(samples)`, no span is longer than
        `max_seconds`; one span when the whole signal fits.

    Examples:
        >>> tone = 0.5 * np.ones(8000, "float32")
        >>> tone[5000:5200] = 0.0  # a pause
        >>> split_at_silences(tone, 1000, max_seconds=6.0)
        [(0, 5195), (5195, 8000)]
    """
    _check_rate("sample_rate", sample_rate)
    for arg, value in (("max_seconds", max_seconds), ("frame_ms", frame_ms)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not value > 0:
            raise ValueError(f"`{arg}` must be a positive number. Received: {arg}={value!r}")
    limit = int(max_seconds * sample_rate)  # the longest span, in samples
    if limit < 1:
        raise ValueError(
            f"`max_seconds` must span at least one sample at sample_rate={sample_rate}. "
            f"Received: max_seconds={max_seconds!r}"
        )
    x = _to_mono(samples, "samples", unit_range=False)
    frame = max(1, round(frame_ms * sample_rate / 1000))
    num_frames = len(x) // frame
    energy = np.square(x[: num_frames * frame].astype("float64")).reshape(num_frames, frame).mean(axis=1)
    spans, start = [], 0
    while len(x) - start > limit:
        end = start + limit
        first = -(-(start + -(-2 * limit // 3)) // frame)  # first frame starting in the last third
        last = end // frame - 1  # last frame ending by `end`
        if first <= last:
            quietest = energy[first : last + 1][::-1].argmin()  # reversed: ties go to the latest
            cut = int(last - quietest) * frame + frame // 2
        else:
            cut = end
        spans.append((start, cut))
        start = cut
    spans.append((start, len(x)))
    return spans
