"""The speech front end layers: LogMelSpectrogram, SpecAugment, UtteranceNormalization, SpeedPerturbation,
FrequencyWarp."""

import doctest
import importlib
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from kzoo.export import convert, interpreter, run
from kzoo.layers import FrequencyWarp, LogMelSpectrogram, SpecAugment, SpeedPerturbation, UtteranceNormalization
from kzoo.testing.layer_test import run_layer_test

RATE = 16000


def chirp(seconds, rate=RATE, seed=0):
    """A 100 Hz -> 6 kHz chirp over faint noise, so that every mel bin holds energy."""
    t = np.arange(int(round(seconds * rate))) / rate
    sweep = 0.5 * np.sin(2 * np.pi * (100 * t + (5900 / (2 * seconds)) * t**2))
    return (sweep + 0.01 * np.random.default_rng(seed).normal(size=t.size)).astype("float32")


def reference_log_mel(x, rate, frame_length, frame_step, fft_length, num_mel_bins, lower_hz, upper_hz, offset=1e-6):
    """NumPy by hand: a zero-padded framing, periodic Hann, |rfft|^2, tf's HTK-mel triangles, log."""
    frames = -(-len(x) // frame_step)
    padded = np.concatenate([x.astype("float64"), np.zeros((frames - 1) * frame_step + frame_length - len(x))])
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame_length) / frame_length)  # periodic
    index = np.arange(frames)[:, None] * frame_step + np.arange(frame_length)  # (frames, frame_length)
    power = np.abs(np.fft.rfft(padded[index] * window, n=fft_length)) ** 2  # (frames, bins)

    def mel(hz):
        return 1127.0 * np.log1p(hz / 700.0)

    linear = mel(np.linspace(0, rate / 2, fft_length // 2 + 1)[1:])[:, None]  # the DC bin gets no weight
    edges = np.linspace(mel(lower_hz), mel(upper_hz), num_mel_bins + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    weights = np.maximum(0.0, np.minimum((linear - lower) / (center - lower), (upper - linear) / (upper - center)))
    weights = np.concatenate([np.zeros((1, num_mel_bins)), weights])  # (bins, num_mel_bins)
    return np.log(power @ weights + offset)


# === LogMelSpectrogram ===


def test_log_mel_layer_contract():
    waveforms = np.random.default_rng(0).uniform(-0.5, 0.5, size=(2, 801)).astype("float32")
    run_layer_test(
        LogMelSpectrogram,
        {"sample_rate": 8000, "num_mel_bins": 20},
        waveforms,
        expected_output_shape=[(2, 11, 20), (2, 11)],
    )


def test_log_mel_with_lengths_survives_keras_save_and_load(tmp_path):
    layer = LogMelSpectrogram(sample_rate=8000, num_mel_bins=16, fft_length=512, upper_edge_hz=3500.0)
    waveforms, lengths = keras.Input((None,)), keras.Input((), dtype="int32")
    model = keras.Model([waveforms, lengths], layer(waveforms, lengths))
    path = os.path.join(tmp_path, "front_end.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[-1].get_config() == layer.get_config()
    feed = [np.stack([chirp(0.2, 8000), chirp(0.2, 8000, seed=1)]), np.array([1600, 700])]
    for got, want in zip(loaded(feed), model(feed)):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


@pytest.mark.parametrize(
    "config,frame_length,frame_step,fft_length",
    [
        ({}, 400, 160, 512),
        ({"sample_rate": 8000, "num_mel_bins": 40, "fft_length": 512, "lower_edge_hz": 60.0, "upper_edge_hz": 3800.0}, 200, 80, 512),
    ],
)
def test_log_mel_equals_numpy_stft_and_mel_filterbank(config, frame_length, frame_step, fft_length):
    layer = LogMelSpectrogram(**config)
    rate = layer.sample_rate
    assert (layer.frame_length, layer.frame_step) == (frame_length, frame_step)
    x = chirp(0.5, rate)
    features, mask = layer(x[None])
    expected = reference_log_mel(
        x, rate, frame_length, frame_step, fft_length, layer.num_mel_bins, layer.lower_edge_hz,
        config.get("upper_edge_hz", rate / 2),
    )
    assert features.shape == (1, -(-len(x) // frame_step), layer.num_mel_bins)
    assert np.all(np.asarray(mask))
    np.testing.assert_allclose(np.asarray(features)[0], expected, rtol=1e-3, atol=1e-3)


def test_log_mel_lengths_mask_frames_and_padding_does_not_leak():
    layer = LogMelSpectrogram()
    alone = chirp(0.37)  # 5920 samples: 37 frames
    batch = np.stack([chirp(1.0, seed=1), np.concatenate([alone, np.ones(16000 - 5920, "float32")])])
    features, mask = layer(batch, np.array([16000, 5920]))
    features, mask = np.asarray(features), np.asarray(mask)
    assert features.shape == (2, 100, 80)
    assert mask[0].all() and mask[1].sum() == 37 and mask[1, :37].all()
    assert np.all(features[1, 37:] == 0)
    single, _ = layer(alone[None])
    np.testing.assert_allclose(features[1, :37], np.asarray(single)[0], atol=1e-4)


def test_num_frames_is_ceil_of_lengths_over_step():
    layer = LogMelSpectrogram()
    lengths = np.array([0, 1, 159, 160, 161, 16000])
    np.testing.assert_array_equal(np.asarray(layer.num_frames(lengths)), [0, 1, 1, 1, 2, 100])
    _, mask = layer(np.zeros((6, 16000), "float32"), lengths)
    np.testing.assert_array_equal(np.asarray(mask).sum(axis=1), [0, 1, 1, 1, 2, 100])


def test_log_mel_converts_to_tflite_with_builtin_ops_and_matches(tmp_path):
    layer = LogMelSpectrogram()
    function = tf.function(lambda waveforms, lengths: layer(waveforms, lengths))
    signature = [tf.TensorSpec([1, None], tf.float32), tf.TensorSpec([1], tf.int32)]
    path = tmp_path / "log_mel.tflite"
    convert(function, signature, path=path, builtin_only=True)  # raises if a Select TF op is needed
    tflite = interpreter(str(path))
    for seconds in (1.0, 0.37):
        x = chirp(seconds)[None]
        lengths = np.array([x.shape[1] - 100], "int32")
        got_features, got_mask = run(tflite, x, lengths)
        features, mask = layer(x, lengths)
        np.testing.assert_array_equal(got_mask, np.asarray(mask))
        np.testing.assert_allclose(got_features, np.asarray(features), atol=1e-3)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (
            {"fft_length": 400},
            r"`fft_length` must be a power of two >= the frame length \(400 samples, so at least 512\), because "
            r"TFLite's RFFT2D kernel accepts only power-of-two sizes. Received: fft_length=400",
        ),
        ({"fft_length": 256}, r"power of two >= the frame length.*Received: fft_length=256"),
        ({"sample_rate": 16000.0}, r"`sample_rate` must be a positive int. Received: sample_rate=16000.0"),
        ({"num_mel_bins": 0}, r"`num_mel_bins` must be a positive int. Received: num_mel_bins=0"),
        ({"frame_step_ms": 0}, r"`frame_step_ms` must be a positive number. Received: frame_step_ms=0"),
        ({"frame_length_ms": 0.01}, r"`frame_length_ms` must span at least one sample at sample_rate=16000. Received: frame_length_ms=0.01"),
        ({"upper_edge_hz": 9000.0}, r"sample_rate / 2 = 8000. Received: lower_edge_hz=20.0, upper_edge_hz=9000.0"),
        ({"log_offset": 0.0}, r"`log_offset` must be a positive number. Received: log_offset=0.0"),
        ({"lower_edge_hz": "20"}, r"`lower_edge_hz` must be a number. Received: lower_edge_hz='20'"),
        ({"lower_edge_hz": None}, r"`lower_edge_hz` must be a number. Received: lower_edge_hz=None"),
        ({"upper_edge_hz": [4000]}, r"`upper_edge_hz` must be a number or None. Received: upper_edge_hz=\[4000\]"),
    ],
)
def test_log_mel_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LogMelSpectrogram(**kwargs)


# === SpecAugment ===

FEATURES = np.random.default_rng(2).normal(size=(4, 120, 40)).astype("float32") + 5.0  # no zeros
VALID = np.array([120, 90, 30, 1])
MASK = np.arange(120)[None, :] < VALID[:, None]


def test_spec_augment_layer_contract_is_identity_at_inference():
    _, (out,) = run_layer_test(SpecAugment, {"seed": 3}, FEATURES[:2, :30], expected_output_shape=(2, 30, 40))
    np.testing.assert_array_equal(out, FEATURES[:2, :30])
    np.testing.assert_array_equal(np.asarray(SpecAugment()(FEATURES, mask=MASK, training=False)), FEATURES)


def test_spec_augment_masks_whole_bands_and_spans_within_bounds():
    layer = SpecAugment(frequency_masks=2, frequency_mask_width=6, time_masks=2, time_mask_width=10, max_time_fraction=0.2, seed=11)
    masked_any = False
    for _ in range(10):
        out = np.asarray(layer(FEATURES, mask=MASK, training=True))
        for row, valid in zip(out, VALID):
            zero = row[:valid] == 0  # (valid, bins)
            bands = zero.all(axis=0)  # whole frequency bands over the valid frames
            spans = zero.all(axis=1)  # whole frames
            np.testing.assert_array_equal(zero, bands[None, :] | spans[:, None])
            if not spans.all():
                assert bands.sum() <= 2 * 6
            assert spans.sum() <= 2 * min(10, int(0.2 * valid))
            masked_any |= bool(zero.any())
        for i, valid in enumerate(VALID):
            np.testing.assert_array_equal(out[i, valid:], FEATURES[i, valid:])  # padded frames untouched
    assert masked_any


def test_spec_augment_same_seed_same_masks_and_fresh_masks_per_call():
    first = np.asarray(SpecAugment(seed=5)(FEATURES, mask=MASK, training=True))
    again = np.asarray(SpecAugment(seed=5)(FEATURES, mask=MASK, training=True))
    np.testing.assert_array_equal(first, again)
    layer = SpecAugment(seed=5)
    calls = [np.asarray(layer(FEATURES, mask=MASK, training=True)) for _ in range(2)]
    assert not np.array_equal(calls[0], calls[1])


def test_spec_augment_in_a_compiled_graph_without_mask():
    layer = SpecAugment(time_mask_width=20, max_time_fraction=0.5, seed=2)
    out = np.asarray(tf.function(lambda x: layer(x, training=True), jit_compile=True)(FEATURES))
    zero = out == 0
    assert zero.any()
    for row in zero:
        np.testing.assert_array_equal(row, row.all(axis=0)[None, :] | row.all(axis=1)[:, None])


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"max_time_fraction": 1.5}, r"`max_time_fraction` must be in \[0, 1\]. Received: max_time_fraction=1.5"),
        ({"time_masks": -1}, r"`time_masks` must be an int >= 0. Received: time_masks=-1"),
        ({"frequency_mask_width": 2.5}, r"`frequency_mask_width` must be an int >= 0. Received: frequency_mask_width=2.5"),
    ],
)
def test_spec_augment_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SpecAugment(**kwargs)


