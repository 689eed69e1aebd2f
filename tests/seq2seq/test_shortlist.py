"""Lexical shortlists: Dice tables against plain Python, candidate sets, and decoding over them
equal to full decoding with every other word masked."""

import collections
import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from kzoo.applications import Translator
from kzoo.data import load_embedded
from kzoo.seq2seq import LexicalShortlist, lexical_shortlist, shortlist_candidates
from kzoo.seq2seq import shortlist as shortlist_module


def _dice_reference(pairs, source_size, target_size, frequent, per_source):
    """The same table written the slow way: sets per sentence, Dice per word pair, sort."""
    joint, source_count, target_count = collections.Counter(), collections.Counter(), collections.Counter()
    for src, tgt in pairs:
        for s_row, t_row in zip(src, tgt):
            s_set, t_set = {s for s in s_row if s >= 4}, {t for t in t_row if t >= 4}
            source_count.update(s_set)
            target_count.update(t_set)
            joint.update(itertools.product(s_set, t_set))
    table = np.zeros((source_size, per_source), np.int32)
    for s in range(source_size):
        ranked = sorted((t for (s2, t) in joint if s2 == s), key=lambda t: (-2 * joint[s, t] / (source_count[s] + target_count[t]), t))
        table[s, : len(ranked[:per_source])] = ranked[:per_source]
    top = sorted(target_count, key=lambda t: (-target_count[t], t))[:frequent]
    return table, [0, 1, 2, 3] + top


def test_dice_table_and_frequent_words_match_plain_python(monkeypatch):
    rng = np.random.default_rng(0)
    pairs = []
    for n in (7, 5, 9):  # batches of different widths, with repeated words and padding
        src = rng.integers(0, 12, (n, 6))
        tgt = rng.integers(0, 15, (n, 4))
        src[:, -1] = 0
        pairs.append((src, tgt))
    table, top = lexical_shortlist(pairs, 12, 15, frequent=5, per_source=3)
    expected_table, expected_top = _dice_reference(pairs, 12, 15, 5, 3)
    np.testing.assert_array_equal(table, expected_table)
    assert top.tolist() == expected_top
    assert not table[:4].any()  # reserved source ids have no candidates
    monkeypatch.setattr(shortlist_module, "_MERGE_AT", 1)  # counts merged after every batch: the same table
    merged_table, merged_top = lexical_shortlist(pairs, 12, 15, frequent=5, per_source=3)
    np.testing.assert_array_equal(merged_table, expected_table)
    assert merged_top.tolist() == expected_top


def test_candidates_are_each_sentences_own_words():
    table = np.zeros((8, 2), np.int32)
    table[4], table[5], table[6] = (10, 11), (11, 12), (13, 0)
    frequent = np.array([0, 1, 2, 3, 9], np.int32)
    candidates, allowed = shortlist_candidates([[4, 6, 0], [5, 5, 0], [0, 0, 0]], table, frequent, 15)
    candidates, allowed = candidates.numpy(), allowed.numpy()
    assert candidates.tolist() == [0, 1, 2, 3, 9, 10, 11, 12, 13]
    rows = [set(candidates[a].tolist()) for a in allowed]
    assert rows == [{0, 1, 2, 3, 9, 10, 11, 13}, {0, 1, 2, 3, 9, 11, 12}, {0, 1, 2, 3, 9}]
    everything, allowed = shortlist_candidates([[4]], table, frequent, 15, everything=1)
    assert everything.numpy().tolist() == list(range(15)) and allowed.numpy().all()


@pytest.fixture(scope="module")
def translator():
    keras.utils.set_random_seed(0)
    sources, targets = load_embedded("train", size=400)
    model = Translator(units=16, embedding_dim=8, max_target_length=12, shortlist=(6, 2), seed=0)
    model.adapt(sources, targets)
    model.compile()
    model.fit(sources, targets, epochs=1, verbose=0)
    return model, sources


