"""AUC, curves and sequence metrics against scikit-learn, sacrebleu and jiwer."""

import math
import subprocess
import sys
import textwrap

import jiwer
import numpy as np
import pytest
import sacrebleu
from hypothesis import given, settings, strategies as st
import tensorflow as tf
from sklearn import metrics as skm

from kzoo import metrics
from kzoo.metrics import auc as auc_module
from kzoo.testing.metric_test import check_metric


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), curve=st.sampled_from(["ROC", "PR"]), logits=st.booleans(),
       binned=st.booleans())
def test_binary_auc_matches_sklearn(seed, curve, logits, binned):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 80))
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    z = np.round(rng.normal(size=n) * 20, 0)  # large logits and ties
    p = 1 / (1 + np.exp(-z))
    w = rng.integers(0, 3, n).astype(float)
    w[:2] = 1
    ref = skm.roc_auc_score if curve == "ROC" else skm.average_precision_score
    expected = ref(y, z, sample_weight=w)
    m = metrics.AUC(curve=curve, from_logits=logits, num_bins=2**16 if binned else None)
    got = check_metric(m, y, z if logits else p, w, atol=1e-9, run_model=False)
    # Exact: 1e-6 always. Binned: with logits every distinct rounded logit has its own bin;
    # float64 sigmoid of |z| > 37 rounds to 1 and collapses, so compare probabilities there.
    if logits or not binned:
        tie_ref = expected if logits else ref(y, p, sample_weight=w)
        assert abs(float(got) - tie_ref) <= 1e-6


@pytest.mark.parametrize("multi_class, average", [("ovr", "macro"), ("ovr", "weighted"), ("ovr", "micro"),
                                                  ("ovo", "macro"), ("ovo", "weighted")])
@pytest.mark.parametrize("binned", [False, True])
def test_multiclass_auc_matches_sklearn(multi_class, average, binned):
    rng = np.random.default_rng(1)
    c = 4
    z = rng.normal(size=(300, c)) * 3
    y = rng.integers(0, c, 300)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    if average == "micro":
        expected = skm.roc_auc_score(np.eye(c)[y].ravel(), p.ravel())
    else:
        expected = skm.roc_auc_score(y, p, multi_class=multi_class, average=average)
    m = metrics.AUC(task="multiclass", num_classes=c, multi_class=multi_class, average=average,
                    from_logits=True, num_bins=2**16 if binned else None)
    got = check_metric(m, y, z, atol=1e-9, run_model=not binned and multi_class == "ovr")
    assert abs(float(got) - expected) <= (1e-3 if binned else 1e-9)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), c=st.integers(3, 5),
       mode=st.sampled_from([("ovr", "macro"), ("ovr", "weighted"), ("ovr", "micro"), ("ovo", "macro"),
                             ("ovo", "weighted")]),
       logits=st.booleans(), one_hot=st.booleans())
def test_multiclass_auc_property(seed, c, mode, logits, one_hot):
    multi_class, average = mode
    rng = np.random.default_rng(seed)
    n = int(rng.integers(c, 60))
    y = np.concatenate([np.arange(c), rng.integers(0, c, n - c)])  # every class present
    z = rng.normal(size=(n, c)) * 2
    if not logits:
        # Ties across samples. Not for logits: rows of rounded logits that differ by a
        # constant have mathematically equal softmax, which two float64 softmax codes
        # break differently by an ulp, so the reference itself would be ambiguous.
        z = np.round(z, 1)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    # scikit-learn's ovo takes no sample weights; ovr does.
    w = None if multi_class == "ovo" else rng.integers(1, 4, n).astype(float)
    if average == "micro":
        expected = skm.roc_auc_score(np.eye(c)[y].ravel(), p.ravel(),
                                     sample_weight=None if w is None else np.repeat(w, c))
    else:
        expected = skm.roc_auc_score(y, p, multi_class=multi_class, average=average, sample_weight=w)
    m = metrics.AUC(task="multiclass", num_classes=c, multi_class=multi_class, average=average,
                    from_logits=logits)
    labels = np.eye(c)[y] if one_hot else y
    got = check_metric(m, labels, z if logits else p, w, atol=1e-9, run_model=False)
    assert abs(float(got) - expected) <= 1e-6


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), num_labels=st.integers(2, 4), curve=st.sampled_from(["ROC", "PR"]),
       average=st.sampled_from(["macro", "weighted", "micro", "none"]), logits=st.booleans())
