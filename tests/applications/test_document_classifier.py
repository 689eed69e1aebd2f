"""DocumentClassifier: preprocessing, every architecture, learning, explain, metrics, bad input."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn import metrics as skm

from kzoo.applications import ARCHITECTURES, ClassificationReport, DocumentClassifier
from kzoo.applications.document_architectures import compact_words as _compact, pool_states as _pool
from kzoo.data import load_documents_corpus
from kzoo.testing.application_test import check_moving_average
from kzoo.text import DocumentTokenizer

FILLER = [
    "we went there on a monday .",
    "the room was quiet .",
    "my sister came along .",
    "it took about an hour .",
    "we sat near the window .",
    "the menu was short .",
]


def keyword_documents(count, seed):
    """Documents of 3-5 neutral sentences and one sentence holding the label's keyword."""
    rng = np.random.default_rng(seed)
    texts, labels, positions = [], [], []
    for _ in range(count):
        label = int(rng.integers(2))
        sentences = list(rng.choice(FILLER, size=int(rng.integers(3, 6)), replace=False))
        key = int(rng.integers(len(sentences) + 1))
        sentences.insert(key, f"the food was {'great' if label else 'awful'} .")
        texts.append("\n".join(sentences))
        labels.append(label)
        positions.append(key)
    return texts, labels, positions


def tiny(architecture="han", **kwargs):
    config = dict(architecture=architecture, embedding_dim=8, units=4, filters=4, kernel_sizes=(2, 3),
                  max_sentences=6, max_words=8, dropout=0.0, seed=0)
    config.update(kwargs)
    return DocumentClassifier(**config)


@pytest.fixture(scope="module")
def trained():
    """A small HAN trained on the keyword task (a few seconds)."""
    keras.utils.set_random_seed(0)
    texts, labels, _ = keyword_documents(240, seed=0)
    model = tiny(embedding_dim=16, units=8, class_names=["bad", "good"])
    model.adapt(texts, min_count=1)
    model.compile(learning_rate=1e-2)
    history = model.fit(texts, labels, batch_size=16, epochs=6, verbose=0)
    return model, history


# === Preprocessing ===

def test_tokenizer_splits_sentences_on_newlines_else_on_punctuation():
    tok = DocumentTokenizer(max_sentences=10, max_words=10)
    docs = tf.constant(["One. Two!\nThree?", "One. Two! Three? Four…  five", "", " \n\n  "])
    sentences = tok.sentences(docs).to_list()
    assert sentences == [
        [b"One. Two!", b"Three?"],
        [b"One.", b"Two!", b"Three?", b"Four...", b"five"],  # NFKC: "…" is "..."
        [],
        [],
    ]


def test_tokenizer_ids_normalisation_truncation_and_padding():
    tok = DocumentTokenizer(max_sentences=2, max_words=3)
    tok.adapt(["good film . bad plot ."], min_count=1)
    vocab = tok.vocabulary
    i = vocab.index
    # NFKC: the "ﬁ" ligature is "fi", full-width "ＧＯＯＤ" is "good"; case folded.
    ids = tok(tf.constant(["ＧＯＯＤ ﬁlm plot bad good\nbad\nnever seen", "x"])).numpy()
    assert ids.shape == (2, 2, 3)  # 3 sentences truncated to 2, 5 words truncated to 3
    np.testing.assert_array_equal(ids[0], [[i("good"), i("film"), i("plot")], [i("bad"), 0, 0]])
    np.testing.assert_array_equal(ids[1], [[1, 0, 0], [0, 0, 0]])  # unknown word -> [UNK] = 1
    assert tok(tf.constant(["good"]), pad_to_max=True).shape == (1, 2, 3)
    words = tok.words_of(tf.constant(["ＧＯＯＤ ﬁlm plot bad good\nbad\nnever seen"])).to_list()
    assert words == [[[b"good", b"film", b"plot"], [b"bad"]]]


def test_tokenizer_repairs_invalid_utf8_and_handles_empty_batches():
    tok = DocumentTokenizer(max_sentences=3, max_words=5)
    tok.adapt(["ok fine"], min_count=1)
    words = tok.words_of(tf.constant([b"ok \xff\xfe fine"])).to_list()
    replacement = "\ufffd".encode()  # a symbol: one token per replaced byte
    assert words == [[[b"ok", replacement, replacement, b"fine"]]]
    assert tok(tf.constant([""])).numpy().tolist() == [[[0]]]
    assert tok(tf.constant([], tf.string)).shape == (0, 1, 1)


