import math

import numpy as np
import pytest

from kzoo.seq2seq import MaskedSparseCrossEntropy, MaskedTokenAccuracy, schedules


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