# === UtteranceNormalization ===


def test_utterance_normalization_layer_contract():
    run_layer_test(UtteranceNormalization, {}, FEATURES[:3, :20, :6], mask=MASK[:3, :20] | (np.arange(20) < 7), expected_output_shape=(3, 20, 6))


def test_utterance_normalization_equals_numpy_over_valid_frames():
    out = np.asarray(UtteranceNormalization(epsilon=1e-5)(FEATURES, mask=MASK))
    for i, valid in enumerate(VALID):
        x = FEATURES[i, :valid].astype("float64")
        expected = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
        np.testing.assert_allclose(out[i, :valid], expected, atol=1e-4)
        assert np.all(out[i, valid:] == 0)
    no_mask = np.asarray(UtteranceNormalization()(FEATURES))
    x = FEATURES.astype("float64")
    np.testing.assert_allclose(no_mask, (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5), atol=1e-4)


def test_utterance_normalization_of_a_fully_masked_row_is_zero():
    out = np.asarray(UtteranceNormalization()(FEATURES[:2], mask=np.zeros((2, 120), bool)))
    assert np.all(out == 0)
    with pytest.raises(ValueError, match=r"`epsilon` must be a positive number. Received: epsilon=0"):
        UtteranceNormalization(epsilon=0)


# === SpeedPerturbation ===


