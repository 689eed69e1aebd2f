"""SpeechEncoder: convolutional front end, subsampling, masks, and independence from batch padding."""

import numpy as np
import pytest

from kzoo.audio.speech_encoder import SpeechEncoder


def encoder(**kwargs):
    config = dict(sample_rate=8000, num_mel_bins=16, filters=4, units=6, num_layers=1, seed=0)
    config.update(kwargs)
    return SpeechEncoder(**config)


@pytest.mark.parametrize("subsampling, conv_layers, options", [
    (1, 2, {}), (2, 0, {}), (2, 2, {}), (4, 0, {}), (4, 1, {}), (2, 2, {"frequency_pooling": True}),
    (2, 1, {"context": "conv", "num_layers": 2}), (1, 0, {"context": "conv", "num_layers": 2, "context_kernel": 7}),
])
def test_an_utterance_encodes_the_same_alone_and_beside_a_longer_one(subsampling, conv_layers, options):
    """Every convolution zeroes the frames past an utterance's end, so its last frames read zeros
    whether the batch is padded or not (with subsampling x4 the second strided convolution used
    to read the first one's output for padding frames, relu(bias), and depend on the batch)."""
    rng = np.random.default_rng(0)
    # 2,320 samples: 29 frames, 15 after the first stride-2 convolution, so the second one reads
    # one frame past the end
    short, long = rng.normal(size=2320).astype("float32") * 0.3, rng.normal(size=5000).astype("float32") * 0.3
    enc = encoder(subsampling=subsampling, conv_layers=conv_layers, **options)
    enc(short[None], np.array([len(short)]))
    context = enc.rnns if enc.context == "conv" else []
    for conv in enc.feature_convolutions + enc.convolutions + context:  # as after training: relu(bias) > 0 on zeros
        conv.bias.assign(np.full(conv.bias.shape, 0.1, "float32"))
    for norm in enc.context_norms:  # likewise a LayerNorm's offset: a padding frame would come out non-zero
        norm.beta.assign(np.linspace(-0.2, 0.3, norm.beta.shape[0]).astype("float32"))
    alone, alone_mask, _ = enc(short[None], np.array([len(short)]), training=False)
    batch = np.stack([np.pad(short, (0, len(long) - len(short))), long])
    together, mask, _ = enc(batch, np.array([len(short), len(long)]), training=False)
    frames = int(enc.num_output_frames(np.array([len(short)]))[0])
    assert int(np.sum(alone_mask)) == int(np.sum(mask[0])) == frames
    np.testing.assert_allclose(np.asarray(together)[0, :frames], np.asarray(alone)[0, :frames], rtol=1e-5, atol=1e-6)


def test_conv_layers_add_stride_one_convolutions_and_keep_the_frame_count(tmp_path):
    enc = encoder(subsampling=2, conv_layers=2)
    memory, mask, _ = enc(np.zeros((2, 8000), "float32"), np.array([8000, 4000]))
    assert tuple(memory.shape) == (2, 50, 12) and np.asarray(mask).sum(axis=1).tolist() == [50, 25]
    assert [(c.kernel.shape, c.strides) for c in enc.feature_convolutions + enc.convolutions] == [
        ((3, 3, 1, 4), (1, 1)), ((3, 3, 4, 4), (1, 1)), ((3, 3, 4, 4), (2, 2))]
    # frequency is kept by the stride-1 convolutions: the projection reads ceil(16 / 2) bands x 4 filters
    assert enc.projection.kernel.shape == (32, 6)
    restored = SpeechEncoder.from_config(enc.get_config())
    assert restored.conv_layers == 2 and len(restored.feature_convolutions) == 2


@pytest.mark.parametrize("value", [-1, 1.5, True, "2"])
def test_conv_layers_must_be_a_non_negative_int(value):
    with pytest.raises(ValueError, match=rf"`conv_layers` must be an int >= 0. Received: conv_layers={value!r}"):
        encoder(conv_layers=value)


def test_speech_to_text_keeps_conv_layers_through_keras_save_and_load(tmp_path):
    import keras

    from kzoo.applications import SpeechToText

    stt = SpeechToText(sample_rate=8000, num_mel_bins=16, filters=4, encoder_units=8, encoder_layers=1, units=8,
                       embedding_dim=4, conv_layers=1, seed=0)
    stt.adapt(["one two", "three"])
    stt.save(tmp_path / "stt.keras")
    loaded = keras.saving.load_model(tmp_path / "stt.keras")
    assert loaded.encoder.conv_layers == 1 and loaded.get_config()["conv_layers"] == 1
    audio = np.random.default_rng(1).normal(size=(2, 4000)).astype("float32") * 0.2
    memory, _, _ = stt.encoder(audio, np.array([4000, 3000]))
    np.testing.assert_allclose(np.asarray(loaded.encoder(audio, np.array([4000, 3000]))[0]), np.asarray(memory), rtol=1e-5, atol=1e-6)


