"""Translator: fit on the embedded corpus, greedy/beam decoding, attention, bad input, save/load."""

import keras
import numpy as np
import pytest
import sacrebleu
import tensorflow as tf

from kzoo.applications import Translator
from kzoo.data import load_embedded, make_pairs_dataset
from kzoo.testing.application_test import check_keras_roundtrip, check_moving_average

SIZE = 6000


def train_tiny(seed=0, epochs=4, **kwargs):
    keras.utils.set_random_seed(seed)
    sources, targets = load_embedded("train", size=SIZE)
    config = dict(units=128, embedding_dim=64, seed=seed)
    config.update(kwargs)
    translator = Translator(**config)
    translator.adapt(sources, targets)
    translator.compile()
    dataset = make_pairs_dataset(sources, targets, batch_size=32, seed=seed)
    history = translator.fit(dataset, epochs=epochs, verbose=0)
    return translator, history


@pytest.fixture(scope="module")
def trained():
    return train_tiny()[0]


@pytest.fixture(scope="module")
def test_split():
    return load_embedded("test", size=SIZE)


def test_fit_learns_the_embedded_corpus(trained, test_split):
    sources, targets = test_split
    hypotheses = trained.translate(sources)
    bleu = sacrebleu.corpus_bleu(hypotheses, [targets]).score
    assert bleu > 60, bleu  # 4 short epochs give ~87; an untrained model scores < 2


def test_single_string_in_single_string_out(trained, test_split):
    sources, _ = test_split
    assert trained.translate(sources[0]) == trained.translate([sources[0]])[0]
    assert trained.translate([]) == []


def test_beam_width_one_equals_greedy_and_beam_is_no_worse(trained, test_split):
    sources, targets = test_split
    greedy = trained.translate(sources[:40])
    assert trained.translate(sources[:40], beam_width=1) == greedy
    from kzoo.seq2seq import BeamSampler

    ids = trained.source_tokenizer(tf.constant(sources[:40]))
    beam1, _ = trained.decode_ids(ids, 30, BeamSampler(1))
    greedy_ids, _ = trained.decode_ids(ids, 30, "greedy")
    np.testing.assert_array_equal(beam1, greedy_ids)
    beam4 = trained.translate(sources[:40], beam_width=4, length_penalty=0.6)
    assert all(isinstance(t, str) and t for t in beam4)
    b_greedy = sacrebleu.corpus_bleu(greedy, [targets[:40]]).score
    b_beam = sacrebleu.corpus_bleu(beam4, [targets[:40]]).score
    assert b_beam >= b_greedy - 5.0


def test_batch_decoding_equals_one_by_one(trained, test_split):
    sources = test_split[0][:6]  # mixed lengths
    batch = trained.translate(sources)
    assert batch == [trained.translate(s) for s in sources]


def test_return_attention_gives_a_distribution_per_output_token(trained, test_split):
    source = test_split[0][1]
    text, record = trained.translate(source, return_attention=True)
    weights = record["weights"]
    assert weights.shape == (len(record["target_tokens"]), len(record["source_tokens"]))
    assert record["source_tokens"] == [w.decode() for w in trained.source_tokenizer.split([source]).to_list()[0]]
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    assert record["target_tokens"][-1] == "[END]" or len(record["target_tokens"]) == trained.max_target_length


def test_bad_input_is_handled(trained):
    out = trained.translate(["", "...", "qqq zzz xyzzy", "! ? ,", "ĉevalo " * 300])
    assert len(out) == 5 and all(isinstance(t, str) and "[UNK]" not in t for t in out)
    assert len(trained.translate("lo hundo dormas .", max_length=2).split()) <= 2
    with pytest.raises(TypeError, match=r"`texts` must be a string or a list of strings. Received: texts of type int"):
        trained.translate(5)
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        trained.translate(["ok", None])
    with pytest.raises(ValueError, match="beam_width"):
        trained.translate("x", beam_width=0)
    with pytest.raises(ValueError, match="max_length"):
        trained.translate("x", max_length=0)


def test_keras_save_load_keeps_vocabularies_and_translations(trained, test_split, tmp_path):
    sources = test_split[0][:10]
    restored = check_keras_roundtrip(
        trained, lambda m: m.translate(sources) + m.translate(sources[:3], beam_width=3), tmp_path / "t.keras"
    )
    assert restored.source_tokenizer.vocabulary == trained.source_tokenizer.vocabulary
    assert restored.target_tokenizer.vocabulary == trained.target_tokenizer.vocabulary