def test_multilabel_auc_property(seed, num_labels, curve, average, logits):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 60))
    y = rng.integers(0, 2, (n, num_labels))
    y[:2] = [[0] * num_labels, [1] * num_labels]  # both classes in every label
    z = np.round(rng.normal(size=(n, num_labels)) * 3, 1)
    p = 1 / (1 + np.exp(-z))
    w = rng.integers(0, 3, n).astype(float)
    w[:2] = 1
    ref = skm.roc_auc_score if curve == "ROC" else skm.average_precision_score
    expected = ref(y, z, average=None if average == "none" else average, sample_weight=w)
    m = metrics.AUC(curve=curve, task="multilabel", num_labels=num_labels, average=average, from_logits=logits)
    got = check_metric(m, y, z if logits else p, w, atol=1e-9, run_model=False)
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("average", ["macro", "weighted", "micro", "none"])
def test_multilabel_auc_matches_sklearn(curve, average):
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, (120, 3))
    p = np.round(rng.random((120, 3)), 2)
    w = rng.integers(1, 3, 120).astype(float)
    ref = skm.roc_auc_score if curve == "ROC" else skm.average_precision_score
    expected = ref(y, p, average=None if average == "none" else average, sample_weight=w)
    m = metrics.AUC(curve=curve, task="multilabel", num_labels=3, average=average)
    check_metric(m, y, p, w, expected=expected, atol=1e-9, run_model=False)


def test_partial_auc_and_saved_model():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 70)
    p = rng.random(70).astype("float32")
    for max_fpr in [0.1, 0.5]:
        m = metrics.AUC(max_fpr=max_fpr)
        check_metric(m, y, p, expected=skm.roc_auc_score(y, p, max_fpr=max_fpr), atol=1e-6,
                     run_model=max_fpr == 0.5)


def test_binned_error_is_small_where_uniform_buckets_fail():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 20000)
    p = 1 - 10 ** -(3 + 3 * rng.random(20000) + y)  # squeezed near 1
    exact = skm.roc_auc_score(y, p)
    m = metrics.AUC(num_bins=2**16)
    m.update_state(y, p)
    assert abs(float(m.result()) - exact) <= 1e-3
    assert float(m.binned_error_bound()[0]) <= 1e-3


def test_single_class_is_nan_with_warning_and_ties():
    m = metrics.AUC()
    m.update_state([1, 1, 1], [0.2, 0.5, 0.9])
    with pytest.warns(RuntimeWarning, match="undefined"):
        assert math.isnan(float(m.result()))
    m = metrics.AUC()
    m.update_state([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])  # all scores tied
    assert float(m.result()) == 0.5
    big = metrics.AUC(from_logits=True)  # logits a float32 sigmoid would tie at 1.0
    big.update_state([0, 1, 0, 1], np.array([18.0, 19.0, 20.0, 21.0], "float32"))
    assert float(big.result()) == 0.75


def test_curves_match_sklearn_and_plot():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 200)
    p = np.round(rng.random(200), 1)
    w = rng.integers(0, 3, 200).astype(float)
    roc = metrics.ROCCurve()
    for a, b in zip(check_metric(roc, y, p, w, run_model=False), skm.roc_curve(y, p, sample_weight=w)):
        np.testing.assert_allclose(a, b)
    pr = metrics.PrecisionRecallCurve()
    for a, b in zip(check_metric(pr, y, p, w, run_model=False),
                    skm.precision_recall_curve(y, p, sample_weight=w)):
        np.testing.assert_allclose(a, b)
    fig = roc.plot()
    assert f"{skm.roc_auc_score(y, p, sample_weight=w):.3f}" in fig.axes[0].get_legend().get_texts()[0].get_text()