def test_tokenizer_truncates_to_the_head_or_the_tail():
    document = tf.constant(["one .\ntwo .\nthree .\nfour ."])
    assert DocumentTokenizer(max_sentences=2).sentences(document).to_list() == [[b"one .", b"two ."]]
    tail = DocumentTokenizer(max_sentences=2, truncate="tail")
    assert tail.sentences(document).to_list() == [[b"three .", b"four ."]]
    assert tail.sentences(tf.constant(["only ."])).to_list() == [[b"only ."]]
    assert DocumentTokenizer.from_config(tail.get_config()).truncate == "tail"
    with pytest.raises(ValueError, match=r"`truncate` must be one of \['head', 'tail'\]. Received: truncate='end'"):
        DocumentTokenizer(truncate="end")


# === Word vectors: label features, pretrained embeddings, word dropout ===

def test_label_features_are_the_naive_bayes_ratios_of_the_training_labels():
    from kzoo.text import log_count_ratios

    texts, labels, _ = keyword_documents(40, seed=2)
    model = tiny(label_features=True)
    model.adapt(texts, labels, min_count=1)
    ids = model.document_tokenizer(tf.constant(texts), pad_to_max=True).numpy()
    expected = log_count_ratios(ids, labels, model.document_tokenizer.vocabulary_size)
    np.testing.assert_allclose(model.label_embedding.embeddings.numpy(), expected, rtol=1e-6)
    vocabulary = model.document_tokenizer.vocabulary
    ratio = dict(zip(vocabulary, expected[:, 0]))
    assert ratio["great"] > 1.0 and ratio["awful"] < -1.0  # the keywords of class 1 and class 0
    assert model.label_embedding.trainable_weights == []  # fixed: counted once, never trained
    words, _, _ = model._word_vectors(ids[:2])
    assert words.shape[-1] == 8 + 1  # learned embedding, then the ratio
    np.testing.assert_allclose(np.asarray(words)[..., -1], expected[ids[:2], 0], rtol=1e-6)
    three = tiny(num_classes=3, label_features=True)
    three.adapt(texts, [i % 3 for i in range(40)], min_count=1)
    assert three.label_embedding.embeddings.shape == (three.document_tokenizer.vocabulary_size, 3)
    dataset = tf.data.Dataset.from_tensor_slices((texts, labels)).batch(16)  # labels from the pairs
    from_dataset = tiny(label_features=True)
    from_dataset.adapt(dataset, min_count=1)
    np.testing.assert_allclose(from_dataset.label_embedding.embeddings.numpy(), expected, rtol=1e-6)


def test_adapt_starts_the_embedding_from_given_or_skipgram_vectors():
    texts, labels, _ = keyword_documents(30, seed=4)
    probe = tiny()
    probe.adapt(texts, min_count=1)
    size = probe.document_tokenizer.vocabulary_size
    given = np.random.default_rng(0).normal(size=(size, 8)).astype("float32")
    model = tiny()
    model.adapt(texts, min_count=1, embeddings=given)
    np.testing.assert_array_equal(model.embedding.embeddings.numpy(), given)
    pretrained = tiny()
    pretrained.adapt(texts, min_count=1, embeddings="skipgram")
    vectors = pretrained.embedding.embeddings.numpy()
    assert np.all(vectors[:4] == 0) and np.all(np.abs(vectors[4:]).sum(-1) > 0)
    with pytest.raises(ValueError, match=rf"`embeddings` as an array must have one row per vocabulary entry \({size}\). Received: embeddings with shape \(3, 8\)"):
        tiny().adapt(texts, min_count=1, embeddings=given[:3])
    with pytest.raises(ValueError, match=r"`embeddings` as an array must have shape \(vocabulary_size, embedding_dim=8\). Received: embeddings with shape \(3, 5\)"):
        tiny().adapt(texts, min_count=1, embeddings=given[:3, :5])
    with pytest.raises(ValueError, match="`embeddings`: Unknown word vectors 'glove': known names are .*glove-6b-50d"):
        tiny().adapt(texts, embeddings="glove")
    with pytest.raises(ValueError, match=r"`label_features=True` needs the training labels"):
        tiny(label_features=True).adapt(texts)
    with pytest.raises(ValueError, match="`labels` must have one label per document. Received: 2 labels for 30 documents"):
        tiny().adapt(texts, [0, 1])


