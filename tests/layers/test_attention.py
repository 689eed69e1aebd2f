"""Soft (global) attention: numerics against NumPy, masks, causal, dropout, mixed precision, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kzoo.layers import Attention
from kzoo.layers.attention import masked_softmax
from kzoo.testing.layer_test import run_layer_test

RNG = np.random.default_rng(1)
Q = RNG.normal(size=(2, 3, 4)).astype("float32")
V = RNG.normal(size=(2, 5, 4)).astype("float32")
K = RNG.normal(size=(2, 5, 4)).astype("float32")
Q_MASK = np.array([[1, 1, 0], [1, 1, 1]], bool)
V_MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)


def softmax(x, mask=None):
    x = np.where(mask, x, -np.inf) if mask is not None else x
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("score", ["dot", "scaled_dot", "general", "cosine", "concat", "mlp"])
def test_layer_contract(score):
    run_layer_test(
        Attention,
        {"score": score},
        [Q, V, K],
        mask=[Q_MASK, V_MASK],
        call_kwargs={"return_attention_scores": True},
        expected_output_shape=[(2, 3, 4), (2, 3, 5)],
    )


def test_dot_attention_equals_softmax_qkT_v_with_masks():
    out, w = Attention()([Q, V, K], mask=[Q_MASK, V_MASK], return_attention_scores=True)
    expected_w = softmax(Q @ K.transpose(0, 2, 1), V_MASK[:, None, :]) * Q_MASK[:, :, None]
    expected = expected_w @ V  # padded queries: weights and output all zero
    np.testing.assert_allclose(w, expected_w, atol=1e-6)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_weights_sum_to_one_and_are_exactly_zero_on_masked_keys():
    _, w = Attention(score="general")([Q, V], mask=[None, V_MASK], return_attention_scores=True)
    w = np.asarray(w)
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)
    assert np.all(w[0, :, 3:] == 0.0)


def test_fully_masked_row_is_finite_zero():
    mask = np.zeros((2, 5), bool)
    out, w = Attention()([Q, V], mask=[None, mask], return_attention_scores=True)
    assert np.all(np.asarray(out) == 0.0) and np.all(np.asarray(w) == 0.0)
    grad_q = tf.constant(Q)
    with tf.GradientTape() as tape:
        tape.watch(grad_q)
        total = tf.reduce_sum(Attention()([grad_q, V], mask=[None, mask]))
    assert np.all(np.isfinite(tape.gradient(total, grad_q)))


def test_causal_mask_sees_only_the_past():
    x = RNG.normal(size=(1, 4, 4)).astype("float32")
    _, w = Attention()([x, x], use_causal_mask=True, return_attention_scores=True)
    causal = np.tril(np.ones((4, 4), bool))
    np.testing.assert_allclose(w[0], softmax(x[0] @ x[0].T, causal), atol=1e-6)


def test_masked_values_receive_no_gradient():
    v = tf.constant(V)
    with tf.GradientTape() as tape:
        tape.watch(v)
        total = tf.reduce_sum(Attention(score="general")([Q, v], mask=[None, V_MASK]) ** 2)
    grad = np.asarray(tape.gradient(total, v))
    assert np.all(grad[0, 3:] == 0.0) and np.any(grad[0, :3] != 0.0)


def test_dropout_only_in_training():
    layer = Attention(dropout=0.5, seed=3)
    eval_out = layer([Q, V])
    np.testing.assert_allclose(layer([Q, V]), eval_out)
    _, w_train = layer([Q, V], training=True, return_attention_scores=True)
    train_out = layer([Q, V], training=True)
    assert not np.allclose(train_out, eval_out)
    # Weights returned are the undropped distribution (what the layer attends to).
    np.testing.assert_allclose(np.asarray(w_train).sum(-1), 1.0, atol=1e-6)


def test_large_scores_do_not_overflow_in_mixed_float16():
    q = np.full((1, 2, 8), 120.0, "float32")  # q·k = 115200 > float16 max 65504
    v = np.stack([np.full((3, 8), 100.0), np.full((3, 8), 120.0)], 0)[:1].astype("float32")
    v[0, 1] = 121.0
    layer = Attention(dtype="mixed_float16")
    out, w = layer([q, v], return_attention_scores=True)
    assert np.all(np.isfinite(np.asarray(out, "float32")))
    expected_w = softmax(q.astype("float64") @ v.astype("float64").transpose(0, 2, 1))
    np.testing.assert_allclose(np.asarray(w, "float32"), expected_w, atol=1e-3)
    # Keras' own layer overflows on the same input.
    keras_out = keras.layers.Attention(dtype="mixed_float16")([q, v])
    assert not np.all(np.isfinite(np.asarray(keras_out, "float32")))


def test_masked_softmax_matches_numpy():
    x = RNG.normal(size=(2, 3, 5)).astype("float32") * 30
    got = masked_softmax(x, V_MASK[:, None, :])
    np.testing.assert_allclose(got, softmax(x, V_MASK[:, None, :]), atol=1e-6)


def test_matches_keras_attention_on_dot_scores():
    ours = Attention()([Q, V, K], mask=[Q_MASK, V_MASK])
    theirs = keras.layers.Attention()([Q, V, K], mask=[Q_MASK, V_MASK])
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


@pytest.mark.parametrize(
    "inputs, match",
    [
        (Q, r"`inputs` must be a list \[query, value\].*Received: inputs of type"),
        ([Q[0], V], r"`query` must have shape \(batch_size, length, dim\).*Received: query.shape=\(3, 4\)"),
        ([Q, V[:1]], r"same batch size.*Received: query.shape=\(2, 3, 4\), value.shape=\(1, 5, 4\)"),
        ([Q, V, K[:, :4]], r"same length.*Received: value.shape=\(2, 5, 4\), key.shape=\(2, 4, 4\)"),
        ([Q, RNG.normal(size=(2, 5, 6)).astype("float32")], r"same last dimension.*key.shape=\(2, 5, 6\)"),
    ],
)
def test_bad_inputs_raise_clear_errors(inputs, match):
    with pytest.raises(ValueError, match=match):
        Attention()(inputs)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"`score` must be one of .*Received: score='bilinear'"):
        Attention(score="bilinear")
    with pytest.raises(ValueError, match=r"`dropout` must be a float in \[0, 1\). Received: dropout=1.5"):
        Attention(dropout=1.5)
    with pytest.raises(ValueError, match=r"`mask` must be a list"):
        Attention()([Q, V], mask=V_MASK)


def test_keras_masks_propagate_from_embedding(recwarn):
    tokens = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(tokens)
    out, weights = Attention(score="general")([embedded, embedded], return_attention_scores=True)
    model = keras.Model(tokens, [out, weights])
    _, w = model(np.array([[3, 5, 7, 0, 0]]))
    w = np.asarray(w)[0]
    assert np.all(w[:, 3:] == 0) and np.all(w[3:] == 0)  # padded keys and padded queries
    np.testing.assert_allclose(w[:3].sum(-1), 1.0, atol=1e-6)
    assert not [str(x.message) for x in recwarn if "mask" in str(x.message)]
