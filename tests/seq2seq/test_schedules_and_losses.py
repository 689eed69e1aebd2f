import math

import numpy as np
import pytest

import tensorflow as tf

from kzoo.seq2seq import MaskedSparseCrossEntropy, MaskedTokenAccuracy, sampled_softmax_loss, schedules


def test_schedules_follow_bengio_et_al_formulas():
    linear = schedules.LinearSchedule(decay_steps=200, min_teacher_forcing=0.25)
    assert [round(float(linear(s)), 6) for s in (0, 50, 200, 1000)] == [0.0, 0.25, 0.75, 0.75]
    exponential = schedules.ExponentialSchedule(k=0.9)
    assert float(exponential(3)) == pytest.approx(1 - 0.9**3, rel=1e-6)
    inverse = schedules.InverseSigmoidSchedule(k=10.0)
    assert float(inverse(20)) == pytest.approx(1 - 10 / (10 + math.exp(2.0)), rel=1e-6)
    capped = schedules.InverseSigmoidSchedule(k=1.0, max_probability=0.5)
    assert float(capped(1000)) == pytest.approx(0.5)


def test_schedule_lookup_and_config():
    s = schedules.get({"name": "exponential", "k": 0.5})
    assert isinstance(s, schedules.ExponentialSchedule) and s.k == 0.5
    assert schedules.get(schedules.to_config(s)).k == 0.5
    assert schedules.get(None) is None
    with pytest.raises(ValueError, match="scheduled_sampling"):
        schedules.get("cosine")
    with pytest.raises(ValueError, match="`k` must be"):
        schedules.ExponentialSchedule(k=1.5)


def test_masked_cross_entropy_matches_numpy_with_smoothing():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 5)).astype("float32")
    labels = np.array([[1, 4, 0], [2, 0, 0]])
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    mask = labels != 0
    nll = -np.take_along_axis(log_probs, labels[..., None], -1)[..., 0]
    smooth = 0.9 * nll - 0.1 * log_probs.mean(-1)
    assert float(MaskedSparseCrossEntropy()(labels, logits)) == pytest.approx(nll[mask].mean(), rel=1e-5)
    assert float(MaskedSparseCrossEntropy(label_smoothing=0.1)(labels, logits)) == pytest.approx(
        smooth[mask].mean(), rel=1e-5
    )


def test_masked_token_accuracy_ignores_padding():
    metric = MaskedTokenAccuracy()
    labels = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    predictions = np.eye(4)[[[1, 1, 0, 0], [3, 0, 0, 0]]]  # 2 of 3 real tokens right
    metric.update_state(labels, predictions)
    assert float(metric.result()) == pytest.approx(2 / 3)


def test_sampled_softmax_loss_matches_numpy_importance_sampling():
    """Label + shared negatives, log Q subtracted, accidental hits removed, padding ignored."""
    rng = np.random.default_rng(1)
    units, vocab = 3, 12
    kernel = rng.normal(size=(units, vocab)).astype("float32")
    bias = rng.normal(size=vocab).astype("float32")
    features = rng.normal(size=(2, 3, units)).astype("float32")
    labels = np.array([[5, 7, 0], [9, 0, 0]])
    sampled = np.array([7, 2, 11])  # 7 is an accidental hit for the second token
    q_true = np.array([[0.3], [0.2], [0.1]], "float32")
    q_sampled = np.array([0.25, 0.5, 0.05], "float32")
    loss = sampled_softmax_loss(
        labels, features, kernel, bias, num_sampled=3,
        sampled_values=(tf.constant(sampled, tf.int64), tf.constant(q_true), tf.constant(q_sampled)),
    )
    expected = []
    for n, (b, t) in enumerate(zip(*np.nonzero(labels))):
        x, y = features[b, t], labels[b, t]
        logits = [x @ kernel[:, y] + bias[y] - np.log(q_true[n, 0])]
        logits += [x @ kernel[:, s] + bias[s] - np.log(q) if s != y else -np.inf for s, q in zip(sampled, q_sampled)]
        logits = np.array(logits)
        expected.append(np.log(np.exp(logits - logits.max()).sum()) + logits.max() - logits[0])
    assert float(loss) == pytest.approx(np.mean(expected), rel=1e-5)
    # Padding positions carry no weight: changing their features changes nothing.
    features[labels == 0] = 100.0
    again = sampled_softmax_loss(
        labels, features, kernel, bias, num_sampled=3,
        sampled_values=(tf.constant(sampled, tf.int64), tf.constant(q_true), tf.constant(q_sampled)),
    )
    assert float(again) == pytest.approx(float(loss), rel=1e-6)


def test_sampled_softmax_loss_with_every_row_sampled_is_the_full_softmax():
    """Consistency: when the sample covers the vocabulary, inclusion probabilities are ~1 and
    the estimate becomes the full cross-entropy; with a sample it is an estimate near it."""
    rng = np.random.default_rng(2)
    units, vocab = 8, 400
    kernel = (rng.normal(size=(units, vocab)) * 0.5).astype("float32")
    bias = np.zeros(vocab, "float32")
    features = rng.normal(size=(4, 6, units)).astype("float32")
    labels = rng.integers(0, vocab, size=(4, 6))
    full = float(MaskedSparseCrossEntropy()(labels, np.einsum("btu,uv->btv", features, kernel)))
    tf.random.set_seed(0)
    everything = float(sampled_softmax_loss(labels, features, kernel, bias, num_sampled=vocab))
    assert everything == pytest.approx(full, rel=1e-3)
    half = float(sampled_softmax_loss(labels, features, kernel, bias, num_sampled=vocab // 2))
    assert half == pytest.approx(full, rel=0.2) and half != pytest.approx(full, rel=1e-4)
