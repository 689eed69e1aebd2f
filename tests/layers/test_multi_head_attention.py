"""Multi-head attention with pluggable scores, against NumPy written by hand."""

import keras
import numpy as np
import pytest

from kzoo.layers import MultiHeadAttention
from kzoo.testing.layer_test import run_layer_test

RNG = np.random.default_rng(4)
X = RNG.normal(size=(2, 5, 8)).astype("float32")
Y = RNG.normal(size=(2, 7, 6)).astype("float32")
X_MASK = np.array([[1, 1, 1, 1, 0], [1] * 5], bool)
Y_MASK = np.array([[1] * 4 + [0] * 3, [1] * 7], bool)


def softmax(x, mask):
    e = np.where(mask, np.exp(x - np.where(mask, x, -np.inf).max(-1, keepdims=True)), 0)
    return e / np.maximum(e.sum(-1, keepdims=True), 1e-30)


def reference(layer, q, v, q_mask, v_mask, causal=False, score=lambda q, k: q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1])):
    """Per-head projections, scores, masked softmax, concatenation and output projection."""
    def proj(dense, x):
        kernel, bias = [np.asarray(w) for w in dense.weights]
        return np.einsum("btd,dhk->bhtk", x, kernel) + bias[None, :, None, :]

    qh, kh, vh = proj(layer.query_dense, q), proj(layer.key_dense, v), proj(layer.value_dense, v)
    mask = np.broadcast_to(v_mask[:, None, None, :], (q.shape[0], 1, q.shape[1], v.shape[1]))
    if causal:
        mask = mask & np.tril(np.ones((q.shape[1], v.shape[1]), bool))
    w = softmax(score(qh, kh), mask) * q_mask[:, None, :, None]
    heads = w @ vh  # (B, H, Tq, dv)
    kernel, bias = [np.asarray(x) for x in layer.output_dense.weights]
    return np.einsum("bhtk,hkd->btd", heads, kernel) + bias, w


@pytest.mark.parametrize("score", ["scaled_dot", "general"])
def test_layer_contract_cross_attention(score):
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": 2, "key_dim": 3, "score": score},
        [X, Y],
        mask=[X_MASK, Y_MASK],
        call_kwargs={"return_attention_scores": True},
        expected_output_shape=[(2, 5, 8), (2, 2, 5, 7)],
    )


def test_cross_attention_matches_numpy():
    layer = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4)
    out, w = layer([X, Y], mask=[X_MASK, Y_MASK], return_attention_scores=True)
    ref_out, ref_w = reference(layer, X, Y, X_MASK, Y_MASK)
    np.testing.assert_allclose(w, ref_w, atol=1e-5)
    # a padded query's output is zeroed after the output projection
    np.testing.assert_allclose(out, ref_out * X_MASK[:, :, None], atol=1e-5)


def test_causal_self_attention_matches_numpy():
    layer = MultiHeadAttention(num_heads=4, key_dim=2)
    out, w = layer([X, X], use_causal_mask=True, return_attention_scores=True)
    ones = np.ones((2, 5), bool)
    ref_out, ref_w = reference(layer, X, X, ones, ones, causal=True)
    np.testing.assert_allclose(w, ref_w, atol=1e-5)
    np.testing.assert_allclose(out, ref_out, atol=1e-5)
    assert np.all(np.asarray(w)[:, :, 0, 1:] == 0)


def test_pluggable_cosine_score():
    layer = MultiHeadAttention(num_heads=2, key_dim=3, score="cosine")
    out, w = layer([X, X], return_attention_scores=True)
    scale = float(np.asarray(layer.attention.score.scale_weight))

    def cosine(q, k):
        q = q / np.linalg.norm(q, axis=-1, keepdims=True)
        k = k / np.linalg.norm(k, axis=-1, keepdims=True)
        return scale * q @ k.swapaxes(-1, -2)

    ones = np.ones((2, 5), bool)
    ref_out, ref_w = reference(layer, X, X, ones, ones, score=cosine)
    np.testing.assert_allclose(w, ref_w, atol=1e-5)


def test_matches_keras_multi_head_attention_with_same_weights():
    ours = MultiHeadAttention(num_heads=2, key_dim=3)
    theirs = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    ours([X, Y])
    theirs(X, Y)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours([X, Y]), theirs(X, Y), atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_heads": 0, "key_dim": 2}, r"`num_heads` must be a positive int. Received: num_heads=0"),
        ({"num_heads": 2, "key_dim": 2.0}, r"`key_dim` must be a positive int. Received: key_dim=2.0"),
        ({"num_heads": 2, "key_dim": 2, "score": "nope"}, r"`score` must be one of"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultiHeadAttention(**kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"same batch size"):
        MultiHeadAttention(2, 3)([X, Y[:1]])
    with pytest.raises(ValueError, match=r"`value` must have shape \(batch_size, length, dim\)"):
        MultiHeadAttention(2, 3)([X, Y[0]])
