"""Hard attention: exact argmax at inference, Gumbel-max sampling and straight-through gradients."""

import numpy as np
import pytest
import tensorflow as tf

from kzoo.layers import HardAttention
from kzoo.testing.layer_test import run_layer_test

RNG = np.random.default_rng(2)
Q = RNG.normal(size=(2, 3, 4)).astype("float32")
V = RNG.normal(size=(2, 5, 4)).astype("float32")
V_MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)


def test_layer_contract():
    run_layer_test(
        HardAttention,
        {"score": "general", "seed": 1},
        [Q, V],
        mask=[None, V_MASK],
        call_kwargs={"return_attention_scores": True},
        expected_output_shape=[(2, 3, 4), (2, 3, 5)],
        run_mixed_precision=True,
    )


def test_inference_is_exact_one_hot_argmax_over_unmasked_keys():
    out, w = HardAttention()([Q, V], mask=[None, V_MASK], return_attention_scores=True)
    scores = np.where(V_MASK[:, None, :], Q @ V.transpose(0, 2, 1), -np.inf)
    choice = scores.argmax(-1)  # (B, Tq)
    np.testing.assert_array_equal(np.asarray(w), np.eye(5)[choice])
    np.testing.assert_array_equal(np.asarray(out), np.take_along_axis(V, choice[..., None], 1))


def test_fully_masked_row_attends_to_nothing():
    out, w = HardAttention()([Q, V], mask=[None, np.zeros((2, 5), bool)], return_attention_scores=True)
    assert np.all(np.asarray(w) == 0) and np.all(np.asarray(out) == 0)


def test_training_samples_follow_softmax_probabilities():
    # Gumbel-max: argmax(log p + g) is a sample from p. 20,000 draws, 3 keys.
    logits = np.log(np.array([0.6, 0.3, 0.1], "float32"))
    q = np.ones((20000, 1, 1), "float32")
    v = np.tile(logits[None, :, None], (20000, 1, 1)).astype("float32")  # dot score = logit
    _, w = HardAttention(seed=5)([q, v], training=True, return_attention_scores=True)
    w = np.asarray(w)[:, 0, :]
    np.testing.assert_array_equal(w.sum(-1), 1.0)  # forward pass is exactly one-hot
    assert set(np.unique(w)) <= {0.0, 1.0}
    np.testing.assert_allclose(w.mean(0), [0.6, 0.3, 0.1], atol=0.015)


def test_masked_keys_never_sampled_in_training():
    v = np.repeat(V[:1], 500, 0)
    q = np.repeat(Q[:1], 500, 0)
    mask = np.repeat(V_MASK[:1], 500, 0)
    _, w = HardAttention(seed=0)([q, v], mask=[None, mask], training=True, return_attention_scores=True)
    assert np.all(np.asarray(w)[:, :, 3:] == 0)


def test_straight_through_gradient_reaches_query_and_score():
    layer = HardAttention(score="general", temperature=0.5, seed=0)
    q = tf.constant(Q)
    with tf.GradientTape() as tape:
        tape.watch(q)
        total = tf.reduce_sum(layer([q, V], training=True) ** 2)
    grads = tape.gradient(total, [q, layer.trainable_weights[0]])
    assert all(g is not None and np.any(np.asarray(g) != 0) for g in grads)


def test_same_seed_same_samples():
    a = HardAttention(seed=7)([Q, V], training=True)
    b = HardAttention(seed=7)([Q, V], training=True)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("temperature", [0, -1.0, "hot", True])
def test_bad_temperature(temperature):
    with pytest.raises(ValueError, match=r"`temperature` must be a float > 0. Received: temperature="):
        HardAttention(temperature=temperature)
