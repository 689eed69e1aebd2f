"""WAV reading and writing, audio checks, polyphase resampling and silence splitting."""

import doctest
import io
import math
import os
import struct
import time
import wave

import numpy as np
import pytest
import tensorflow as tf

from kzoo.audio import check_audio, read_wav, resample, split_at_silences, write_wav
from kzoo.audio import waveforms as waveforms_module

# The 14 bytes after the format tag in KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT (mmreg.h).
GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"

# Values exactly representable at every bit depth: multiples of 1/128 in [-1, 1).
VALUES = np.array([0.0, 0.5, -0.5, -1.0, 127 / 128, -3 / 128, 1 / 128, 0.25])


def chunk(chunk_id, body):
    return chunk_id + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) % 2)


def wav_bytes(payload, bits, channels=1, rate=16000, tag=1, extensible=False, before_data=b""):
    """A WAV file built by hand: RIFF header, `fmt ` (plain or extensible), extra chunks, `data`."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 0xFFFE if extensible else tag, channels, rate, rate * block, block, bits)
    if extensible:
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", tag) + GUID_TAIL
    body = b"WAVE" + chunk(b"fmt ", fmt) + before_data + chunk(b"data", payload)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def encode(values, bits, tag=1):
    if tag == 3:
        return np.asarray(values, {32: "<f4", 64: "<f8"}[bits]).tobytes()
    if bits == 8:
        return (np.asarray(values) * 128 + 128).astype("u1").tobytes()
    if bits == 24:
        ints = (np.asarray(values) * 2**23).astype(np.int64)
        return b"".join(int(v & 0xFFFFFF).to_bytes(3, "little") for v in ints)
    dtype = {16: "<i2", 32: "<i4"}[bits]
    return (np.asarray(values) * 2.0 ** (bits - 1)).astype(dtype).tobytes()


# === read_wav ===


@pytest.mark.parametrize("extensible", [False, True], ids=["plain", "extensible"])
@pytest.mark.parametrize("bits,tag", [(8, 1), (16, 1), (24, 1), (32, 1), (32, 3), (64, 3)], ids=["u8", "s16", "s24", "s32", "f32", "f64"])
def test_read_wav_round_trips_every_format(bits, tag, extensible):
    data = wav_bytes(encode(VALUES, bits, tag), bits, rate=22050, tag=tag, extensible=extensible)
    samples, rate = read_wav(data)
    assert rate == 22050 and samples.dtype == np.float32
    np.testing.assert_array_equal(samples, VALUES.astype("float32"))


def test_read_wav_mixes_stereo_to_mono_and_skips_unknown_chunks(tmp_path):
    left, right = VALUES, np.roll(VALUES, 3)
    interleaved = np.stack([left, right], axis=1).ravel()  # L0 R0 L1 R1 ...
    extra = chunk(b"LIST", b"INFOISFT\x03\x00\x00\x00kz\x00") + chunk(b"odd ", b"abc")  # odd size: pad byte
    data = wav_bytes(encode(interleaved, 16), 16, channels=2, rate=8000, before_data=extra)
    path = tmp_path / "stereo.wav"
    path.write_bytes(data)
    for source in (data, bytearray(data), path, str(path)):
        samples, rate = read_wav(source)
        assert rate == 8000
        np.testing.assert_allclose(samples, (left + right) / 2, atol=1e-7)


def test_read_wav_agrees_with_the_wave_module_for_16_bit(tmp_path):
    pcm = np.random.default_rng(0).integers(-32768, 32768, size=(500, 2)).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(2)
        f.setsampwidth(2)
        f.setframerate(44100)
        f.writeframes(pcm.tobytes())
    samples, rate = read_wav(buffer.getvalue())
    assert rate == 44100
    np.testing.assert_allclose(samples, pcm.mean(axis=1) / 32768, atol=1e-7)


@pytest.mark.parametrize(
    "data,message",
    [
        (b"ID3\x04" + b"\x00" * 40, r"not a RIFF/WAVE file"),
        (b"RIFF\x04\x00\x00\x00AVI ", r"not a RIFF/WAVE file"),
        (wav_bytes(b"", 16)[: -8], r"no data chunk"),
        (wav_bytes(b"\x00" * 100, 16)[:-60], r"truncated data chunk \(100 bytes declared, 40 present\)"),
        (wav_bytes(b"\x00" * 5, 16), r"truncated data chunk \(5 bytes is not a whole number of 2-byte"),
        (wav_bytes(b"\x00" * 8, 16, tag=85), r"unsupported format tag 85 \(MP3\)"),
        (wav_bytes(b"\x00" * 8, 16, tag=85, extensible=True), r"unsupported format tag 85 \(MP3\)"),
        (wav_bytes(b"\x00" * 8, 12), r"unsupported PCM bit depth 12"),
        (b"RIFF\x04\x00\x00\x00WAVE" + chunk(b"data", b"\x00\x00"), r"no fmt chunk"),
    ],
)
def test_read_wav_errors_name_the_problem_and_source(data, message):
    with pytest.raises(ValueError, match=message + rf".*Received: source=<{len(data)} bytes>"):
        read_wav(data)


def test_read_wav_error_names_the_path(tmp_path):
    path = tmp_path / "song.mp3"
    path.write_bytes(b"ID3\x04" + b"\x00" * 40)
    with pytest.raises(ValueError, match=r"not a RIFF/WAVE file.*Received: source='.*song\.mp3'"):
        read_wav(path)
    with pytest.raises(TypeError, match=r"Received: source of type int"):
        read_wav(3)


# === write_wav ===


def test_write_wav_is_16_bit_mono_clipped_and_readable_by_wave(tmp_path):
    path = tmp_path / "out" / "speech.wav"
    samples = np.array([0.0, 0.5, -0.25, 1.5, -3.0, 1 / 32768], "float32")
    write_wav(path, samples, 16000)
    assert os.listdir(path.parent) == ["speech.wav"]  # no temporary file left behind
    with wave.open(str(path), "rb") as f:
        assert (f.getnchannels(), f.getsampwidth(), f.getframerate()) == (1, 2, 16000)
        pcm = np.frombuffer(f.readframes(f.getnframes()), "<i2")
    np.testing.assert_array_equal(pcm, [0, 16384, -8192, 32767, -32768, 1])
    again, rate = read_wav(path)
    assert rate == 16000
    np.testing.assert_allclose(again, np.clip(samples, -1, 32767 / 32768), atol=1e-7)


def test_write_wav_rejects_a_bad_rate(tmp_path):
    with pytest.raises(ValueError, match=r"`sample_rate` must be a positive int .*Received: sample_rate=16000.0"):
        write_wav(tmp_path / "x.wav", [0.0], 16000.0)


# === check_audio ===


@pytest.mark.parametrize(
    "audio,expected",
    [
        (np.array([0, 16384, -32768], "int16"), [0.0, 0.5, -1.0]),
        (np.array([0, 2**30, -(2**31)], "int32"), [0.0, 0.5, -1.0]),
        (np.array([128, 192, 0], "uint8"), [0.0, 0.5, -1.0]),
        (np.array([0, 16384, -32768], "int64"), [0.0, 0.5, -1.0]),
        ([0, 16384, -32768], [0.0, 0.5, -1.0]),
        ([0.0, 0.5, -1.0], [0.0, 0.5, -1.0]),
        (tf.constant([0.0, 0.5, -1.0]), [0.0, 0.5, -1.0]),
        (np.array([0.0, 0.5, -1.0], "float16"), [0.0, 0.5, -1.0]),
    ],
    ids=["int16", "int32", "uint8", "int64", "int_list", "float_list", "tensor", "float16"],
)
def test_check_audio_scales_every_accepted_form(audio, expected):
    out = check_audio(audio)
    assert out.dtype == np.float32 and out.ndim == 1
    np.testing.assert_array_equal(out, expected)


def test_check_audio_mixes_channels_last_and_first():
    stereo = np.random.default_rng(1).uniform(-1, 1, size=(1000, 2)).astype("float32")
    mono = stereo.mean(axis=1)
    np.testing.assert_allclose(check_audio(stereo), mono, atol=1e-7)
    np.testing.assert_allclose(check_audio(stereo.T), mono, atol=1e-7)
    np.testing.assert_allclose(check_audio((stereo * 32767).astype("int16").T), mono, atol=1e-4)
    assert check_audio(np.zeros((1, 50))).shape == (50,)


def test_check_audio_returns_a_copy():
    audio = np.zeros(4, "float32")
    check_audio(audio)[0] = 1.0
    assert audio[0] == 0.0


@pytest.mark.parametrize(
    "audio,error,message",
    [
        (np.zeros(0, "float32"), ValueError, r"`clip` has no samples: expected a 1-D waveform.*Received: clip.shape=\(0,\)"),
        (np.zeros((0, 2)), ValueError, r"`clip` has no samples.*Received: clip.shape=\(0, 2\)"),
        (np.array([0.0, 0.1, 0.2, np.nan]), ValueError, r"`clip` contains NaN or inf.*Received: clip value nan at sample 3$"),
        (
            np.array([[0.0] * 8, [0.0] * 5 + [np.inf] + [0.0] * 2]),
            ValueError,
            r"`clip` contains NaN or inf.*Received: clip value inf at sample 5, channel 1$",
        ),
        (np.array(["a", "b"]), TypeError, r"`clip` must be a 1-D waveform.*Received: clip.dtype=<U1"),
        (np.array([object(), 1]), TypeError, r"Received: clip.dtype=object"),
        (np.array([True, False]), TypeError, r"Received: clip.dtype=bool"),
        (np.array([1 + 1j]), TypeError, r"Received: clip.dtype=complex128"),
        (np.zeros((2, 3, 4)), ValueError, r"`clip` must be a 1-D waveform.*Received: clip.shape=\(2, 3, 4\)"),
        (np.zeros(()), ValueError, r"Received: clip.shape=\(\)"),
        (np.zeros((20, 30)), ValueError, r"neither axis looks like channels.*Received: clip.shape=\(20, 30\)"),
        (
            np.array([0.5, -1.5, 1.2]),
            ValueError,
            r"`clip` floats must lie in \[-1, 1\]; pass int16 PCM as int16. Received: max \|clip\|=1.5 at sample 1",
        ),
        (np.array([0, 40000]), ValueError, r"int64 values are read as int16 PCM.*Received: clip values in \[0, 40000\]"),
        (np.array([1, 2], "int8"), TypeError, r"Received: clip.dtype=int8"),
        ([[0.0, 1.0], [0.0]], ValueError, r"NumPy cannot read"),
    ],
    ids=[
        "empty", "empty_2d", "nan", "inf_2d", "strings", "objects", "bools", "complex", "3d", "scalar",
        "no_channel_axis", "beyond_unit", "int64_beyond_int16", "int8", "ragged",
    ],
)
def test_check_audio_errors(audio, error, message):
    with pytest.raises(error, match=message):
        check_audio(audio, name="clip")


# === resample ===


@pytest.mark.parametrize("rates", [(8000, 16000), (22050, 16000), (16000, 8000), (44100, 16000), (16000, 22050)])
@pytest.mark.parametrize("length", [1, 2, 37, 1000, 4411])
def test_resample_equals_scipy_resample_poly(rates, length):
    signal = pytest.importorskip("scipy.signal")
    x = np.random.default_rng(length).uniform(-1, 1, size=length)
    orig, target = rates
    g = math.gcd(orig, target)
    expected = signal.resample_poly(x, target // g, orig // g)
    got = resample(x, orig, target)
    assert got.dtype == np.float32 and got.shape == expected.shape == (math.ceil(length * target / orig),)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_resample_same_rate_is_a_float32_copy():
    x = np.linspace(-1, 1, 11, dtype="float32")
    y = resample(x, 16000, 16000)
    np.testing.assert_array_equal(y, x)
    y[0] = 0.0
    assert x[0] == -1.0
    assert resample(np.array([0, 16384], "int16"), 8000, 8000).tolist() == [0.0, 0.5]


def test_resample_one_minute_of_22050_hz_audio_is_fast():
    x = np.random.default_rng(0).uniform(-1, 1, size=22050 * 60).astype("float32")
    start = time.perf_counter()
    y = resample(x, 22050, 16000)
    assert y.shape == (16000 * 60,)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("name,orig,target", [("orig_rate", 0, 16000), ("target_rate", 16000, 8000.0), ("orig_rate", True, 8000)])
def test_resample_rejects_bad_rates(name, orig, target):
    with pytest.raises(ValueError, match=rf"`{name}` must be a positive int \(samples per second\). Received: {name}="):
        resample(np.zeros(10), orig, target)


# === split_at_silences ===


def noise(seconds, rate, seed=0):
    return np.random.default_rng(seed).uniform(-0.5, 0.5, size=int(seconds * rate)).astype("float32")


def check_tiling(spans, length, limit):
    assert spans[0][0] == 0 and spans[-1][1] == length
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert all(0 < end - start <= limit for start, end in spans)


def test_split_returns_one_span_when_the_signal_fits():
    assert split_at_silences(noise(20.0, 8000), 8000, max_seconds=20.0) == [(0, 160000)]
    assert split_at_silences(np.zeros(1), 8000) == [(0, 1)]


def test_split_tiles_the_signal_within_the_limit_cutting_in_the_last_third():
    rate, x = 8000, noise(95.3, 8000)
    spans = split_at_silences(x, rate, max_seconds=20.0)
    limit = 20 * rate
    check_tiling(spans, len(x), limit)
    assert 5 <= len(spans) <= 8  # every span but the last is at least 2/3 of the limit
    for start, end in spans[:-1]:
        assert end - start >= 2 * limit / 3


def test_split_cuts_inside_a_silent_gap():
    rate = 8000
    x = noise(30.0, rate)
    x[int(15.0 * rate) : int(15.5 * rate)] = 0.0  # a pause 15 s in, within the last third of 20 s
    x[int(5.0 * rate) : int(5.5 * rate)] = 0.0  # a pause too early to be used
    spans = split_at_silences(x, rate, max_seconds=20.0, frame_ms=10.0)
    check_tiling(spans, len(x), 20 * rate)
    assert len(spans) == 2
    assert 15.0 * rate <= spans[0][1] < 15.5 * rate


def test_split_cuts_at_the_quietest_frame_of_a_quiet_stretch():
    rate = 1000
    x = noise(10.0, rate)
    x[6000:6100] *= 0.1
    x[6500:6600] *= 0.01  # the quietest stretch
    spans = split_at_silences(x, rate, max_seconds=8.0)
    check_tiling(spans, len(x), 8 * rate)
    assert 6500 <= spans[0][1] < 6600


def test_split_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"`max_seconds` must be a positive number. Received: max_seconds=0"):
        split_at_silences(np.zeros(10), 8000, max_seconds=0)
    with pytest.raises(ValueError, match=r"`max_seconds` must span at least one sample.*Received: max_seconds=1e-05"):
        split_at_silences(np.zeros(10), 8000, max_seconds=1e-5)
    with pytest.raises(ValueError, match=r"`frame_ms` must be a positive number. Received: frame_ms=-1"):
        split_at_silences(np.zeros(10), 8000, frame_ms=-1)
    with pytest.raises(ValueError, match=r"`samples` has no samples"):
        split_at_silences(np.zeros(0), 8000)


def test_docstring_examples():
    result = doctest.testmod(waveforms_module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
