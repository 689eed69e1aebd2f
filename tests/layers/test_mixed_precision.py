"""Every attention layer under mixed_float16 with scores far beyond float16's range (65504)."""

import numpy as np
import pytest

from kzoo import layers

RNG = np.random.default_rng(8)
Q = (RNG.normal(size=(2, 3, 16)) * 150).astype("float32")  # dot scores reach ~ 150² · 4 · 3 > 65504
V = (RNG.normal(size=(2, 5, 16)) * 150).astype("float32")
MASK = np.array([[1, 1, 1, 0, 0], [1] * 5], bool)

CASES = [
    (layers.Attention, {"score": "dot"}),
    (layers.Attention, {"score": "general"}),
    (layers.HardAttention, {"score": "dot"}),
    (layers.LocalAttention, {"score": "dot", "window": 2}),
    (layers.LocalAttention, {"score": "dot", "window": 2, "mode": "predictive"}),
    (layers.MultiHeadAttention, {"num_heads": 2, "key_dim": 8, "score": "dot"}),
]


@pytest.mark.parametrize("cls, kwargs", CASES, ids=lambda c: getattr(c, "__name__", str(c)))
def test_huge_scores_stay_finite_and_match_float32(cls, kwargs):
    reference = cls(**kwargs)
    expected = [np.asarray(t) for t in reference([Q, V], mask=[None, MASK], return_attention_scores=True)]
    raw = np.abs(Q @ V.transpose(0, 2, 1)).max()
    assert raw > 65504  # the float16 product would overflow
    mixed = cls(**kwargs, dtype="mixed_float16")
    mixed([Q, V], mask=[None, MASK])
    mixed.set_weights(reference.get_weights())
    out, weights = mixed([Q, V], mask=[None, MASK], return_attention_scores=True)
    out, weights = np.asarray(out, "float32"), np.asarray(weights, "float32")
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights, expected[1], atol=2e-3)
    scale = np.abs(expected[0]).max()
    np.testing.assert_allclose(out, expected[0], atol=2e-3 * scale)