@pytest.mark.parametrize("curve_cls", [metrics.ROCCurve, metrics.PrecisionRecallCurve])
def test_multiclass_curves_per_class_and_labelled_plot(curve_cls):
    rng = np.random.default_rng(10)
    y = rng.integers(0, 3, 120)
    p = np.round(rng.dirichlet(np.ones(3), 120), 2)
    m = curve_cls(task="multiclass", num_classes=3, class_names=["cat", "dog", "owl"])
    m.update_state(y, p)
    curves = m.result()
    assert len(curves) == 3
    for i, curve in enumerate(curves):
        if curve_cls is metrics.ROCCurve:
            expected = skm.roc_curve(y == i, p[:, i])
            area = skm.roc_auc_score(y == i, p[:, i])
        else:
            expected = skm.precision_recall_curve(y == i, p[:, i])
            area = skm.average_precision_score(y == i, p[:, i])
        for a, b in zip(curve, expected):
            np.testing.assert_allclose(a, b)
        label = m.plot().axes[0].get_legend().get_texts()[i].get_text()
        assert label.startswith(["cat", "dog", "owl"][i]) and f"{area:.3f}" in label
    unnamed = curve_cls(task="multilabel", num_labels=2)
    unnamed.update_state([[0, 1], [1, 0], [1, 1]], [[0.2, 0.9], [0.7, 0.1], [0.6, 0.8]])
    assert [t.get_text()[:7] for t in unnamed.plot().axes[0].get_legend().get_texts()] == ["class 0", "class 1"]
    with pytest.raises(ValueError, match=r"one name per class \(3\). Received: class_names=\['a'\]"):
        curve_cls(task="multiclass", num_classes=3, class_names=["a"])


def test_bad_auc_input():
    with pytest.raises(ValueError, match=r"NaN scores"):
        metrics.AUC().update_state([0, 1], [0.2, float("nan")])
    with pytest.raises(ValueError, match=r"Received: num_bins=10"):
        metrics.AUC(num_bins=10)
    with pytest.raises(ValueError, match=r"power of two.*Received: num_bins=1000"):
        metrics.AUC(num_bins=1000)
    # In a graph (fit/evaluate) the checks are one Assert that names the failed one.
    update = tf.function(metrics.AUC().update_state)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"probabilities in \[0, 1\]"):
        update(tf.constant([0, 1]), tf.constant([0.2, 1.5]))


REFS = [["The cat, sat on the mat.", "A cat sat on a mat!"], ["Ça va très bien — merci.", "Ça va bien, merci."],
        ["hello there", "hi"], ["x y z w", "x y"], ["a b c d", "a b c d"]]
HYPS = ["The cat sat on the mat.", "Ça va bien merci", "", "x y z", "e f"]


@pytest.mark.parametrize("smooth", ["exp", "floor", "add-k", "none"])
@pytest.mark.parametrize("tokenize", ["13a", "none", "char"])
def test_bleu_matches_sacrebleu(smooth, tokenize):
    expected = sacrebleu.corpus_bleu(HYPS, [list(r) for r in zip(*REFS)], smooth_method=smooth,
                                     tokenize=tokenize).score
    m = metrics.BLEU(smooth=smooth, tokenize=tokenize)
    check_metric(m, REFS, HYPS, expected=expected, atol=0.01, run_model=False)


@pytest.mark.parametrize("max_order", [1, 2, 3])
@pytest.mark.parametrize("smooth", ["exp", "none"])
def test_bleu_of_lower_orders_matches_sacrebleu(max_order, smooth):
    bleu = sacrebleu.metrics.BLEU(max_ngram_order=max_order, smooth_method=smooth)
    expected = bleu.corpus_score(HYPS, [list(r) for r in zip(*REFS)]).score
    m = metrics.BLEU(max_order=max_order, smooth=smooth)
    check_metric(m, REFS, HYPS, expected=expected, atol=0.01, run_model=False)
    with pytest.raises(ValueError, match=r"`max_order` must be one of \(1, 2, 3, 4\). Received: max_order=5"):
        metrics.BLEU(max_order=5)


