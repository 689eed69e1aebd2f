"""Hierarchical attention (Yang et al. 2016): two levels of pooling, padding, RNN encoders."""

import numpy as np
import pytest

from kzoo.layers import HierarchicalAttention
from kzoo.testing.layer_test import run_layer_test

RNG = np.random.default_rng(6)
WORDS = RNG.normal(size=(2, 3, 4, 5)).astype("float32")  # (B, S, W, D)
MASK = np.ones((2, 3, 4), bool)
MASK[0, 1, 2:] = False  # a short sentence
MASK[0, 2] = False  # a padded sentence


def pool(layer, h, mask):
    score = layer.attention.score
    u = np.asarray(layer.query)[0, 0] @ np.asarray(score.query_kernel)
    logits = np.tanh(h @ np.asarray(score.key_kernel) + u) @ np.asarray(score.vector)
    e = np.where(mask, np.exp(logits - logits.max(-1, keepdims=True)), 0)
    w = e / np.maximum(e.sum(-1, keepdims=True), 1e-30)
    return np.einsum("...t,...td->...d", w, h), w


@pytest.mark.parametrize("rnn", ["gru", "lstm"])
def test_layer_contract(rnn):
    run_layer_test(
        HierarchicalAttention,
        {"units": 3, "rnn": rnn},
        WORDS,
        mask=MASK,
        call_kwargs={"return_attention_scores": True},
        expected_output_shape=[(2, 6), (2, 3, 4), (2, 3)],
    )


def test_without_encoders_equals_two_levels_of_numpy_pooling():
    layer = HierarchicalAttention(rnn=None)
    doc, word_w, sent_w = layer(WORDS, mask=MASK, return_attention_scores=True)
    sentences, expected_word_w = pool(layer.word_attention, WORDS, MASK)  # (B, S, D), (B, S, W)
    expected_doc, expected_sent_w = pool(layer.sentence_attention, sentences, MASK.any(-1))
    np.testing.assert_allclose(word_w, expected_word_w, atol=1e-6)
    np.testing.assert_allclose(sent_w, expected_sent_w, atol=1e-6)
    np.testing.assert_allclose(doc, expected_doc, atol=1e-5)


def test_padding_gets_zero_weight_and_real_levels_sum_to_one():
    doc, word_w, sent_w = HierarchicalAttention(units=4)(WORDS, mask=MASK, return_attention_scores=True)
    word_w, sent_w = np.asarray(word_w), np.asarray(sent_w)
    assert np.all(word_w[~MASK] == 0) and sent_w[0, 2] == 0
    np.testing.assert_allclose(word_w[MASK.any(-1)].sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(sent_w.sum(-1), 1.0, atol=1e-6)


def test_document_ignores_padded_sentences_and_words():
    layer = HierarchicalAttention(units=4)
    doc = np.asarray(layer(WORDS, mask=MASK))
    shorter = layer(WORDS[:1, :2], mask=MASK[:1, :2])  # drop the padded sentence entirely
    np.testing.assert_allclose(doc[:1], shorter, atol=1e-5)


def test_unidirectional_output_size():
    doc = HierarchicalAttention(units=3, bidirectional=False)(WORDS, mask=MASK)
    assert tuple(doc.shape) == (2, 3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"units": 0}, r"`units` must be a positive int. Received: units=0"),
        ({"rnn": "transformer"}, r"`rnn` must be one of \['gru', 'lstm'\] or None. Received: rnn='transformer'"),
        ({"dropout": 1.0}, r"`dropout` must be a float in \[0, 1\). Received: dropout=1.0"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HierarchicalAttention(**kwargs)


def test_bad_rank():
    with pytest.raises(ValueError, match=r"rank-4 tensor. Received: inputs.shape=\(2, 3, 4\)"):
        HierarchicalAttention()(WORDS[..., 0])