def test_speed_perturbation_reads_each_row_at_its_own_rate():
    lengths = np.array([1000, 640, 1, 0])
    valid = np.arange(1000) < lengths[:, None]
    ramps = np.where(valid, 0.001 * np.arange(1000) + 0.5, 0).astype("float32")  # linear: interpolation is exact
    noise = np.where(valid, np.random.default_rng(0).normal(size=(4, 1000)), 0).astype("float32")
    ramp_out, ramp_lengths = (np.asarray(t) for t in SpeedPerturbation(0.8, 1.25, seed=3)(ramps, lengths, training=True))
    out, new_lengths = (np.asarray(t) for t in SpeedPerturbation(0.8, 1.25, seed=3)(noise, lengths, training=True))
    assert out.shape == (4, 1250)
    np.testing.assert_array_equal(new_lengths, ramp_lengths)  # the same seed draws the same factors
    factors = np.array([(ramp_out[i, n - 1] - ramp_out[i, 0]) / (0.001 * (n - 1)) for i, n in enumerate(ramp_lengths[:2])])
    assert 0.8 <= factors.min() and factors.max() <= 1.25 and abs(factors[0] - factors[1]) > 1e-3
    for row, length, factor, new_length, result in zip(noise[:2], lengths, factors, new_lengths, out):
        assert new_length == np.floor((length - 1) / factor) + 1
        grid = np.arange(new_length)
        np.testing.assert_allclose(result[:new_length], np.interp(grid * factor, np.arange(length), row[:length]), atol=1e-3)
        assert not result[new_length:].any()
    assert new_lengths[2] == 1 and out[2, 0] == noise[2, 0] and not out[2, 1:].any()  # one sample stays one sample
    assert new_lengths[3] == 0 and not out[3].any()
    same, kept = SpeedPerturbation()(noise, lengths, training=False)
    np.testing.assert_array_equal(np.asarray(same), noise)
    np.testing.assert_array_equal(np.asarray(kept), lengths)


