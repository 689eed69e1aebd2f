"""Local attention (Luong et al. 2015 local-m and local-p) against NumPy written by hand."""

import numpy as np
import pytest
import tensorflow as tf

from kzoo.layers import LocalAttention
from kzoo.testing.layer_test import run_layer_test

RNG = np.random.default_rng(3)
X = RNG.normal(size=(2, 6, 4)).astype("float32")
SRC = RNG.normal(size=(2, 9, 4)).astype("float32")
SRC_MASK = np.array([[1] * 7 + [0] * 2, [1] * 9], bool)


def window_softmax(scores, positions, window, mask=None, sigma=None):
    """scores (B, Tq, Tv); positions (B, Tq); keys with |s - p| <= window, optional Gaussian."""
    s = np.arange(scores.shape[-1])[None, None, :]
    dist = s - positions[:, :, None]
    keep = np.abs(dist) <= window
    if mask is not None:
        keep &= mask[:, None, :]
    if sigma is not None:
        scores = scores - dist**2 / (2 * sigma**2)
    e = np.where(keep, np.exp(scores - np.where(keep, scores, -np.inf).max(-1, keepdims=True)), 0)
    return e / np.maximum(e.sum(-1, keepdims=True), 1e-30)


@pytest.mark.parametrize("mode", ["monotonic", "predictive"])
def test_layer_contract(mode):
    run_layer_test(
        LocalAttention,
        {"window": 2, "mode": mode, "score": "general"},
        [X, SRC],
        mask=[None, SRC_MASK],
        call_kwargs={"return_attention_scores": True},
        expected_output_shape=[(2, 6, 4), (2, 6, 9)],
    )


def test_local_m_equal_lengths_aligns_p_t_equal_t_and_zeroes_outside_window():
    _, w = LocalAttention(window=1, score="dot")([X, X], return_attention_scores=True)
    w = np.asarray(w)
    positions = np.tile(np.arange(6, dtype=float), (2, 1))
    np.testing.assert_allclose(w, window_softmax(X @ X.transpose(0, 2, 1), positions, 1), atol=1e-6)
    outside = np.abs(np.arange(6)[None, :] - np.arange(6)[:, None]) > 1
    assert np.all(w[:, outside] == 0.0)


def test_local_m_scales_positions_when_lengths_differ():
    _, w = LocalAttention(window=1, score="dot")([X, SRC], mask=[None, SRC_MASK], return_attention_scores=True)
    valid = SRC_MASK.sum(-1).astype(float)  # S = 7 and 9
    positions = np.arange(6)[None, :] * valid[:, None] / 6.0
    expected = window_softmax(X @ SRC.transpose(0, 2, 1), positions, 1, SRC_MASK)
    np.testing.assert_allclose(np.asarray(w), expected, atol=1e-6)


def test_explicit_positions_for_step_by_step_decoding():
    step = np.array([[4.0], [2.0]], "float32")
    _, w = LocalAttention(window=1, score="dot")(
        [X[:, :1], SRC], positions=step, return_attention_scores=True
    )
    expected = window_softmax(X[:, :1] @ SRC.transpose(0, 2, 1), step, 1)
    np.testing.assert_allclose(np.asarray(w), expected, atol=1e-6)
    assert np.all(np.asarray(w)[0, 0, [0, 1, 2, 6, 7, 8]] == 0.0)


def test_local_p_predicts_positions_and_applies_gaussian():
    layer = LocalAttention(window=2, mode="predictive", score="dot")
    _, w = layer([X, SRC], mask=[None, SRC_MASK], return_attention_scores=True)
    wp, vp = np.asarray(layer.position_kernel), np.asarray(layer.position_vector)
    S = SRC_MASK.sum(-1).astype(float)[:, None]
    p = S / (1 + np.exp(-(np.tanh(X @ wp) @ vp)))  # S · sigmoid(v_pᵀ tanh(W_p h_t))
    np.testing.assert_allclose(layer.aligned_positions(X, S.astype("float32")), p, atol=1e-5)
    expected = window_softmax(X @ SRC.transpose(0, 2, 1), p, 2, SRC_MASK, sigma=1.0)
    np.testing.assert_allclose(np.asarray(w), expected, atol=1e-5)
    dist = np.abs(np.arange(9)[None, None, :] - p[:, :, None])
    assert np.all(np.asarray(w)[dist > 2] == 0.0)
    np.testing.assert_allclose(np.asarray(w).sum(-1), 1.0, atol=1e-6)


def test_local_p_position_predictor_receives_gradients():
    layer = LocalAttention(window=2, mode="predictive", score="general")
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(layer([X, SRC]) ** 2)
    grads = tape.gradient(total, [layer.position_kernel, layer.position_vector])
    assert all(g is not None and np.any(np.asarray(g) != 0) for g in grads)


def test_window_zero_attends_to_exactly_one_key():
    _, w = LocalAttention(window=0, score="dot")([X, X], return_attention_scores=True)
    np.testing.assert_array_equal(np.asarray(w)[0], np.eye(6))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"window": -1}, r"`window` must be an int >= 0. Received: window=-1"),
        ({"window": 2.5}, r"`window` must be an int >= 0. Received: window=2.5"),
        ({"mode": "gaussian"}, r"`mode` must be one of \('monotonic', 'predictive'\). Received: mode='gaussian'"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LocalAttention(**kwargs)


def test_bad_positions_shape():
    with pytest.raises(ValueError, match=r"`positions` must have shape \(batch_size, Tq\)"):
        LocalAttention(score="dot")([X, SRC], positions=np.zeros((2,), "float32"))