def test_bleu_zero_matches_and_token_ids_in_evaluate():
    m = metrics.BLEU()
    m.update_state([["a b c d"]], ["e f"])
    assert float(m.result()) == sacrebleu.corpus_bleu(["e f"], [["a b c d"]]).score == 0.0
    rng = np.random.default_rng(0)
    refs = rng.integers(3, 9, (12, 7))
    refs[:, 5:] = 0  # padding
    logits = rng.normal(size=(12, 7, 10)).astype("float32")
    logits[:6] += 5 * np.eye(10)[refs[:6]]  # half the hypotheses equal their reference
    hyp_ids = logits.argmax(-1)

    def text(ids):
        out = []
        for t in ids:
            if t == 2:
                break
            if t != 0:
                out.append(str(t))
        return " ".join(out)

    expected = sacrebleu.corpus_bleu([text(h) for h in hyp_ids], [[text(r) for r in refs]],
                                     tokenize="none").score
    check_metric(metrics.BLEU(end_id=2), refs, logits, expected=expected, atol=0.01)


def test_wer_cer_match_jiwer():
    refs = ["the cat  sat ", "héllo wörld", "a b", "one two three four"]
    hyps = ["the bat sat down", "hello world ", "", "one three four five"]
    check_metric(metrics.WordErrorRate(), refs, hyps, expected=jiwer.wer(refs, hyps), atol=1e-6, run_model=False)
    check_metric(metrics.CharErrorRate(), refs, hyps, expected=jiwer.cer(refs, hyps), atol=1e-6, run_model=False)
    ids = np.array([[5, 6, 7, 2, 9], [3, 4, 0, 0, 0]])
    hyp = np.array([[5, 7, 2, 0, 0], [3, 4, 4, 0, 0]])
    m = metrics.WordErrorRate(end_id=2)
    m.update_state(ids, hyp)
    assert float(m.result()) == pytest.approx(jiwer.wer(["5 6 7", "3 4"], ["5 7", "3 4 4"]), abs=1e-12)
    with pytest.raises(ValueError, match="Received: 2 references and 1 hypotheses"):
        metrics.WordErrorRate().update_state(["a", "b"], ["a"])


@pytest.mark.parametrize("refs, hyps", [(["", "a b"], ["x", "a b"]), ([""], [""]), ([""], ["x y"]),
                                        (["", ""], ["", "z"])])
def test_wer_cer_with_empty_references_match_jiwer(refs, hyps):
    # jiwer 4 divides by max(reference units, 1): all-empty references give the insertion count.
    for metric, reference in ((metrics.WordErrorRate(), jiwer.wer), (metrics.CharErrorRate(), jiwer.cer)):
        metric.update_state(refs, hyps)
        assert float(metric.result()) == pytest.approx(reference(refs, hyps), abs=1e-12)


def test_binned_bins_are_monotone_and_relative():
    # Every float32 probability and logit lands in a bin that never decreases with the score.
    p = np.sort(np.concatenate([[0.0, 1e-45, 1e-30, 0.5 - 3e-8, 0.5, 0.5 + 6e-8, 1 - 6e-8, 1.0],
                                np.random.default_rng(0).random(2000)])).astype("float32")
    bins = auc_module.bin_index(tf.constant(p), 2**16, "probability").numpy()
    assert np.all(np.diff(bins) >= 0) and bins.min() >= 0 and bins.max() < 2**16
    assert bins[-1] != bins[-2] and bins[0] != bins[2]  # 1 - 6e-8 from 1, 1e-30 from 0
    z = np.sort(np.concatenate([[-np.inf, -1e30, -500, -50.2, -50, 0, 1e-30, 50, 50.2, 500, np.inf],
                                np.random.default_rng(1).normal(size=2000) * 30])).astype("float32")
    zbins = auc_module.bin_index(tf.constant(z), 2**16, "logit").numpy()
    assert np.all(np.diff(zbins) >= 0) and zbins.min() >= 0 and zbins.max() < 2**16
    assert len(set(zbins[np.isin(z, np.float32([-500, -50.2, -50, 50, 50.2, 500]))])) == 6


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_exact_store_grows_and_resets(dtype):
    # float64 scores are stored as rows; float32 ones of unit weight as packed int64 keys.
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 5000)
    p = rng.random(5000).astype(dtype)
    m = metrics.AUC()
    update = tf.function(m.update_state)
    for i in range(0, 5000, 300):
        update(y[i : i + 300], p[i : i + 300])
    store, other = (m.stored_size, m.keys_size) if dtype == "float64" else (m.keys_size, m.stored_size)
    used, capacity = store.numpy()
    assert used == 5000 and 5000 <= capacity < 10000  # doubling: at most twice the data
    assert other.numpy().tolist() == [0, 0]
    assert float(m.result()) == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
    m.reset_state()
    assert m.stored_size.numpy().tolist() == [0, 0] and m.keys_size.numpy().tolist() == [0, 0]
    with pytest.warns(RuntimeWarning, match="undefined") as caught:
        assert math.isnan(float(m.result()))
    assert caught[0].filename == __file__  # the warning names the caller of result()


