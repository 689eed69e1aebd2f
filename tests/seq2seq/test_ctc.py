import itertools

import numpy as np
import pytest
import tensorflow as tf

from kzoo.export import litert
from kzoo.seq2seq import ctc_beam_decode, ctc_greedy_decode, ctc_log_likelihoods, ctc_loss, ctc_prefix_beam_search


# === NumPy references, by hand ===
def log_softmax(x):
    x = np.asarray(x, np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def collapse(path, blank=0):
    """Repeats merged, then blanks removed: (1, 1, 0, 1, 2) -> (1, 1, 2)."""
    return tuple(c for c, _ in itertools.groupby(path) if c != blank)


def brute_force(log_probs, blank=0):
    """{label sequence: log of the summed probability of every path that reads as it}."""
    totals = {}
    steps, classes = log_probs.shape
    for path in itertools.product(range(classes), repeat=steps):
        p = np.exp(sum(log_probs[t, c] for t, c in enumerate(path)))
        label = collapse(path, blank)
        totals[label] = totals.get(label, 0.0) + p
    return {label: np.log(p) for label, p in totals.items()}


def forward_log_prob(log_probs, label, blank=0):
    """log p(label) by the alpha recursion over the label with blanks around its symbols."""
    extended = [blank]
    for c in label:
        extended += [c, blank]
    alpha = np.full(len(extended), -np.inf)
    alpha[0] = log_probs[0, blank]
    if len(extended) > 1:
        alpha[1] = log_probs[0, extended[1]]
    for t in range(1, len(log_probs)):
        previous = alpha.copy()
        for s, c in enumerate(extended):
            terms = [previous[s]] + ([previous[s - 1]] if s >= 1 else [])
            if s >= 2 and c != blank and c != extended[s - 2]:  # skip the blank between two labels
                terms.append(previous[s - 2])
            alpha[s] = np.logaddexp.reduce(terms) + log_probs[t, c]
    return np.logaddexp.reduce(alpha[-2:]) if len(extended) > 1 else alpha[0]


def greedy_reference(logits, lengths, blank=0):
    out = np.zeros(logits.shape[:2], np.int32)
    for row, (scores, length) in enumerate(zip(logits, lengths)):
        ids = collapse(scores[:length].argmax(-1), blank)
        out[row, : len(ids)] = ids
    return out


# === Loss ===
def test_forward_reference_agrees_with_brute_force():
    log_probs = log_softmax(np.random.default_rng(1).normal(size=(4, 3)))
    totals = brute_force(log_probs)
    for label in [(), (1,), (1, 1), (1, 2), (2, 1, 2), (1, 1, 1)]:
        expected = totals.get(label, -np.inf)
        np.testing.assert_allclose(forward_log_prob(log_probs, label), expected, rtol=1e-12)


def test_ctc_loss_matches_forward_algorithm_and_brute_force():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 5, 3)).astype("float32")
    labels = np.array([[1, 2, 0], [1, 1, 0], [2, 0, 0], [0, 0, 0], [1, 2, 1]])
    lengths = np.array([5, 4, 3, 5, 5])
    loss = ctc_loss(labels, logits, lengths).numpy()
    assert loss.shape == (5,) and loss.dtype == np.float32
    for row in range(5):
        log_probs = log_softmax(logits[row, : lengths[row]])
        label = tuple(int(c) for c in labels[row] if c != 0)
        np.testing.assert_allclose(loss[row], -forward_log_prob(log_probs, label), rtol=1e-5)
        np.testing.assert_allclose(loss[row], -brute_force(log_probs)[label], rtol=1e-5)


def test_ctc_loss_blank_last_and_repeats_needing_a_blank():
    logits = np.random.default_rng(2).normal(size=(2, 3, 3)).astype("float32")
    # blank = 2: "aa" = (1, 1) needs 3 frames ("a-a" with the blank in the middle); fits in 3.
    loss = ctc_loss([[1, 1], [1, 0]], logits, [3, 3], blank=2).numpy()
    for row, label in enumerate([(1, 1), (1,)]):
        log_probs = log_softmax(logits[row])
        np.testing.assert_allclose(loss[row], -brute_force(log_probs, blank=2)[label], rtol=1e-5)


@pytest.mark.parametrize("blank", [0, 2])
def test_log_likelihoods_of_many_labels_match_brute_force_and_the_loss(blank):
    rng = np.random.default_rng(3 + blank)
    log_probs = log_softmax(rng.normal(size=(5, 3)))
    totals = brute_force(log_probs, blank=blank)
    labels = [label for label in totals if label] + [(1, 1, 1, 1)]  # every readable one, one infeasible
    actual = ctc_log_likelihoods(log_probs, labels, blank=blank)
    for label, value in zip(labels, actual):
        np.testing.assert_allclose(value, totals.get(label, -np.inf), rtol=1e-10)
        np.testing.assert_allclose(value, forward_log_prob(log_probs, label, blank), rtol=1e-10)
    assert len(labels) > 20 and actual[-1] == -np.inf  # "aaaa" needs 7 frames ("a-a-a-a")
    i = next(i for i, label in enumerate(labels) if 0 not in label and len(label) > 1)  # 0 pads ctc_loss rows
    loss = ctc_loss([list(labels[i])], log_probs[None].astype("float32"), [5], blank=blank).numpy()[0]
    np.testing.assert_allclose(-actual[i], loss, rtol=1e-5)