@pytest.mark.parametrize("architecture", ["han", "bigru_attention"])
def test_word_dropout_drops_whole_words_in_training_only(architecture):
    texts, _, _ = keyword_documents(4, seed=5)
    model = tiny(architecture, word_dropout=0.5)
    model.adapt(texts, min_count=1)
    words, mask, _ = model._word_vectors(model.document_tokenizer(tf.constant(texts)))
    mask = np.asarray(mask)
    kept = np.asarray(model.word_dropout_layer(words, training=False))
    dropped = np.asarray(model.word_dropout_layer(words, training=True))
    zeroed = np.all(dropped == 0, axis=-1) & mask
    assert 0.25 < zeroed.sum() / mask.sum() < 0.75  # about half of the real words
    np.testing.assert_allclose(dropped[mask & ~zeroed], 2.0 * kept[mask & ~zeroed], rtol=1e-6)  # 1 / (1 - 0.5)
    with pytest.raises(ValueError, match=r"`word_dropout` must be a float in \[0, 1\). Received: word_dropout=1.0"):
        tiny(word_dropout=1.0)


# === Architectures ===

def test_compact_moves_real_words_to_the_front_in_order():
    ids = np.array([[[5, 6, 0], [0, 0, 0], [7, 0, 0]], [[8, 0, 0], [0, 0, 0], [0, 0, 0]]], "int32")
    compact, order = _compact(ids)
    np.testing.assert_array_equal(compact, [[5, 6, 7], [8, 0, 0]])
    np.testing.assert_array_equal(np.take_along_axis(ids.reshape(2, 9), np.asarray(order), 1)[:, :3], compact)


def test_pooling_against_numpy():
    rng = np.random.default_rng(0)
    states = rng.normal(size=(2, 4, 6)).astype("float32")
    mask = np.array([[1, 1, 1, 0], [1, 0, 0, 0]], bool)
    np.testing.assert_allclose(_pool(states, mask, "mean", 3), [states[0, :3].mean(0), states[1, 0]], rtol=1e-6)
    np.testing.assert_allclose(_pool(states, mask, "max", 3), [states[0, :3].max(0), states[1, 0]])
    last = np.asarray(_pool(states, mask, "last", 3))
    np.testing.assert_allclose(last[0], np.concatenate([states[0, 2, :3], states[0, 0, 3:]]))
    np.testing.assert_allclose(last[1], np.concatenate([states[1, 0, :3], states[1, 0, 3:]]))
    empty = np.zeros((1, 4), bool)
    np.testing.assert_allclose(_pool(states[:1], empty, "max", 3), np.zeros((1, 6)))
    np.testing.assert_allclose(_pool(states[:1], empty, "mean", 3), np.zeros((1, 6)))