def test_same_seed_same_result():
    sources, targets = load_embedded("train", size=400)
    runs = []
    for _ in range(2):
        keras.utils.set_random_seed(3)
        tr = Translator(units=16, embedding_dim=8, seed=3)
        tr.adapt(sources, targets)
        tr.compile()
        tr.fit(make_pairs_dataset(sources, targets, batch_size=32, seed=3), epochs=1, verbose=0)
        runs.append([w.numpy() for w in tr.weights])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "config",
    [
        dict(attention=None),
        dict(attention="local-m", window=2, cell="gru"),
        dict(attention="local-p", bidirectional=True, num_layers=2),
        dict(attention="hard", score="dot"),
        dict(input_feeding=True, scheduled_sampling={"name": "linear", "decay_steps": 20}, tokenizer="wordpiece"),
    ],
    ids=["none", "local-m-gru", "local-p-bi-2layers", "hard", "input-feeding-sampling-wordpiece"],
)
def test_every_configuration_trains_decodes_and_round_trips(config, tmp_path):
    sources, targets = load_embedded("train", size=300)
    keras.utils.set_random_seed(1)
    tr = Translator(units=16, embedding_dim=8, max_vocabulary_size=300, **config)
    tr.adapt(sources, targets)
    tr.compile()
    history = tr.fit(sources, targets, batch_size=32, epochs=2, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    check_keras_roundtrip(
        tr, lambda m: m.translate(sources[:4]) + m.translate(sources[:2], beam_width=2), tmp_path / "c.keras"
    )


def test_unadapted_translator_says_what_to_do():
    with pytest.raises(ValueError, match="adapt"):
        Translator().translate("hola")
    with pytest.raises(ValueError, match="units"):
        Translator(units=15, bidirectional=True)


def test_sampled_softmax_training_learns_and_reports_full_softmax_metrics(monkeypatch, tmp_path):
    """With a vocabulary of 2·num_sampled or more, `fit` trains on the sampled softmax (the spy
    sees it) and learns about as well as the full softmax (full-softmax evaluation); the
    compiled metrics see every token's full logits; compile settings survive `.keras` save/load."""
    import warnings

    from kzoo.applications import task as translator_module  # the shared core owns the training step
    from kzoo.seq2seq import MaskedTokenAccuracy

    calls = []
    real = translator_module.sampled_softmax_loss
    monkeypatch.setattr(translator_module, "sampled_softmax_loss", lambda *a, **k: calls.append(a[4]) or real(*a, **k))
    sources, targets = load_embedded("train", size=1500)
    dataset = make_pairs_dataset(sources, targets, batch_size=32, seed=0)
    losses = {}
    for num_sampled in (None, 64):
        keras.utils.set_random_seed(0)
        tr = Translator(units=32, embedding_dim=16, seed=0)
        tr.adapt(sources, targets)
        tr.compile(num_sampled=num_sampled, learning_rate=1e-2)
        assert tr.target_tokenizer.vocabulary_size >= 128
        before = tr.evaluate(dataset, verbose=0, return_dict=True)["loss"]
        tr.fit(dataset, epochs=3, verbose=0)
        losses[num_sampled] = tr.evaluate(dataset, verbose=0, return_dict=True)["loss"]
    assert set(calls) == {64}
    assert losses[64] < 0.6 * before  # the full softmax cross-entropy fell
    assert losses[64] == pytest.approx(losses[None], rel=0.1)
    path = tmp_path / "s.keras"
    tr.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "compile() was not restored" warning
        restored = keras.models.load_model(path)
    assert restored._default_compile == {"label_smoothing": 0.0, "learning_rate": 1e-2, "num_sampled": 64, "ema_momentum": None}
    calls.clear()
    accuracy = MaskedTokenAccuracy()
    restored.compile(num_sampled=64, metrics=[accuracy])
    restored.fit(dataset, epochs=1, verbose=0)
    assert calls and set(calls) == {64}  # traced (once per input signature)
    tokens = sum(int(tf.math.count_nonzero(t)) for t in dataset.map(restored.prepare).map(lambda x, y: y))
    assert float(accuracy.total) == tokens  # every target token of the epoch, from full logits


def test_ema_momentum_validates_with_and_keeps_the_moving_average_of_the_weights(tmp_path):
    """The shared core's `compile(ema_momentum=m)`: after `fit` the weights are the moving average
    of the per-step weights computed by hand, validation scored the average, `.keras` keeps it."""
    sources, targets = load_embedded("train", size=200)
    dataset = make_pairs_dataset(sources[:96], targets[:96], batch_size=32, seed=0)
    keras.utils.set_random_seed(0)
    tr = Translator(units=16, embedding_dim=8, seed=0)
    tr.adapt(sources, targets)
    tr.compile(learning_rate=1e-2, ema_momentum=0.5)
    raw = []  # the trained (not averaged) weights after every step
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: raw.append([w.numpy().copy() for w in tr.trainable_weights]))
    history = tr.fit(dataset, epochs=2, validation_data=dataset, callbacks=[record], verbose=0)
    assert len(raw) == 2 * len(list(dataset))
    check_moving_average(tr, raw, 0.5)
    assert tr.evaluate(dataset, verbose=0, return_dict=True)["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-5)
    tr.save(tmp_path / "ema.keras")
    loaded = keras.saving.load_model(tmp_path / "ema.keras")
    assert loaded.optimizer.use_ema and loaded.optimizer.ema_momentum == 0.5
    assert loaded.translate(sources[:4]) == tr.translate(sources[:4])
    with pytest.raises(ValueError, match=r"`ema_momentum` must be None or a number in \(0, 1\). Received: ema_momentum=0"):
        tr.compile(ema_momentum=0)
    with pytest.raises(ValueError, match=r"`ema_momentum` configures the default optimizer.*optimizer='sgd', ema_momentum=0.9"):
        tr.compile(optimizer="sgd", ema_momentum=0.9)


def test_full_softmax_when_sampling_would_not_pay_off(monkeypatch):
    from kzoo.applications import task as translator_module  # the shared core owns the training step

    calls = []
    monkeypatch.setattr(translator_module, "sampled_softmax_loss", lambda *a, **k: calls.append(1))
    sources, targets = load_embedded("train", size=200)
    for compile_args in (dict(), dict(num_sampled=None), dict(num_sampled=16, label_smoothing=0.1)):
        tr = Translator(units=8, embedding_dim=8)
        tr.adapt(sources, targets)  # a small target vocabulary: < 2 * 512
        tr.compile(**compile_args)
        tr.fit(sources[:64], targets[:64], epochs=1, verbose=0)
    assert calls == []
    with pytest.raises(ValueError, match="num_sampled"):
        tr.compile(num_sampled=0)


def test_vocabulary_caps_per_language_and_default_token_metrics(tmp_path):
    sources = [f"palabra{i % 40} otra{i % 7}" for i in range(200)]
    targets = [f"word{i % 40} other{i % 7} word{i % 3}" for i in range(200)]
    translator = Translator(units=8, embedding_dim=8, max_vocabulary_size=(30, 12))
    translator.adapt(sources, targets)
    assert translator.source_tokenizer.vocabulary_size == 30
    assert translator.target_tokenizer.vocabulary_size == 12
    # the kept target words are the most frequent ones
    assert set(translator.target_tokenizer.vocabulary[4:]) >= {"word0", "word1", "word2"}
    both = Translator(units=8, embedding_dim=8, max_vocabulary_size=20)
    both.adapt(sources, targets)
    assert (both.source_tokenizer.vocabulary_size, both.target_tokenizer.vocabulary_size) == (20, 20)
    assert Translator.from_config(translator.get_config()).max_vocabulary_size == (30, 12)
    for bad in (0, (30,), (30, "12"), True):
        with pytest.raises(ValueError, match="max_vocabulary_size"):
            Translator(max_vocabulary_size=bad)
    translator.compile()
    logs = translator.fit(sources, targets, batch_size=50, epochs=1, verbose=0).history
    assert {"token_accuracy", "token_precision", "token_recall", "token_f1"} <= set(logs), logs
    from sklearn.metrics import f1_score, precision_score, recall_score

    results = translator.evaluate(sources[:50], targets[:50], return_dict=True, verbose=0)
    (source_ids, target_in), target_out = translator.prepare(tf.constant(sources[:50]), tf.constant(targets[:50]))
    predictions = np.asarray(translator((source_ids, target_in))).argmax(-1)
    real = np.asarray(target_out) != 0
    truth, predicted = np.asarray(target_out)[real], predictions[real]
    for name, reference in (("token_precision", precision_score), ("token_recall", recall_score), ("token_f1", f1_score)):
        expected = reference(truth, predicted, average="macro", zero_division=np.nan)
        np.testing.assert_allclose(results[name], expected, atol=1e-6, err_msg=name)


def test_several_models_in_one_process_do_not_warn_of_retracing(caplog):
    """Each model traces its own decoding function once; TensorFlow must not count seven models'
    first calls as retracing of one function (it warns after five)."""
    with caplog.at_level("WARNING", logger="tensorflow"):
        for seed in range(7):
            tr = Translator(units=8, embedding_dim=8, seed=seed)
            tr.adapt(["a b c", "b c"], ["x y", "y z"])
            tr.translate(["a b"])
    assert "retracing" not in caplog.text
