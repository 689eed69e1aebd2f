"""Pretrained word vectors into the applications' embeddings: one code path, checked on values."""

import keras
import numpy as np
import pytest

from kzoo.applications import Captioner, DocumentClassifier, Translator
from kzoo.applications.embeddings import FreezeEmbeddings, check_embedding_trainable
from kzoo.testing.application_test import check_keras_roundtrip
from kzoo.text import load_word_vectors

WORDS = ["the", "food", "was", "great", "awful", "room", "quiet", "cat", "."]


def write_vectors(path, dim, seed=0):
    """A small GloVe-format file: the words above with seeded vectors."""
    matrix = np.round(np.random.default_rng(seed).normal(size=(len(WORDS), dim)), 4).astype("float32")
    lines = [" ".join([word] + [f"{v:.4f}" for v in row]) for word, row in zip(WORDS, matrix)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dict(zip(WORDS, matrix))


DOCUMENTS = ["the food was great .\nthe room was quiet .", "the food was awful .\nthe cat sat ."] * 8
LABELS = [1, 0] * 8


def tiny_classifier(**kwargs):
    return DocumentClassifier(embedding_dim=6, units=4, max_sentences=3, max_words=6, dropout=0.0, seed=0, **kwargs)


def rows_by_word(layer, vocabulary):
    matrix = layer.embeddings.numpy()
    return {word: matrix[i] for i, word in enumerate(vocabulary)}


def test_document_classifier_starts_from_the_file_vectors_and_reports_coverage(tmp_path, capsys):
    expected = write_vectors(tmp_path / "vectors.txt", 6)
    model = tiny_classifier()
    model.adapt(DOCUMENTS, min_count=1, embeddings=str(tmp_path / "vectors.txt"))
    vocabulary = model.document_tokenizer.vocabulary
    rows = rows_by_word(model.embedding, vocabulary)
    for word in ["the", "food", "great", "cat", "."]:
        np.testing.assert_array_equal(rows[word], expected[word])
    np.testing.assert_array_equal(model.embedding.embeddings.numpy()[0], np.zeros(6))  # padding
    assert np.abs(rows["sat"]).sum() > 0  # a missing word gets a random row, not zeros
    words = [w for w in vocabulary if not w.startswith("[") and w]
    found = sum(w in expected for w in words)
    tokens = [w for text in DOCUMENTS for w in text.split()]  # every word is in the vocabulary (min_count=1)
    found_tokens = sum(w in expected for w in tokens)
    message = capsys.readouterr().err
    assert f"{100 * found / len(words):.1f}% of {len(words)} word types, {100 * found_tokens / len(tokens):.1f}% of tokens" in message, message


def test_same_vectors_from_a_name_a_pair_or_an_object(tmp_path):
    expected = write_vectors(tmp_path / "vectors.txt", 6)
    vectors = load_word_vectors(str(tmp_path / "vectors.txt"))
    matrices = []
    for source in [vectors, (vectors.words, vectors.matrix), str(tmp_path / "vectors.txt")]:
        model = tiny_classifier()
        model.adapt(DOCUMENTS, min_count=1, embeddings=source)
        matrices.append(model.embedding.embeddings.numpy())
    np.testing.assert_array_equal(matrices[0], matrices[1])
    np.testing.assert_array_equal(matrices[0], matrices[2])
    assert expected  # the file was written


def test_bad_vectors_fail_before_the_model_changes(tmp_path):
    write_vectors(tmp_path / "wide.txt", 5)
    model = tiny_classifier()
    with pytest.raises(ValueError, match=r"`embeddings` has 5-dimensional vectors but the embedding is 6 wide: pass `embedding_dim=5`"):
        model.adapt(DOCUMENTS, embeddings=str(tmp_path / "wide.txt"))
    with pytest.raises(FileNotFoundError, match="`embeddings`: .*missing.txt"):
        model.adapt(DOCUMENTS, embeddings=str(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match=r"`embedding_trainable` must be True \(fine-tune\), False \(frozen\) or an int >= 0.*Received: embedding_trainable=-1"):
        model.adapt(DOCUMENTS, embedding_trainable=-1)
    model.adapt(DOCUMENTS, min_count=1)  # nothing was built by the failed calls: adapt still works
    assert model.document_tokenizer.vocabulary_size > 4


def embedding_after_fit(model, epochs):
    model.fit(DOCUMENTS, LABELS, batch_size=8, epochs=epochs, verbose=0)
    return model.embedding.embeddings.numpy().copy()


def test_frozen_embedding_stays_and_the_rest_trains(tmp_path):
    write_vectors(tmp_path / "vectors.txt", 6)
    keras.utils.set_random_seed(0)
    model = tiny_classifier()
    model.adapt(DOCUMENTS, min_count=1, embeddings=str(tmp_path / "vectors.txt"), embedding_trainable=False)
    model.compile(learning_rate=1e-2)
    start = model.embedding.embeddings.numpy().copy()
    others = [w.numpy().copy() for w in model.trainable_weights]
    np.testing.assert_array_equal(embedding_after_fit(model, 1), start)
    assert not any(w is model.embedding.embeddings for w in model.trainable_weights)
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(others, model.trainable_weights))


def test_embedding_frozen_for_the_first_epochs_then_fine_tuned(tmp_path):
    write_vectors(tmp_path / "vectors.txt", 6)
    keras.utils.set_random_seed(0)
    model = tiny_classifier()
    model.adapt(DOCUMENTS, min_count=1, embeddings=str(tmp_path / "vectors.txt"), embedding_trainable=1)
    assert isinstance(model.embedding_schedule, FreezeEmbeddings) and model.embedding_schedule.epochs == 1
    model.compile(learning_rate=1e-2)
    start = model.embedding.embeddings.numpy().copy()
    np.testing.assert_array_equal(embedding_after_fit(model, 1), start)  # epoch 1: frozen
    after = embedding_after_fit(model, 1)  # epoch 2 (a second fit call counts on): fine-tuned
    assert not np.array_equal(after, start)
    np.testing.assert_array_equal(after[0], np.zeros(6))  # padding never moves (masked)


def test_embedding_frozen_under_a_moving_average_of_the_weights(tmp_path):
    write_vectors(tmp_path / "vectors.txt", 6)
    keras.utils.set_random_seed(0)
    model = tiny_classifier()
    model.adapt(DOCUMENTS, min_count=1, embeddings=str(tmp_path / "vectors.txt"), embedding_trainable=1)
    model.compile(learning_rate=1e-2, ema_momentum=0.5)
    start = model.embedding.embeddings.numpy().copy()
    np.testing.assert_array_equal(embedding_after_fit(model, 1), start)  # the average held them too
    assert not np.array_equal(embedding_after_fit(model, 1), start)


def test_translator_source_and_target_embeddings(tmp_path):
    expected = write_vectors(tmp_path / "vectors.txt", 8)
    sources = ["the cat was quiet .", "the food was great ."] * 4
    targets = ["the room was quiet .", "the food was awful ."] * 4
    tr = Translator(units=16, embedding_dim=8, seed=0)
    tr.adapt(sources, targets, source_embeddings=str(tmp_path / "vectors.txt"),
             target_embeddings=str(tmp_path / "vectors.txt"), embedding_trainable=False)
    source_rows = rows_by_word(tr.encoder.embedding, tr.source_tokenizer.vocabulary)
    target_rows = rows_by_word(tr.decoder.embedding, tr.target_tokenizer.vocabulary)
    np.testing.assert_array_equal(source_rows["cat"], expected["cat"])
    np.testing.assert_array_equal(target_rows["awful"], expected["awful"])
    assert not tr.encoder.embedding.trainable and not tr.decoder.embedding.trainable
    only_target = Translator(units=16, embedding_dim=8, seed=0)
    only_target.adapt(sources, targets, target_embeddings=str(tmp_path / "vectors.txt"), embedding_trainable=2)
    assert only_target.encoder.embedding.trainable
    assert only_target.embedding_schedule.layers == [only_target.decoder.embedding]
    with pytest.raises(ValueError, match="`source_embeddings` has 8-dimensional vectors but the embedding is 4 wide"):
        Translator(units=8, embedding_dim=4).adapt(sources, targets, source_embeddings=str(tmp_path / "vectors.txt"))


def test_captioner_word_embedding(tmp_path):
    expected = write_vectors(tmp_path / "vectors.txt", 8)
    cap = Captioner(image_size=(16, 16), units=8, embedding_dim=8, filters=4, blocks=2, seed=0)
    cap.adapt([["the room was quiet .", "the cat"], ["the food was great ."]], embeddings=str(tmp_path / "vectors.txt"))
    rows = rows_by_word(cap.decoder.embedding, cap.target_tokenizer.vocabulary)
    np.testing.assert_array_equal(rows["room"], expected["room"])
    assert cap.embedding_schedule is None and cap.decoder.embedding.trainable


def test_captioner_embedding_frozen_or_frozen_for_an_epoch(tmp_path):
    expected = write_vectors(tmp_path / "vectors.txt", 8)
    captions = [["the room was quiet .", "the cat"], ["the food was great ."]]
    frozen = Captioner(image_size=(16, 16), units=8, embedding_dim=8, filters=4, blocks=2, seed=0)
    frozen.adapt(captions, embeddings=str(tmp_path / "vectors.txt"), embedding_trainable=False)
    assert not frozen.decoder.embedding.trainable and frozen.embedding_schedule is None
    later = Captioner(image_size=(16, 16), units=8, embedding_dim=8, filters=4, blocks=2, seed=0)
    later.adapt(captions, embeddings=str(tmp_path / "vectors.txt"), embedding_trainable=1)
    assert later.decoder.embedding.trainable and isinstance(later.embedding_schedule, FreezeEmbeddings)
    assert later.embedding_schedule.epochs == 1
    np.testing.assert_array_equal(rows_by_word(later.decoder.embedding, later.target_tokenizer.vocabulary)["cat"], expected["cat"])


def test_models_started_from_vectors_survive_keras_save_and_load(tmp_path):
    write_vectors(tmp_path / "vectors.txt", 6)
    keras.utils.set_random_seed(0)
    model = tiny_classifier()
    model.adapt(DOCUMENTS, min_count=1, embeddings=str(tmp_path / "vectors.txt"), embedding_trainable=2)
    model.compile(learning_rate=1e-2)
    embedding_after_fit(model, 1)
    restored = check_keras_roundtrip(model, lambda m: m.predict(DOCUMENTS[:4], verbose=0).round(6), tmp_path / "document.keras")
    np.testing.assert_array_equal(restored.embedding.embeddings.numpy(), model.embedding.embeddings.numpy())
    source = ["the food was great .", "the cat"]
    translator = Translator(units=4, embedding_dim=6, seed=0)
    translator.adapt(source, ["la comida", "el gato"], source_embeddings=str(tmp_path / "vectors.txt"), embedding_trainable=False)
    restored = check_keras_roundtrip(translator, lambda m: m.translate(source), tmp_path / "translator.keras")
    np.testing.assert_array_equal(restored.encoder.embedding.embeddings.numpy(), translator.encoder.embedding.embeddings.numpy())


def test_check_embedding_trainable():
    assert check_embedding_trainable(True) is True and check_embedding_trainable(False) is False
    assert check_embedding_trainable(3) == 3
    with pytest.raises(ValueError, match="Received: embedding_trainable='yes'"):
        check_embedding_trainable("yes")