def test_infeasible_label_gives_a_large_finite_loss_not_inf():
    logits = np.zeros((2, 2, 3), "float32")
    # "aa" needs 3 frames and "aba" 3: neither fits in 2, probability 0 in the reference.
    assert forward_log_prob(log_softmax(logits[0]), (1, 1)) == -np.inf
    loss = ctc_loss([[1, 1, 0], [1, 2, 1]], logits, [2, 2]).numpy()
    # TensorFlow's dense CTC stands in log(1e-307) ~ -706.9 for log 0 (documented in ctc_loss).
    assert np.all(np.isfinite(loss)) and np.all(loss > 700)


# === Greedy decoding ===
def test_greedy_decode_matches_numpy_reference_with_unequal_lengths():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(6, 12, 3)).astype("float32")  # 3 classes: many repeats and blanks
    lengths = np.array([12, 0, 1, 5, 9, 12])
    for blank in (0, 2):
        got = ctc_greedy_decode(logits, lengths, blank=blank).numpy()
        assert got.dtype == np.int32 and got.shape == (6, 12)
        np.testing.assert_array_equal(got, greedy_reference(logits, lengths, blank))
    onehot = np.eye(3, dtype="float32")[[[1, 1, 0, 1, 2, 2, 1]]]  # a a - a b b a
    assert ctc_greedy_decode(onehot, [7]).numpy().tolist() == [[1, 1, 2, 1, 0, 0, 0]]


def test_greedy_decode_converts_to_tflite_builtins_and_matches():
    classes = 5
    flatbuffer = litert.convert(
        tf.function(ctc_greedy_decode),
        [tf.TensorSpec([1, None, classes], tf.float32), tf.TensorSpec([1], tf.int32)],
    )
    interp = litert.interpreter(model_content=flatbuffer)
    rng = np.random.default_rng(4)
    for steps, length in [(1, 1), (4, 2), (11, 11), (30, 17)]:
        logits = rng.normal(size=(1, steps, classes)).astype("float32")
        logits[0, ::3, 0] += 2.0  # blanks every third frame, so repeated labels survive
        lengths = np.array([length], "int32")
        (got,) = litert.run(interp, logits, lengths)
        np.testing.assert_array_equal(got, greedy_reference(logits, lengths))


# === Prefix beam search ===
@pytest.mark.parametrize(
    "steps,classes,blank,seed", [(1, 3, 0, 0), (4, 2, 0, 1), (5, 3, 0, 2), (6, 3, 0, 3), (6, 3, 2, 4)]
)
def test_wide_prefix_beam_search_is_exact(steps, classes, blank, seed):
    log_probs = log_softmax(2.0 * np.random.default_rng(seed).normal(size=(steps, classes)))
    totals = brute_force(log_probs, blank)
    # as wide as the number of possible labels: no frame prunes a prefix
    results = ctc_prefix_beam_search(log_probs, beam_width=len(totals), blank=blank)
    best = max(totals, key=totals.get)
    assert results[0][0] == best
    np.testing.assert_allclose(results[0][1], totals[best], atol=1e-6)
    assert len(results) == len(totals)
    for ids, log_prob in results:
        np.testing.assert_allclose(log_prob, totals[ids], atol=1e-6)
    assert [lp for _, lp in results] == sorted((lp for _, lp in results), reverse=True)


def bigram_language_model(classes, blank, seed):
    """A random label bigram model as `ctc_prefix_beam_search` takes it: per previous label (or
    none), log-probabilities of each label next and, at `blank`, of the end."""
    table = log_softmax(np.random.default_rng(seed).normal(size=(classes + 1, classes)))  # row classes: the start
    return lambda prefix: table[prefix[-1] if prefix else classes]


@pytest.mark.parametrize("steps,classes,blank,seed", [(4, 2, 0, 1), (5, 3, 0, 2), (6, 3, 2, 4)])
@pytest.mark.parametrize("lm_weight,length_bonus", [(0.5, 0.0), (1.5, 0.7), (0.8, -0.4)])
def test_wide_fused_beam_search_is_exact(steps, classes, blank, seed, lm_weight, length_bonus):
    log_probs = log_softmax(2.0 * np.random.default_rng(seed).normal(size=(steps, classes)))
    lm = bigram_language_model(classes, blank, seed + 10)

    def fused(label):  # log p_ctc(y) + α · log p_lm(y, end) + β · |y|, by hand
        text = sum(lm(label[:i])[c] for i, c in enumerate(label)) + lm(label)[blank]
        return brute_force(log_probs, blank)[label] + lm_weight * text + length_bonus * len(label)

    totals = {label: fused(label) for label in brute_force(log_probs, blank)}
    results = ctc_prefix_beam_search(log_probs, len(totals), blank, lm, lm_weight, length_bonus)
    assert len(results) == len(totals)
    for ids, score in results:
        np.testing.assert_allclose(score, totals[ids], atol=1e-6)
    assert results[0][0] == max(totals, key=totals.get)
    assert [s for _, s in results] == sorted((s for _, s in results), reverse=True)


