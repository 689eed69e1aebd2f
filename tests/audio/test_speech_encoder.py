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