def test_last_state_is_the_bigru_final_states_of_the_real_words():
    model = tiny("bigru_last", vocabulary=["[PAD]", "[UNK]", "[START]", "[END]", "a", "b"])
    ids = np.array([[[4, 5, 0], [5, 0, 0]]], "int32")  # real words: a b b
    words = model.embedding(np.array([[4, 5, 5]]))
    forward = model.encoder.forward_layer(words)[:, -1]
    backward = model.encoder.backward_layer(words)[:, -1]  # go_backwards: its last step read the first word
    states = model.encoder(model.embedding(_compact(ids)[0]))
    np.testing.assert_allclose(_pool(states, np.ones((1, 3), bool), "last", 4), np.concatenate([forward, backward], -1), atol=1e-6)


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_every_architecture_is_padding_invariant_and_normalised(architecture):
    texts, _, _ = keyword_documents(6, seed=1)
    model = tiny(architecture)
    model.adapt(texts, min_count=1)
    together = model.predict(texts + ["word " * 40 + "\n" + "more words here . " * 5])[:6]
    alone = np.concatenate([model.predict([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)  # padding never leaks into the result
    np.testing.assert_allclose(together.sum(-1), 1.0, atol=1e-6)
    if model.pooling == "attention":
        ids = model.document_tokenizer(tf.constant(texts[:2]))
        _, words, sentences = model(ids, return_attention_scores=True)
        real = ids.numpy() != 0
        assert np.all(np.asarray(words)[~real] == 0)
        np.testing.assert_allclose(np.asarray(sentences).sum(-1), 1.0, atol=1e-5)
        if architecture == "han":  # word weights are a distribution within each real sentence
            np.testing.assert_allclose(np.asarray(words).sum(-1)[real.any(-1)], 1.0, atol=1e-5)
    else:
        with pytest.raises(ValueError, match="`explain` needs an attention architecture.*architecture="):
            model.explain(texts[0])


# === Learning, explain, metrics ===

def test_han_learns_and_attends_to_the_keyword_sentence(trained):
    model, history = trained
    texts, labels, positions = keyword_documents(80, seed=7)
    probabilities = model.predict(texts)
    accuracy = skm.accuracy_score(labels, probabilities.argmax(-1))
    assert accuracy >= 0.95, accuracy  # an untrained model is at chance (~0.5)
    assert history.history["loss"][-1] < history.history["loss"][0]
    hits = 0
    for text, label, position in zip(texts[:20], labels[:20], positions[:20]):
        explanation = model.explain(text)
        weights = [s["weight"] for s in explanation["sentences"]]
        hits += int(np.argmax(weights) == position)
        keyword = explanation["sentences"][position]
        assert keyword["words"] == ["the", "food", "was", "great" if label else "awful", "."]
        np.testing.assert_allclose(sum(keyword["word_weights"]), 1.0, atol=1e-5)
        np.testing.assert_allclose(explanation["probabilities"], model.predict([text])[0], atol=1e-6)
    assert hits >= 16, hits  # sentence attention finds the sentence that decides


def test_explain_reports_truncation_and_class_names(trained):
    model, _ = trained
    short = model.explain("the food was great .")
    assert short["class_name"] == "good" and short["label"] == 1 and not short["truncated"]
    long = model.explain("\n".join(["the food was great ."] * 10))
    assert long["truncated"] and len(long["sentences"]) == model.max_sentences


def test_compiled_metrics_and_report_match_scikit_learn(trained):
    model, _ = trained
    texts, labels, _ = keyword_documents(60, seed=3)
    labels[0] = 1 - labels[0]  # one guaranteed error so no metric is trivially 1
    probabilities = model.predict(texts)
    predicted = probabilities.argmax(-1)
    results = model.evaluate(texts, labels, batch_size=60, verbose=0, return_dict=True)
    assert results["accuracy"] == pytest.approx(skm.accuracy_score(labels, predicted), abs=1e-6)
    assert results["f1"] == pytest.approx(skm.f1_score(labels, predicted, average="macro"), abs=1e-6)
    assert results["auc"] == pytest.approx(skm.roc_auc_score(labels, probabilities[:, 1]), abs=1e-5)
    report = model.report(texts, labels)
    assert isinstance(report, ClassificationReport)
    precision, recall, f1, support = skm.precision_recall_fscore_support(labels, predicted)
    for i, row in enumerate(report.per_class):
        assert row["name"] == ["bad", "good"][i]
        assert (row["precision"], row["recall"], row["f1"], row["support"]) == pytest.approx(
            (precision[i], recall[i], f1[i], support[i])
        )
    assert report.metrics["pr_auc"] == pytest.approx(skm.average_precision_score(labels, probabilities[:, 1]))
    assert "| good |" in report.to_markdown()


def test_report_multiclass_matches_scikit_learn():
    import matplotlib

    matplotlib.use("Agg")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 90)
    probabilities = rng.dirichlet([1, 1, 1], 90) + np.eye(3)[labels] * 0.3
    probabilities /= probabilities.sum(-1, keepdims=True)
    report = ClassificationReport(labels, probabilities, ["a", "b", "c"])
    assert report.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(labels, probabilities, multi_class="ovr"))
    assert report.metrics["pr_auc"] == pytest.approx(
        skm.average_precision_score(np.eye(3)[labels], probabilities, average="macro")
    )
    assert report.metrics["f1_macro"] == pytest.approx(skm.f1_score(labels, probabilities.argmax(-1), average="macro"))
    figures = report.figures()
    cm = figures["confusion_matrix"].axes[0].images[0].get_array()
    np.testing.assert_array_equal(cm, skm.confusion_matrix(labels, probabilities.argmax(-1)))
    assert len(figures["roc"].axes[0].lines) == 4  # three classes and the chance diagonal
    with pytest.raises(ValueError, match=r"`labels` must be class labels in \[0, 3\). Received: label 3 at index 0"):
        ClassificationReport([3, 0], probabilities[:2])


def test_fit_on_a_dataset_of_text_label_pairs_multiclass():
    texts = ["red apple", "green leaf", "blue sky", "red rose", "green grass", "blue sea"] * 4
    labels = [0, 1, 2, 0, 1, 2] * 4
    model = tiny("cnn_attention", num_classes=3)
    model.adapt(texts, min_count=1)
    model.compile(learning_rate=3e-2)
    dataset = tf.data.Dataset.from_tensor_slices((texts, labels)).shuffle(24, seed=0)
    model.fit(dataset, batch_size=8, epochs=15, verbose=0)
    assert model.predict(texts).shape == (24, 3)
    assert skm.accuracy_score(labels, model.predict(texts).argmax(-1)) == 1.0


@pytest.mark.slow  # about 2 minutes on 2 busy cores: the HAN needs ~5 epochs to leave the 0.69 plateau
def test_han_learns_the_embedded_corpus():
    keras.utils.set_random_seed(0)
    texts, labels = load_documents_corpus("train")
    test_texts, test_labels = load_documents_corpus("test")
    model = DocumentClassifier(embedding_dim=32, units=32, max_sentences=12, max_words=24, dropout=0.2, seed=0)
    model.adapt(texts, min_count=1)
    model.compile(learning_rate=3e-3)
    model.fit(texts, labels, epochs=8, verbose=0)
    accuracy = skm.accuracy_score(test_labels, model.predict(test_texts).argmax(-1))
    # chance is 0.5; a unigram bag-of-words logistic regression reaches 0.54, bigrams 0.94
    assert accuracy > 0.95, accuracy


# === Bad input ===

def test_bad_documents(trained):
    model, _ = trained
    empty, one_word = model.predict(["", "great"])
    np.testing.assert_allclose([empty.sum(), one_word.sum()], 1.0, atol=1e-6)
    huge = "\n".join(["the food was great ."] + ["we sat near the window ."] * 4999)
    head = "\n".join(["the food was great ."] + ["we sat near the window ."] * (model.max_sentences - 1))
    np.testing.assert_allclose(model.predict([huge]), model.predict([head]), atol=1e-6)  # documented truncation
    invalid = model.predict([b"the food was \xff great ."])
    np.testing.assert_allclose(invalid.sum(), 1.0, atol=1e-6)
    assert model.predict([]).shape == (0, 2)
    assert model.predict("the food was great .").shape == (1, 2)
    for bad in (3, [1, 2], None, np.zeros((2, 3)), ["ok", 5]):
        with pytest.raises(TypeError, match="`documents` must"):
            model.predict(bad)
    with pytest.raises(TypeError, match="`document` must"):
        model.explain(42)


def test_labels_outside_the_classes_are_named():
    model = tiny()
    model.adapt(["a b", "c d"], min_count=1)
    model.compile()
    with pytest.raises(ValueError, match=r"class labels in \[0, 2\).*Received: label 2 at index 1"):
        model.fit(["a b", "c d"], [0, 2], epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"Received: label -1 at index 0"):
        model.fit(["a b", "c d"], [-1, 0], epochs=1, verbose=0)
    dataset = tf.data.Dataset.from_tensor_slices((["a b", "c d"], [0, 7])).batch(2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Labels must be class labels in \[0, 2\)[\s\S]*7"):
        model.fit(dataset, epochs=1, verbose=0)
    with pytest.raises(TypeError, match="`x` must contain only strings"):
        model.fit([1, 2], [0, 1], epochs=1, verbose=0)


def test_ema_momentum_validates_with_and_keeps_the_moving_average_of_the_weights(tmp_path):
    texts, labels, _ = keyword_documents(48, seed=1)
    keras.utils.set_random_seed(0)
    model = tiny()
    model.adapt(texts, min_count=1)
    model.compile(learning_rate=1e-2, ema_momentum=0.5)
    raw = []  # the trained (not averaged) weights after every step
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: raw.append([w.numpy().copy() for w in model.trainable_weights]))
    history = model.fit(texts, labels, batch_size=16, epochs=2, validation_data=(texts[:16], labels[:16]),
                        callbacks=[record], verbose=0)
    assert len(raw) == 6
    check_moving_average(model, raw, 0.5)
    # validation scored the average: evaluating the model now gives the last epoch's val_loss
    assert model.evaluate(texts[:16], labels[:16], verbose=0, return_dict=True)["loss"] == pytest.approx(
        history.history["val_loss"][-1], rel=1e-5)
    model.save(tmp_path / "ema.keras")
    loaded = keras.saving.load_model(tmp_path / "ema.keras")
    assert loaded.optimizer.use_ema and loaded.optimizer.ema_momentum == 0.5
    np.testing.assert_allclose(loaded.predict(texts[:4], verbose=0), model.predict(texts[:4], verbose=0), rtol=1e-5)


def test_ema_momentum_errors():
    model = tiny()
    model.adapt(["a b c .", "d e f ."], min_count=1)
    with pytest.raises(ValueError, match=r"`ema_momentum` must be None or a number in \(0, 1\). Received: ema_momentum=1.0"):
        model.compile(ema_momentum=1.0)
    with pytest.raises(ValueError, match=r"`ema_momentum` configures the default optimizer.*optimizer='sgd', ema_momentum=0.9"):
        model.compile(optimizer="sgd", ema_momentum=0.9)


@pytest.mark.parametrize("architecture", ["han", "cnn_attention"])
def test_adversarial_training_descends_the_clean_plus_the_moved_loss(architecture, tmp_path):
    """One SGD step (learning rate 1) against the same step computed by hand: the move is the
    clean loss's gradient with respect to the word vectors, scaled to ε embedding standard
    deviations per document (Miyato et al. 2017), and the step descends both losses."""
    texts, labels, _ = keyword_documents(8, seed=6)
    model = tiny(architecture, adversarial_epsilon=3.0)
    model.adapt(texts, min_count=1)
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss=keras.losses.SparseCategoricalCrossentropy(), metrics=[])
    ids = model.document_tokenizer(tf.constant(texts))
    y = tf.constant(labels)
    entropy = keras.losses.SparseCategoricalCrossentropy()

    def loss_at(move=None):
        words, mask, order = model._word_vectors(ids)
        words = words if move is None else words + move
        return entropy(y, model._classify_words(words, mask, order, tf.shape(ids), training=True)), words, mask

    with tf.GradientTape() as tape:
        clean, words, mask = loss_at()
    gradient = tape.gradient(clean, words).numpy() * np.asarray(mask)[..., None]
    axes = tuple(range(1, gradient.ndim))
    norm = np.sqrt((gradient**2).sum(axis=axes, keepdims=True))
    move = 3.0 * model.embedding.embeddings.numpy().std() * gradient / norm  # (B, ..., E)
    with tf.GradientTape() as tape:
        total = loss_at()[0] + loss_at(tf.constant(move))[0]
    gradients = tape.gradient(total, model.trainable_weights)
    expected = [w.numpy() - tf.convert_to_tensor(g).numpy() for w, g in zip(model.trainable_weights, gradients)]
    assert float(loss_at(tf.constant(move))[0]) > float(clean)  # the move raises the loss
    logs = model.train_on_batch(ids, y, return_dict=True)
    assert logs["loss"] == pytest.approx(float(total), rel=1e-5)
    for weight, want in zip(model.trainable_weights, expected):
        np.testing.assert_allclose(weight.numpy(), want, rtol=1e-4, atol=1e-6)
    model.save(tmp_path / "adversarial.keras")
    loaded = keras.saving.load_model(tmp_path / "adversarial.keras")
    assert loaded.adversarial_epsilon == 3.0
    np.testing.assert_allclose(loaded.predict(texts[:2], verbose=0), model.predict(texts[:2], verbose=0), rtol=1e-5)
    with pytest.raises(ValueError, match=r"`adversarial_epsilon` must be a finite number >= 0 \(0 turns it off\). Received: adversarial_epsilon=-1"):
        tiny(adversarial_epsilon=-1)


def test_constructor_and_state_errors():
    with pytest.raises(ValueError, match="`architecture` must be one of .*Received: architecture='rnn'"):
        DocumentClassifier(architecture="rnn")
    with pytest.raises(ValueError, match="`num_classes` must be an int >= 2. Received: num_classes=1"):
        DocumentClassifier(num_classes=1)
    with pytest.raises(ValueError, match="`max_words` must be a positive int. Received: max_words=0"):
        DocumentClassifier(max_words=0)
    with pytest.raises(ValueError, match="`label_features` must be True or False. Received: label_features=1"):
        DocumentClassifier(label_features=1)
    with pytest.raises(ValueError, match="call `adapt"):
        DocumentClassifier().predict(["text"])


@pytest.mark.parametrize("name", [
    "kzoo.text.documents",
    "kzoo.applications.document_classifier",
    "kzoo.applications.classification_report",
    "kzoo.plot.document",
    "kzoo.data.documents_corpus",
])
def test_docstring_examples(name):
    import doctest
    import importlib

    import matplotlib

    matplotlib.use("Agg")
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
