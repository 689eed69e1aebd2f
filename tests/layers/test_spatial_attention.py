"""Spatial attention over a feature map (Xu et al. 2015) against NumPy."""

import numpy as np
import pytest

from kzoo.layers import SpatialAttention
from kzoo.testing.layer_test import run_layer_test

RNG = np.random.default_rng(7)
QUERY = RNG.normal(size=(2, 6)).astype("float32")
FMAP = RNG.normal(size=(2, 3, 4, 5)).astype("float32")
CELLS = np.ones((2, 3, 4), bool)
CELLS[1, :, 3] = False  # padded right column


def test_layer_contract():
    run_layer_test(
        SpatialAttention,
        {},
        [QUERY, FMAP],
        mask=[None, CELLS],
        call_kwargs={"return_attention_scores": True},
        expected_output_shape=[(2, 5), (2, 3, 4)],
    )


def test_matches_numpy_additive_attention_over_cells():
    layer = SpatialAttention()
    ctx, w = layer([QUERY, FMAP], mask=[None, CELLS], return_attention_scores=True)
    score = layer.attention.score
    cells = FMAP.reshape(2, 12, 5)
    q = QUERY @ np.asarray(score.query_kernel)  # (B, U)
    logits = np.tanh(cells @ np.asarray(score.key_kernel) + q[:, None]) @ np.asarray(score.vector)
    m = CELLS.reshape(2, 12)
    e = np.where(m, np.exp(logits - logits.max(-1, keepdims=True)), 0)
    expected_w = e / e.sum(-1, keepdims=True)
    np.testing.assert_allclose(np.asarray(w).reshape(2, 12), expected_w, atol=1e-6)
    np.testing.assert_allclose(ctx, np.einsum("bn,bnc->bc", expected_w, cells), atol=1e-5)
    assert np.all(np.asarray(w)[1, :, 3] == 0)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"`feature_map` must have shape \(batch_size, height, width, channels\).*Received: feature_map.shape=\(2, 12, 5\)"):
        SpatialAttention()([QUERY, FMAP.reshape(2, 12, 5)])
    with pytest.raises(ValueError, match=r"`query` must have shape \(batch_size, dim\)"):
        SpatialAttention()([QUERY[:, None], FMAP])
    with pytest.raises(ValueError, match=r"same batch size"):
        SpatialAttention()([QUERY[:1], FMAP])
