"""Captioner: training on the generated scenes, captioning any image input, attention, export."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import kzoo
from kzoo.applications import Captioner
from kzoo.data import load_scenes
from kzoo.export import load_signature, load_tflite
from kzoo.testing.application_test import agreement, check_keras_roundtrip, check_savedmodel_standalone

SIZE = (32, 32)


def tiny(**kwargs):
    return Captioner(image_size=SIZE, units=48, embedding_dim=24, filters=8, blocks=2, seed=0, **kwargs)


@pytest.fixture(scope="module")
def scenes():
    return load_scenes("train", num_images=900, image_size=32), load_scenes("test_seen", num_images=40, image_size=32)


@pytest.fixture(scope="module")
def trained(scenes):
    train, _ = scenes
    keras.utils.set_random_seed(0)
    model = tiny()
    model.adapt(train["captions"])
    model.compile(learning_rate=3e-3)
    model.fit(train["images"], [c[:2] for c in train["captions"]], batch_size=32, epochs=4, verbose=0)
    return model


def test_learns_the_scenes(trained, scenes):
    """Captions of unseen images beat a constant caption on BLEU and, by far, on CIDEr-D (which
    rewards what is specific to an image), and name the first object's colour."""
    from kzoo.applications.evaluation import score_texts

    _, test = scenes
    hypotheses = trained.caption(test["images"])
    scores = score_texts(hypotheses, test["captions"], metrics=("bleu", "cider"))
    constant = score_texts([hypotheses[0]] * len(hypotheses), test["captions"], metrics=("bleu", "cider"))
    assert scores["bleu"] > constant["bleu"] + 5.0, (scores, constant, hypotheses[:5])
    assert scores["cider"] > 1.3 * constant["cider"], (scores, constant)
    colours = sum(objects[0]["colour"] in h for h, objects in zip(hypotheses, test["objects"]))
    assert colours / len(hypotheses) > 0.5


def test_any_image_input_gives_the_same_caption(trained, scenes, tmp_path):
    _, test = scenes
    image = test["images"][0]
    expected = trained.caption(image)
    png = tf.io.encode_png(image).numpy()
    (tmp_path / "a.png").write_bytes(png)
    assert trained.caption(png) == expected
    assert trained.caption(str(tmp_path / "a.png")) == expected
    assert trained.caption(image.astype("float32") / 255.0) == expected
    assert trained.caption([image, image]) == [expected, expected]
    assert trained.caption(test["images"][:3]) == trained.caption(list(test["images"][:3]))
    rgba = np.concatenate([image, np.full(image.shape[:2] + (1,), 255, np.uint8)], axis=-1)
    assert trained.caption(rgba) == expected
    # Odd sizes and grey images are resized / expanded, not rejected.
    for odd in (np.zeros((1, 1, 3), np.uint8), np.zeros((300, 400, 3), np.uint8), image[:, :, 0]):
        assert isinstance(trained.caption(odd), str)
    # A 4000x3000 photo-sized image: the scene scaled up captions like the scene itself.
    big = np.repeat(np.repeat(image, 125, axis=0), 94, axis=1)[:4000, :3000]
    assert big.shape == (4000, 3000, 3) and isinstance(trained.caption(big), str)
    assert trained.caption([]) == []


def test_bad_images_get_clear_errors(trained, scenes):
    _, test = scenes
    with pytest.raises(ValueError, match=r"images\[1\].*could not be decoded"):
        trained.caption([test["images"][0], b"\xff\xd8\xff\xe0 not really a jpeg"])
    with pytest.raises(ValueError, match=r"images\[0\].*\[0, 1\]"):
        trained.caption(np.full((8, 8, 3), 3.0, np.float32))
    with pytest.raises(ValueError, match=r"images\[0\].*shape"):
        trained.caption(np.zeros((8, 8, 2), np.uint8))
    with pytest.raises(TypeError, match="images"):
        trained.caption(42)
    with pytest.raises(FileNotFoundError, match="images"):
        trained.caption("/no/such/image.png")


def test_attention_maps_have_the_feature_grid(trained, scenes):
    _, test = scenes
    texts, records = trained.caption(test["images"][:3], return_attention=True)
    for text, record in zip(texts, records):
        weights = record["weights"]
        assert weights.shape == (len(record["tokens"]),) + trained.encoder.grid
        np.testing.assert_allclose(weights.sum(axis=(1, 2)), 1.0, atol=1e-5)
        assert " ".join(record["tokens"]).startswith(text.split(" ")[0])
    fig = kzoo.plot.caption_attention(test["images"][0], records[0]["tokens"], records[0]["weights"])
    assert [ax.get_title() for ax in fig.axes[: len(records[0]["tokens"]) + 1]] == ["image"] + records[0]["tokens"]


def test_beam_search_is_greedy_with_one_beam(trained, scenes):
    _, test = scenes
    images = test["images"][:10]
    assert trained.caption(images, beam_width=1) == trained.caption(images)
    assert all(isinstance(t, str) for t in trained.caption(images, beam_width=3))


def test_keras_round_trip(trained, scenes, tmp_path):
    _, test = scenes
    images = test["images"][:6]
    check_keras_roundtrip(trained, lambda m: m.caption(images) + m.caption(images[:2], beam_width=2), tmp_path / "c.keras")