def test_packed_keys_order_ties_and_round_trip():
    edges = [-np.inf, -3e38, -1.0, -1e-45, -0.0, 0.0, 1e-45, 1e-38, 0.5, 1.0, 3e38, np.inf]
    s = np.sort(np.concatenate([edges, np.random.default_rng(3).normal(size=500) * 100])).astype("float32")
    d = auc_module.descending_key(tf.constant(s)).numpy()
    assert np.all(np.diff(d) <= 0) and np.all((np.diff(d) == 0) == (np.diff(s) == 0))  # -0.0 == 0.0
    labels = np.arange(s.size) % 2
    keys = auc_module._np_pack(s, labels)
    np.testing.assert_array_equal(keys, 2 * d.astype("int64") + labels)
    scores, positive = auc_module._np_unpack(keys)
    np.testing.assert_array_equal(scores, s.astype("float64"))
    np.testing.assert_array_equal(positive, labels)


def test_lean_and_general_paths_merge():
    # Unit-weight float32 batches take the lean path (exact: packed keys; binned: int64 counts),
    # weighted or float64 ones the general path (rows; float64 histogram); results merge both.
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 900)
    p = np.round(rng.random(900), 2).astype("float32")  # ties across the two stores
    w = np.r_[np.ones(300), np.ones(300), rng.integers(0, 3, 300)]
    for curve, reference in (("ROC", skm.roc_auc_score), ("PR", skm.average_precision_score)):
        expected = reference(y, p, sample_weight=w)
        exact, binned, weighted = (metrics.AUC(curve=curve, num_bins=b) for b in (None, 2**16, 2**16))
        for m in (exact, binned):
            m.update_state(tf.constant(y[:300]), tf.constant(p[:300]))  # lean
            m.update_state(y[300:600], p[300:600].astype("float64"))  # general (exact), lean (binned)
            m.update_state(y[600:], p[600:], sample_weight=w[600:])  # general
        weighted.update_state(y, p, sample_weight=w)  # every batch through the general path
        assert exact.keys_size.numpy()[0] == 300 and exact.stored_size.numpy()[0] == 600
        assert float(exact.result()) == pytest.approx(expected, abs=1e-12)
        assert float(binned.result()) == pytest.approx(float(weighted.result()), abs=1e-12)
    # In fit / evaluate / a reloaded .keras model (batch axis of unknown size: the lean path).
    check_metric(metrics.AUC(num_bins=2**16), y, p, atol=1e-12)
    roc = metrics.ROCCurve()  # curves read the keys too
    roc.update_state(tf.constant(y[:600]), tf.constant(p[:600]))
    roc.update_state(y[600:], p[600:], sample_weight=w[600:])
    for a, b in zip(roc.result(), skm.roc_curve(y, p, sample_weight=w)):
        np.testing.assert_allclose(a, b)


