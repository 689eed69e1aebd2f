"""Score functions against NumPy written by hand."""

import keras
import numpy as np
import pytest

from kzoo.layers import scores

RNG = np.random.default_rng(0)
Q = RNG.normal(size=(2, 3, 4)).astype("float32")
K = RNG.normal(size=(2, 5, 4)).astype("float32")
K6 = RNG.normal(size=(2, 5, 6)).astype("float32")


def _np(x):
    return np.asarray(x, dtype="float64")


def test_dot_equals_qkT():
    got = scores.DotScore()(Q, K)
    np.testing.assert_allclose(got, Q @ K.transpose(0, 2, 1), atol=1e-5)


def test_scaled_dot_divides_by_sqrt_depth():
    got = scores.ScaledDotScore()(Q, K)
    np.testing.assert_allclose(got, Q @ K.transpose(0, 2, 1) / 2.0, atol=1e-5)


def test_general_is_bilinear():
    layer = scores.GeneralScore()
    got = layer(Q, K6)
    w = _np(layer.kernel)
    np.testing.assert_allclose(got, _np(Q) @ w @ _np(K6).transpose(0, 2, 1), atol=1e-5)


def test_cosine_is_scaled_cosine_and_ignores_query_norm():
    layer = scores.CosineScore(scale=3.0)
    got = np.asarray(layer(Q, K))
    qn = Q / np.linalg.norm(Q, axis=-1, keepdims=True)
    kn = K / np.linalg.norm(K, axis=-1, keepdims=True)
    np.testing.assert_allclose(got, 3.0 * qn @ kn.transpose(0, 2, 1), atol=1e-5)
    np.testing.assert_allclose(layer(7.5 * Q, K), got, atol=1e-5)


def test_cosine_scale_is_learnable_or_fixed():
    learned = scores.CosineScore(scale=2.0)
    learned(Q, K)
    fixed = scores.CosineScore(scale=2.0, trainable_scale=False)
    fixed(Q, K)
    assert len(learned.trainable_weights) == 1 and not fixed.trainable_weights


def test_concat_is_additive():
    layer = scores.ConcatScore(units=7)
    got = layer(Q, K6)
    q = _np(Q) @ _np(layer.query_kernel)
    k = _np(K6) @ _np(layer.key_kernel)
    expected = np.tanh(q[:, :, None, :] + k[:, None, :, :]) @ _np(layer.vector)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_concat_equals_W_on_concatenation():
    layer = scores.ConcatScore(units=3)
    got = np.asarray(layer(Q, K6))
    w = np.concatenate([_np(layer.query_kernel), _np(layer.key_kernel)], axis=0)  # (Dq+Dk, U)
    b, i, j = 1, 2, 4
    concat = np.concatenate([Q[b, i], K6[b, j]])
    assert got[b, i, j] == pytest.approx(float(np.tanh(concat @ w) @ _np(layer.vector)), abs=1e-5)


def test_mlp_layers_on_concatenation():
    layer = scores.MLPScore(hidden_units=(5, 3), activation="relu")
    got = np.asarray(layer(Q, K6))
    w = np.concatenate([_np(layer.query_kernel), _np(layer.key_kernel)], axis=0)
    ((k1, b1),) = [(_np(k), _np(b)) for k, b in layer.hidden]
    out = _np(layer.output_kernel)
    for b in range(2):
        for i in range(3):
            for j in range(5):
                h = np.maximum(np.concatenate([Q[b, i], K6[b, j]]) @ w + _np(layer.first_bias), 0)
                h = np.maximum(h @ k1 + b1, 0)
                assert got[b, i, j] == pytest.approx(float((h @ out)[0]), abs=1e-4)


@pytest.mark.parametrize(
    "name, cls",
    [
        ("dot", scores.DotScore),
        ("scaled_dot", scores.ScaledDotScore),
        ("general", scores.GeneralScore),
        ("cosine", scores.CosineScore),
        ("concat", scores.ConcatScore),
        ("additive", scores.ConcatScore),
        ("mlp", scores.MLPScore),
    ],
)
def test_get_by_name_and_config_round_trip(name, cls):
    layer = scores.get(name)
    assert type(layer) is cls
    assert scores.get(layer) is layer
    again = scores.get(scores.serialize(layer))
    assert type(again) is cls and again.get_config() == layer.get_config()


def test_get_unknown_name_names_the_choices():
    with pytest.raises(ValueError, match=r"`score` must be one of .*Received: score='luong'"):
        scores.get("luong")


def test_dot_rejects_different_depths():
    with pytest.raises(ValueError, match=r"same last dimension.*Received: query.shape=\(2, 3, 4\), key.shape=\(2, 5, 6\)"):
        scores.DotScore()(Q, K6)


def test_rank_and_batch_errors():
    with pytest.raises(ValueError, match=r"`query` must have shape \(batch_size, length, dim\).*Received: query.shape=\(3, 4\)"):
        scores.GeneralScore()(Q[0], K)
    with pytest.raises(ValueError, match="same batch size"):
        scores.GeneralScore()(Q, K[:1])


@pytest.mark.parametrize(
    "cls, kwargs, match",
    [
        (scores.CosineScore, {"scale": -1.0}, "scale"),
        (scores.ConcatScore, {"units": 0}, "units"),
        (scores.MLPScore, {"hidden_units": ()}, "hidden_units"),
    ],
)
def test_bad_constructor_arguments(cls, kwargs, match):
    with pytest.raises(ValueError, match=rf"`{match}` must .*Received: {match}="):
        cls(**kwargs)


def test_scores_are_differentiable():
    import tensorflow as tf

    for name in ("general", "cosine", "concat", "mlp"):
        layer = scores.get(name)
        q = tf.constant(Q)
        with tf.GradientTape() as tape:
            tape.watch(q)
            out = keras.ops.sum(layer(q, K) ** 2)
        grads = tape.gradient(out, [q] + layer.trainable_weights)
        assert all(g is not None and np.any(np.asarray(g) != 0) for g in grads), name