def test_speed_perturbation_worked_example_config_and_errors(tmp_path):
    out, lengths = SpeedPerturbation(2.0 / 3.0, 1.0, seed=0)(np.array([[0.0, 3.0, 6.0, 9.0]], "float32"), np.array([4]), training=True)
    assert lengths.numpy()[0] in range(4, 6) and out.shape == (1, 6)
    exact, n = SpeedPerturbation(0.5, 0.5)(np.array([[0.0, 2.0, 4.0]], "float32"), np.array([3]), training=True)
    np.testing.assert_allclose(np.asarray(exact), [[0, 1, 2, 3, 4, 0]], atol=1e-6)
    layer = SpeedPerturbation(0.9, 1.1, seed=4)
    again = SpeedPerturbation.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    waves = keras.Input((None,))
    lengths = keras.Input((), dtype="int32")
    model = keras.Model([waves, lengths], layer(waves, lengths, training=True))
    model.save(tmp_path / "s.keras")
    loaded = keras.saving.load_model(tmp_path / "s.keras")
    assert loaded.layers[-1].get_config() == layer.get_config()
    for low, high in ((0.0, 1.1), (1.2, 1.1), (0.9, 2.5), ("0.9", 1.1)):
        with pytest.raises(ValueError, match=r"`low` and `high` must satisfy|`low` must be a number|`high` must be a number"):
            SpeedPerturbation(low, high)


# === FrequencyWarp ===


def reference_warp(features, alpha, rate, bins, lower_hz, upper_hz, boundary=0.8):
    """NumPy by hand: Jaitly & Hinton's piecewise-linear warp inverted at each bin's centre,
    then linear interpolation along the bins of each frame."""

    def mel(hz):
        return 1127.0 * np.log1p(hz / 700.0)

    edges = np.linspace(mel(lower_hz), mel(upper_hz), bins + 2)
    centres = 700.0 * (np.exp(edges[1:-1] / 1127.0) - 1.0)
    b = boundary * upper_hz / max(alpha, 1.0)
    source = np.array([g / alpha if g <= alpha * b else b + (g - alpha * b) * (upper_hz - b) / (upper_hz - alpha * b)
                       for g in centres])
    position = np.clip(np.interp(mel(source), edges[1:-1], np.arange(bins), left=-np.inf, right=np.inf), 0, bins - 1)
    return np.stack([[np.interp(position, np.arange(bins), frame) for frame in example] for example in features])