def test_fusion_with_weight_zero_is_plain_beam_search_and_the_prior_can_change_the_result():
    log_probs = log_softmax(2.0 * np.random.default_rng(3).normal(size=(6, 3)))
    plain = ctc_prefix_beam_search(log_probs, beam_width=3)
    impossible = lambda prefix: np.array([0.0, -np.inf, 0.0])  # noqa: E731 (label 1 never comes next)
    assert ctc_prefix_beam_search(log_probs, 3, 0, impossible, lm_weight=0.0) == plain
    assert all(1 not in ids for ids, _ in ctc_prefix_beam_search(log_probs, 3, 0, impossible, lm_weight=0.3))
    # A frame where "a" (0.45) and "b" (0.40) compete: a prior that favours "b" two to one flips it.
    frames = np.log([[0.15, 0.45, 0.40]])
    prior = lambda prefix: np.log([1.0, 1 / 3, 2 / 3])  # noqa: E731
    assert ctc_prefix_beam_search(frames, 3)[0][0] == (1,)
    assert ctc_prefix_beam_search(frames, 3, 0, prior, lm_weight=1.0)[0][0] == (2,)


def test_beam_width_one_against_greedy():
    # Agrees: blank wins each frame, so the best path and the 1-beam are both empty, while the
    # merged "a" (0.64 = 0.4·0.4 + 2·0.6·0.4) is found from a beam of 2.
    frames = np.log([[0.6, 0.4], [0.6, 0.4]])
    assert ctc_greedy_decode(frames[None], [2]).numpy().tolist() == [[0, 0]]
    assert ctc_prefix_beam_search(frames, beam_width=1)[0][0] == ()
    ids, log_prob = ctc_prefix_beam_search(frames, beam_width=2)[0]
    assert ids == (1,) and np.isclose(np.exp(log_prob), 0.64)
    # Differs: the best path reads "ab" (0.4·0.4 = 0.16), the 1-beam keeps "a" (0.4·0.3 + 0.4·0.3 = 0.24).
    frames = np.log([[0.35, 0.4, 0.25], [0.3, 0.3, 0.4]])
    assert ctc_greedy_decode(frames[None], [2]).numpy().tolist() == [[1, 2]]
    ids, log_prob = ctc_prefix_beam_search(frames, beam_width=1)[0]
    assert ids == (1,) and np.isclose(np.exp(log_prob), 0.24)


def test_beam_decode_batches_with_lengths_and_padding():
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(3, 6, 4)).astype("float32")
    lengths = [6, 2, 0]
    decoded = ctc_beam_decode(tf.constant(logits), tf.constant(lengths), beam_width=4)
    assert decoded.dtype == np.int32 and decoded.shape[0] == 3
    for row, length in enumerate(lengths):
        ids = ctc_prefix_beam_search(log_softmax(logits[row, :length]), beam_width=4)[0][0]
        assert decoded[row].tolist() == list(ids) + [0] * (decoded.shape[1] - len(ids))
    assert decoded[2].tolist() == [0] * decoded.shape[1]  # no frames: empty transcript
    assert ctc_beam_decode(np.zeros((1, 3, 2)), [3]).shape == (1, 1)  # L >= 1


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"`log_probs` must be 2-D.*shape=\(1, 2, 3\)"):
        ctc_prefix_beam_search(np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="beam_width=0"):
        ctc_prefix_beam_search(np.zeros((2, 3)), beam_width=0)
    with pytest.raises(ValueError, match="blank=3"):
        ctc_prefix_beam_search(np.zeros((2, 3)), blank=3)
    with pytest.raises(ValueError, match="language_model='lm'"):
        ctc_prefix_beam_search(np.zeros((2, 3)), language_model="lm")
    for kwargs, message in ((dict(lm_weight=-1.0), "lm_weight=-1.0"), (dict(length_bonus=np.inf), "length_bonus=inf")):
        with pytest.raises(ValueError, match=message):
            ctc_prefix_beam_search(np.zeros((2, 3)), language_model=lambda p: np.zeros(3), **kwargs)
    with pytest.raises(ValueError, match=r"return a \(3,\) array. Received: shape \(2,\)"):
        ctc_prefix_beam_search(np.zeros((2, 3)), language_model=lambda p: np.zeros(2))
    with pytest.raises(ValueError, match="blank=-1"):
        ctc_loss([[1]], np.zeros((1, 2, 3), "float32"), [2], blank=-1)
    with pytest.raises(ValueError, match="blank=5"):
        ctc_greedy_decode(np.zeros((1, 2, 3), "float32"), [2], blank=5)
    with pytest.raises(ValueError, match=r"`logits` must be 3-D"):
        ctc_beam_decode(np.zeros((2, 3)), [2])
    with pytest.raises(ValueError, match=r"logit_lengths=\[2\]"):
        ctc_beam_decode(np.zeros((2, 3, 3)), [2])
