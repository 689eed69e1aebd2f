"""Attention pooling (Yang et al. 2016 word attention) against NumPy."""

import numpy as np
import pytest

from kzoo.layers import AttentionPooling
from kzoo.testing.layer_test import run_layer_test

RNG = np.random.default_rng(5)
H = RNG.normal(size=(3, 6, 4)).astype("float32")
MASK = np.array([[1] * 6, [1, 1, 1, 0, 0, 0], [0] * 6], bool)


def test_layer_contract():
    run_layer_test(
        AttentionPooling,
        {},
        H,
        mask=MASK,
        call_kwargs={"return_attention_scores": True},
        expected_output_shape=[(3, 4), (3, 6)],
    )


def test_concat_pooling_is_han_word_attention():
    layer = AttentionPooling()
    out, w = layer(H, mask=MASK, return_attention_scores=True)
    score = layer.attention.score
    u = np.asarray(layer.query)[0, 0] @ np.asarray(score.query_kernel)  # constant per sample
    logits = np.tanh(H @ np.asarray(score.key_kernel) + u) @ np.asarray(score.vector)  # (B, T)
    e = np.where(MASK, np.exp(logits - logits.max(-1, keepdims=True)), 0)
    expected_w = e / np.maximum(e.sum(-1, keepdims=True), 1e-30)
    np.testing.assert_allclose(w, expected_w, atol=1e-6)
    np.testing.assert_allclose(out, np.einsum("bt,btd->bd", expected_w, H), atol=1e-5)


def test_fully_masked_sequence_pools_to_zero():
    out, w = AttentionPooling()(H, mask=MASK, return_attention_scores=True)
    assert np.all(np.asarray(out)[2] == 0) and np.all(np.asarray(w)[2] == 0)
    np.testing.assert_allclose(np.asarray(w)[:2].sum(-1), 1.0, atol=1e-6)


def test_pooling_with_dot_score_and_query_dim():
    layer = AttentionPooling(score="general", query_dim=3)
    out, w = layer(H, return_attention_scores=True)
    query = np.asarray(layer.query)[0, 0]
    logits = query @ np.asarray(layer.attention.score.kernel) @ H.transpose(0, 2, 1)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(w, e / e.sum(-1, keepdims=True), atol=1e-6)


def test_bad_input_rank_and_arguments():
    with pytest.raises(ValueError, match=r"`inputs` must have shape \(batch_size, T, D\).*Received: inputs.shape=\(3, 6\)"):
        AttentionPooling()(H[:, :, 0])
    with pytest.raises(ValueError, match=r"`query_dim` must be a positive int or None. Received: query_dim=0"):
        AttentionPooling(query_dim=0)