@pytest.mark.parametrize("alpha", [0.9, 1.0, 1.12])
def test_frequency_warp_equals_numpy_for_a_fixed_factor(alpha):
    features = np.random.default_rng(1).normal(size=(2, 5, 40)).astype("float32")
    out = FrequencyWarp(8000, 40, low=alpha, high=alpha)(features, training=True)
    np.testing.assert_allclose(np.asarray(out), reference_warp(features, alpha, 8000, 40, 20.0, 4000.0), atol=1e-4)
    if alpha == 1.0:
        np.testing.assert_allclose(np.asarray(out), features, atol=1e-4)


def test_frequency_warp_moves_a_formant_with_the_factor_and_keeps_the_band_edges():
    bins = 64
    peak = np.exp(-0.5 * ((np.arange(bins) - 30) / 2.0) ** 2).astype("float32")[None, None, :]  # a "formant" at bin 30
    centres = FrequencyWarp(16000, bins)._centres_hz
    for alpha in (0.9, 1.1):
        out = np.asarray(FrequencyWarp(16000, bins, low=alpha, high=alpha)(peak, training=True))[0, 0]
        moved_hz = centres[int(np.argmax(out))]
        # Below the break point the formant's frequency is multiplied by alpha (to the nearest bin).
        assert abs(moved_hz / centres[30] - alpha) < 0.03, (alpha, moved_hz, centres[30])
        assert out[-1] == pytest.approx(peak[0, 0, -1], abs=1e-6)  # the top of the band stays
    constant = np.zeros((1, 3, bins), "float32")
    np.testing.assert_array_equal(np.asarray(FrequencyWarp(16000, bins)(constant, training=True)), constant)


def test_frequency_warp_draws_a_factor_per_example_and_is_identity_at_inference(tmp_path):
    features = np.tile(np.random.default_rng(2).normal(size=(1, 4, 24)), (6, 1, 1)).astype("float32")
    out = np.asarray(FrequencyWarp(8000, 24, low=0.85, high=1.15, seed=5)(features, training=True))
    again = np.asarray(FrequencyWarp(8000, 24, low=0.85, high=1.15, seed=5)(features, training=True))
    np.testing.assert_array_equal(out, again)  # same seed, same factors
    assert len({out[i].round(4).tobytes() for i in range(6)}) == 6  # every example its own factor
    np.testing.assert_array_equal(np.asarray(FrequencyWarp(8000, 24)(features)), features)
    layer = FrequencyWarp(8000, 24, upper_edge_hz=3800.0, low=0.92, high=1.08, seed=3)
    assert FrequencyWarp.from_config(layer.get_config()).get_config() == layer.get_config()
    inputs = keras.Input((None, 24))
    keras.Model(inputs, layer(inputs, training=True)).save(tmp_path / "w.keras")
    assert keras.saving.load_model(tmp_path / "w.keras").layers[-1].get_config() == layer.get_config()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"low": 1.2, "high": 1.1}, "`low` and `high` must satisfy"),
        ({"high": 2.5}, "`low` and `high` must satisfy"),
        ({"low": "0.9"}, "`low` must be a number"),
        ({"boundary": 1.0}, "`boundary` must be in"),
        ({"num_mel_bins": 0}, "`num_mel_bins` must be a positive int"),
        ({"upper_edge_hz": 9000.0}, "lower_edge_hz < upper_edge_hz"),
        ({"lower_edge_hz": "20"}, "`lower_edge_hz` must be a number"),
        ({"sample_rate": True}, "`sample_rate` must be a positive int"),
    ],
)
def test_frequency_warp_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FrequencyWarp(**{"sample_rate": 16000, "num_mel_bins": 40, **kwargs})


def test_frequency_warp_rejects_features_of_another_width():
    with pytest.raises(ValueError, match="num_mel_bins=40"):
        FrequencyWarp(16000, 40)(np.zeros((1, 3, 20), "float32"), training=True)


# === Documentation ===


@pytest.mark.parametrize("name", ["log_mel_spectrogram", "spec_augment", "utterance_normalization", "speed_perturbation", "frequency_warp"])
def test_docstring_examples(name):
    module = importlib.import_module(f"kzoo.layers.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