def test_saved_model_takes_encoded_images_and_pixels_without_kzoo(trained, scenes, tmp_path):
    _, test = scenes
    images = test["images"][:5]
    path = trained.export(str(tmp_path / "saved_model"), beam_width=2)
    encoded = [tf.io.encode_png(i).numpy() for i in images]
    expected = trained.caption(images)
    assert load_signature(path)(encoded) == expected
    check_savedmodel_standalone(path, "pixels", {"pixels": images.tolist()}, {"captions": expected})
    assert load_signature(path, "beam")(images) == trained.caption(images, beam_width=2)


def test_tflite_captions_like_caption(trained, scenes, tmp_path):
    _, test = scenes
    images = test["images"]
    path = trained.export(str(tmp_path / "c.tflite"), format="litert", beam_width=1)
    assert json.load(open(path + ".json"))["kind"] == "captioner"
    runner = load_tflite(path)
    expected = trained.caption(images)
    assert agreement(runner.caption(images), expected) >= 0.99
    assert runner.caption(images[0]) == expected[0]
    quantized = load_tflite(trained.export(str(tmp_path / "q.tflite"), format="litert", beam_width=1, quantize=True))
    assert os.path.getsize(tmp_path / "q.tflite") < 0.6 * os.path.getsize(path)  # the loop's ops stay float
    assert agreement(quantized.caption(images), expected) >= 0.5


@pytest.mark.parametrize("attention", ["hard", None])
def test_hard_and_no_attention_train_and_decode(attention, scenes, tmp_path):
    train, test = scenes
    keras.utils.set_random_seed(1)
    model = tiny(attention=attention)
    model.adapt(train["captions"][:200])
    model.compile()
    history = model.fit(train["images"][:200], [c[0] for c in train["captions"][:200]], batch_size=32, epochs=2, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    texts, records = model.caption(test["images"][:2], return_attention=True)
    if attention is None:
        assert np.all(records[0]["weights"] == 0)
    else:  # hard attention at inference: one location per word
        assert set(np.unique(records[0]["weights"])) <= {0.0, 1.0}
    check_keras_roundtrip(model, lambda m: m.caption(test["images"][:3]), tmp_path / "m.keras")


def test_doubly_stochastic_regulariser_is_added_in_training(scenes):
    train, _ = scenes
    model = tiny(attention_regularization=1.0)
    model.adapt(train["captions"][:20])
    pixels = model.preprocess(train["images"][:4])
    ids = model.target_tokenizer(tf.constant([c[0] for c in train["captions"][:4]]), add_start=True)
    model((pixels, ids), training=True)
    (penalty,) = model.losses
    memory, memory_mask, states = model.decoder_start(pixels, training=True)  # batch-norm statistics as in training
    _, details = model.decoder(ids, memory, memory_mask, initial_state=states, training=True, return_details=True)
    coverage = np.asarray(details["attention"]).sum(axis=1)  # (B, S)
    np.testing.assert_allclose(float(penalty), np.mean(np.sum((1.0 - coverage) ** 2, axis=-1)), rtol=1e-5)


def test_dataset_of_images_and_captions(scenes):
    train, _ = scenes
    model = tiny()
    model.adapt(train["captions"][:50])
    model.compile()
    ds = tf.data.Dataset.from_tensor_slices((train["images"][:64], [c[0] for c in train["captions"][:64]])).batch(16)
    history = model.fit(ds, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert np.isfinite(model.evaluate(ds, verbose=0)[0])


def test_same_seed_same_model(scenes):
    train, test = scenes
    captions, weights = [], []
    for _ in range(2):
        keras.utils.set_random_seed(0)
        model = tiny(attention="hard")  # hard attention samples: the seed must fix its draws too
        model.adapt(train["captions"][:64])
        model.compile()
        model.fit(train["images"][:64], train["captions"][:64], batch_size=32, epochs=1, verbose=0)
        weights.append(model.get_weights())
        captions.append(model.caption(test["images"][:4]))
    assert captions[0] == captions[1]
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_bad_arguments():
    with pytest.raises(ValueError, match="attention"):
        Captioner(attention="sideways")
    with pytest.raises(ValueError, match="image_size"):
        Captioner(image_size=(4, 4))
    with pytest.raises(ValueError, match="encoder"):
        Captioner(encoder="alexnet")
    with pytest.raises(ValueError, match="vocabulary"):
        Captioner(image_size=SIZE).caption(np.zeros((8, 8, 3), np.uint8))
    model = tiny()
    with pytest.raises(ValueError, match=r"captions\[1\]"):
        model.adapt(["a red circle", ""])
    with pytest.raises(TypeError, match="captions"):
        model.adapt("a red circle")


def test_keras_applications_backbone_and_custom_encoder(tmp_path):
    backbone = Captioner(encoder="mobilenet_v3_small", image_size=(64, 64), units=16, embedding_dim=8)
    backbone.adapt(["a red circle ."])
    assert backbone.encoder.grid == (2, 2)
    inputs = keras.Input((32, 32, 3))
    custom = keras.Model(inputs, keras.layers.Conv2D(6, 3, strides=4, padding="same")(inputs))
    model = Captioner(encoder=custom, image_size=(32, 32), units=16, embedding_dim=8)
    model.adapt(["a red circle ."])
    assert model.encoder.grid == (8, 8) and model.encoder.output_dim == 6
    check_keras_roundtrip(model, lambda m: m.caption(np.zeros((2, 32, 32, 3), np.uint8)), tmp_path / "custom.keras")