def test_greedy_over_the_shortlist_equals_full_logits_with_the_rest_masked(translator):
    model, sources = translator
    ids = model.source_tokenizer(tf.constant(sources[:6]))
    candidates, allowed = model.shortlist_layer(ids)
    sets = [candidates.numpy()[row] for row in allowed.numpy()]
    assert all(len(s) < model.target_tokenizer.vocabulary_size for s in sets)  # the shortlist restricts
    memory, memory_mask, states = model.decoder_start(ids, training=False)
    state = model.decoder.initial_state(states, len(sources[:6]))
    previous, done, expected = np.full(6, 2), np.zeros(6, bool), []
    for t in range(12):
        logits, state, _ = model.decoder.step(tf.constant(previous, tf.int32), state, memory, memory_mask, t, training=False)
        masked = np.full(logits.shape, -np.inf)
        for i, ok in enumerate(sets):
            masked[i, ok] = logits.numpy()[i, ok]
        masked[:, :3] = -np.inf  # padding, unknown and start are never produced
        token = np.where(done, 0, masked.argmax(-1))
        expected.append(token)
        done |= token == 3
        previous = token
    tokens, _ = model.decode_ids(ids, 12, model.sampler())
    np.testing.assert_array_equal(tokens.numpy(), np.stack(expected, 1))


def test_a_sentence_translates_the_same_in_any_batch(translator):
    model, sources = translator
    texts = sources[:7]
    for beam_width in (1, 3):
        assert model.translate(texts, beam_width=beam_width) == [model.translate(t, beam_width=beam_width) for t in texts]


def test_unlearned_shortlist_is_the_whole_vocabulary_and_none_is_allowed(translator):
    model, sources = translator
    layer = LexicalShortlist(model.source_tokenizer.vocabulary_size, model.target_tokenizer.vocabulary_size, 6, 2)
    candidates, allowed = layer(model.source_tokenizer(tf.constant(sources[:2])))
    assert candidates.numpy().tolist() == list(range(model.target_tokenizer.vocabulary_size)) and allowed.numpy().all()
    full = Translator.from_config({**model.get_config(), "shortlist": None})
    full.build()
    for mine, theirs in zip(full.weights, [w for w in model.weights if not w.path.startswith("shortlist")]):
        mine.assign(theirs)
    assert not any(w.path.startswith("shortlist") for w in full.weights)
    tokens, _ = full.decode_ids(model.source_tokenizer(tf.constant(sources[:4])), 12, full.sampler())
    assert tokens.shape == (4, 12)


def test_shortlist_survives_keras_save_and_old_files_load(translator, tmp_path):
    model, sources = translator
    path = str(tmp_path / "t.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded.shortlist_layer.table.numpy(), model.shortlist_layer.table.numpy())
    assert loaded.translate(sources[:8]) == model.translate(sources[:8])
    config = model.get_config()
    del config["shortlist"]  # what a file saved before shortlists existed holds
    assert Translator.from_config(config).shortlist is None


def test_bad_shortlist_arguments():
    with pytest.raises(ValueError, match=r"`shortlist` must be None or a pair of ints >= 1 `\(frequent, per_source\)`. Received: shortlist=5"):
        Translator(shortlist=5)
    with pytest.raises(ValueError, match=r"Received: shortlist=\(0, 3\)"):
        Translator(shortlist=(0, 3))
    model = Translator(units=8, embedding_dim=8)
    with pytest.raises(ValueError, match=r"`source_texts` and `target_texts` must be aligned pairs .* Received: 2 source and 1 target"):
        model.adapt(["a b", "c"], ["x"])
    model.adapt(["a b", "c"], ["x", "y"])  # nothing was changed by the failed call
    with pytest.raises(ValueError, match=r"must be aligned sentence pairs .* Received: a batch of shape \(2, 3\) against \(1, 3\)"):
        lexical_shortlist([(np.ones((2, 3)), np.ones((1, 3)))], 5, 5)