@pytest.mark.parametrize("num_bins", [None, 2**12])
def test_lean_path_in_graph_with_unknown_batch_size(num_bins):
    # As in `fit`: a batch axis of unknown size still takes the lean path, with clear errors.
    spec = [tf.TensorSpec([None], "int32"), tf.TensorSpec([None], "float32")]
    probs = metrics.AUC(num_bins=num_bins)
    update = tf.function(probs.update_state, input_signature=spec)
    update(tf.constant([0, 1, 1, 0]), tf.constant([-0.0, 1.0, 0.0, 0.5]))  # -0.0 ties with 0.0
    assert float(probs.result()) == 0.625
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Labels must lie in \[0, 2\)"):
        update(tf.constant([0, 2]), tf.constant([0.1, 0.2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"probabilities in \[0, 1\]"):
        update(tf.constant([0, 1]), tf.constant([-0.1, 0.2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="must have the same shape"):
        update(tf.constant([0, 1, 1]), tf.constant([0.1, 0.2]))
    matrices = tf.function(probs.update_state, input_signature=[tf.TensorSpec([None, None])] * 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="must have the same shape"):
        matrices(tf.zeros([2, 3]), tf.zeros([3, 2]))  # as many entries, not the same shape
    logits = metrics.AUC(num_bins=num_bins, from_logits=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN scores"):
        tf.function(logits.update_state, input_signature=spec)(tf.constant([0, 1]), tf.constant([np.nan, 1.0]))
    assert float(probs.result()) == 0.625  # failed batches left no trace
    if num_bins is None:
        assert probs.keys_size.numpy()[0] == 4 and probs.stored_size.numpy()[0] == 0


def test_binned_multiclass_with_a_certain_class():
    # log_softmax of a dominating logit is exactly 0.0 (p = 1, q = -0.0): its bin is the top one.
    z = np.array([[0.0, -300.0, -300.0], [-300.0, 0.0, -300.0], [-300.0, -300.0, 0.0], [1.0, 2.0, 0.5]])
    y = np.array([0, 1, 2, 1])
    m = metrics.AUC(task="multiclass", num_classes=3, from_logits=True, num_bins=2**16)
    m.update_state(y, z)
    p = np.exp(z - z.max(1, keepdims=True))
    assert float(m.result()) == pytest.approx(skm.roc_auc_score(y, p / p.sum(1, keepdims=True), multi_class="ovr"))


MIRRORED = textwrap.dedent(
    """
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from kzoo import metrics
    from kzoo.testing.metric_test import ZeroLoss, _identity_model
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 101)
    z = rng.normal(size=(101, 3)).astype("float32")
    def run(strategy, z, y, metric_list):
        with strategy.scope():
            model = _identity_model(z)
            model.compile(loss=ZeroLoss(), metrics=metric_list())
        return model.evaluate(z, y, batch_size=8, verbose=0, return_dict=True)
    multiclass = lambda: [
        metrics.AUC(task="multiclass", num_classes=3, from_logits=True),
        metrics.AUC(task="multiclass", num_classes=3, from_logits=True, num_bins=4096, name="binned"),
        metrics.F1Score(task="multiclass", num_classes=3, from_logits=True)]
    # Binary: the lean path (packed keys, int64 counts) with all_gather / per-replica sums.
    binary = lambda: [metrics.AUC(from_logits=True), metrics.AUC(from_logits=True, num_bins=4096, name="binned")]
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])  # one: collective keys are per strategy
    for data, metric_list in (((z, y), multiclass), ((z[:, 0] * 20, (y == 0).astype("int32")), binary)):
        one = run(tf.distribute.get_strategy(), *data, metric_list)
        two = run(mirrored, *data, metric_list)
        print(sorted(one.items()), sorted(two.items()))
        assert len(one) == len(two) == len(metric_list()) + 1
        for (k1, v1), (k2, v2) in zip(sorted(one.items()), sorted(two.items())):
            assert abs(v1 - v2) < 1e-9, (k1, v1, v2)
    print("MIRRORED_OK")
    """
)


def test_mirrored_strategy_matches_one_device():
    # A subprocess: logical devices must be configured before TensorFlow initialises.
    out = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True, timeout=300)
    assert "MIRRORED_OK" in out.stdout, out.stdout[-2000:] + out.stderr[-3000:]


def test_lean_binned_update_compiles_with_xla():
    # Keras compiles `fit` with XLA by default where a GPU is present: the lean binned update
    # must compile (its checks are Asserts on constant messages, which XLA drops). Exact mode
    # grows its store and cannot; the general path's string-selecting Assert cannot either.
    rng = np.random.default_rng(9)
    y = rng.integers(0, 2, 400).astype("int32")
    z = (rng.normal(size=400) * 10).astype("float32")
    m = metrics.AUC(from_logits=True, num_bins=2**12)
    update = tf.function(m.update_state, jit_compile=True)
    update(tf.constant(y[:200]), tf.constant(z[:200]))
    update(tf.constant(y[200:]), tf.constant(z[200:]))
    reference = metrics.AUC(from_logits=True, num_bins=2**12)
    reference.update_state(y, z, sample_weight=np.ones(400))  # the general path
    assert float(m.result()) == pytest.approx(float(reference.result()), abs=1e-12)