def _normalized_features(enc, waves, lengths):
    features, mask = enc.front_end(waves, lengths)
    return np.asarray(enc.normalization(features, mask=mask)), np.asarray(mask)


def _layer_norm(x, norm):
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + norm.epsilon) * np.asarray(norm.gamma) + np.asarray(norm.beta)


def test_convolutional_context_is_residual_layer_normed_convolutions_over_time():
    """Against NumPy: block 0 `ReLU(LN(conv(x)))`, block 1 `x + ReLU(LN(conv(x)))`, each
    convolution over `context_kernel` frames centred on the frame, zeros past the end."""
    rng = np.random.default_rng(3)
    waves = (rng.normal(size=(2, 4000)) * 0.3).astype("float32")
    lengths = np.array([4000, 2900])
    enc = encoder(subsampling=1, conv_layers=0, context="conv", num_layers=2, context_kernel=5, units=3)
    memory, mask, _ = enc(waves, lengths, training=False)
    for norm in enc.context_norms:  # not the identity initialisation, so the test reads them
        norm.gamma.assign(rng.uniform(0.5, 1.5, norm.gamma.shape).astype("float32"))
        norm.beta.assign(rng.normal(0, 0.2, norm.beta.shape).astype("float32"))
    memory, mask, _ = enc(waves, lengths, training=False)
    x, valid = _normalized_features(enc, waves, lengths)
    keep = valid[:, :, None].astype("float32")
    for i, (conv, norm) in enumerate(zip(enc.rnns, enc.context_norms)):
        kernel, bias = np.asarray(conv.kernel), np.asarray(conv.bias)  # (5, in, out)
        padded = np.pad(x * keep, [(0, 0), (2, 2), (0, 0)])
        y = sum(padded[:, j: j + x.shape[1]] @ kernel[j] for j in range(5)) + bias
        y = np.maximum(_layer_norm(y, norm), 0.0)
        x = (x + y if i else y) * keep
    assert memory.shape == (2, x.shape[1], 6)
    np.testing.assert_array_equal(np.asarray(mask), valid)
    np.testing.assert_allclose(np.asarray(memory), x, rtol=1e-4, atol=1e-5)


def test_frequency_pooling_keeps_the_larger_of_each_pair_of_bands():
    """Against NumPy: the stride-1 convolution's map, max over bands (0, 1), (2, 3), ...,
    then the strided one and the projection; the mel axis halves at each pooled convolution."""
    rng = np.random.default_rng(4)
    waves = (rng.normal(size=(2, 4000)) * 0.3).astype("float32")
    lengths = np.array([4000, 3100])
    enc = encoder(subsampling=2, conv_layers=2, frequency_pooling=True)
    enc(waves, lengths)
    # 16 bands -> 8 -> 4 (pooled) -> 2 (stride 2): the projection reads 2 bands x 4 filters
    assert enc.projection.kernel.shape == (8, 6)
    x, valid = _normalized_features(enc, waves, lengths)
    x = x[..., None]
    frames = valid.sum(axis=1)
    for conv in enc.feature_convolutions + enc.convolutions:
        x = np.asarray(conv(np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])))
        if conv.strides[0] == 1:
            x = np.maximum(x[:, :, 0:(x.shape[2] // 2) * 2:2], x[:, :, 1:(x.shape[2] // 2) * 2:2])
        else:
            frames = (frames + 1) // 2
        x = x * (np.arange(x.shape[1])[None, :] < frames[:, None])[:, :, None, None]
    projected = np.asarray(enc.projection(x.reshape(x.shape[0], x.shape[1], -1)))
    memory, mask, _ = enc(waves, lengths, training=False)
    expected = np.asarray(enc.rnns[0](projected, mask=np.asarray(mask)))
    np.testing.assert_allclose(np.asarray(memory), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("options, message", [
    ({"context": "gru"}, r"`context` must be one of \('bilstm', 'conv'\). Received: context='gru'"),
    ({"context": "conv", "context_kernel": 4}, r"`context_kernel` must be an odd int >= 3. Received: context_kernel=4"),
    ({"context": "conv", "context_kernel": True}, r"`context_kernel` must be an odd int >= 3. Received: context_kernel=True"),
    ({"conv_layers": 1, "frequency_pooling": "yes"}, r"`frequency_pooling` must be True or False. Received: frequency_pooling='yes'"),
    ({"conv_layers": 0, "frequency_pooling": True}, r"needs `conv_layers` >= 1. Received: conv_layers=0"),
])
def test_context_and_pooling_options_are_checked(options, message):
    with pytest.raises(ValueError, match=message):
        encoder(**options)
