"""Classification metrics against scikit-learn: property-based, edge cases and errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn import metrics as skm

from kzoo import metrics
from kzoo.testing.metric_test import check_metric

AVERAGES = ["micro", "macro", "weighted", "none"]


def _sk(name, y, yhat, average, labels, zero_division, w, beta=1.0):
    average = None if average == "none" else average
    kw = dict(labels=labels, average=average, zero_division=zero_division, sample_weight=w)
    if name == "precision":
        return skm.precision_score(y, yhat, **kw)
    if name == "recall":
        return skm.recall_score(y, yhat, **kw)
    return skm.fbeta_score(y, yhat, beta=beta, **kw)


def _make(name, **kw):
    if name == "precision":
        return metrics.Precision(**kw)
    if name == "recall":
        return metrics.Recall(**kw)
    return metrics.FBetaScore(beta=0.5, **kw)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    name=st.sampled_from(["precision", "recall", "fbeta"]),
    average=st.sampled_from(AVERAGES),
    one_hot=st.booleans(),
    logits=st.booleans(),
    weighted=st.booleans(),
    zero_division=st.sampled_from([0.0, 1.0, math.nan]),
)
def test_multiclass_matches_sklearn(seed, name, average, one_hot, logits, weighted, zero_division):
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(1, 40)), int(rng.integers(2, 6))
    y = rng.integers(0, c, n)
    z = np.round(rng.normal(size=(n, c)), 1)  # rounding makes argmax ties
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    w = rng.integers(0, 3, n).astype(float) if weighted else None
    yhat = z.argmax(1)
    expected = _sk(name, y, yhat, average, list(range(c)), zero_division, w, beta=0.5)
    m = _make(name, task="multiclass", num_classes=c, average=average, from_logits=logits,
              zero_division=zero_division)
    y_in = np.eye(c)[y] if one_hot else y
    check_metric(m, y_in, z if logits else p, w, expected=expected, atol=1e-9, run_model=False)


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    name=st.sampled_from(["precision", "recall", "fbeta"]),
    task=st.sampled_from(["binary", "multilabel"]),
    average=st.sampled_from(AVERAGES),
    logits=st.booleans(),
    threshold=st.sampled_from([0.3, 0.5, 0.9]),
)
def test_binary_and_multilabel_match_sklearn(seed, name, task, average, logits, threshold):
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(1, 40)), int(rng.integers(2, 5))
    shape = (n,) if task == "binary" else (n, c)
    y = rng.integers(0, 2, shape)
    p = np.round(rng.random(shape), 1)  # scores equal to the threshold occur
    w = rng.integers(0, 4, n).astype(float)
    yhat = (p >= threshold).astype(int)
    if task == "binary":
        kw = dict(average="binary", zero_division=0.0, sample_weight=w)
        ref = {"precision": skm.precision_score, "recall": skm.recall_score}.get(name)
        expected = ref(y, yhat, **kw) if ref else skm.fbeta_score(y, yhat, beta=0.5, **kw)
        m = _make(name, task="binary", threshold=threshold, from_logits=logits)
    else:
        expected = _sk(name, y, yhat, average, list(range(c)), 0.0, w, beta=0.5)
        m = _make(name, task="multilabel", num_labels=c, average=average, threshold=threshold,
                  from_logits=logits)
    with np.errstate(divide="ignore"):
        scores = np.log(p) - np.log1p(-p) if logits else p
    check_metric(m, y, scores, w, expected=expected, atol=1e-9, run_model=False)


def test_in_fit_evaluate_and_saved_model():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 60)
    z = rng.normal(size=(60, 3)).astype("float32")
    w = rng.integers(0, 3, 60).astype("float32")
    expected = skm.f1_score(y, z.argmax(1), average="macro", sample_weight=w)
    check_metric(metrics.F1Score(task="multiclass", num_classes=3, from_logits=True), y, z, w,
                 expected=expected, atol=1e-6)


def test_accuracy_and_specificity():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 200)
    p = rng.random((200, 4))
    w = rng.integers(0, 3, 200).astype(float)
    acc = metrics.Accuracy(task="multiclass", num_classes=4, average="micro")
    check_metric(acc, y, p, w, expected=skm.accuracy_score(y, p.argmax(1), sample_weight=w), run_model=False)
    bal = metrics.Accuracy(task="multiclass", num_classes=4, average="macro")
    check_metric(bal, y, p, w, expected=skm.balanced_accuracy_score(y, p.argmax(1), sample_weight=w), run_model=False)
    top2 = metrics.Accuracy(task="multiclass", num_classes=4, average="micro", top_k=2)
    check_metric(top2, y, p, w, expected=skm.top_k_accuracy_score(y, p, k=2, sample_weight=w, labels=range(4)),
                 run_model=False)
    mcm = skm.multilabel_confusion_matrix(y, p.argmax(1), labels=range(4), sample_weight=w)
    tn, fp = mcm[:, 0, 0], mcm[:, 0, 1]
    spec = metrics.Specificity(task="multiclass", num_classes=4, average="none")
    check_metric(spec, y, p, w, expected=tn / (tn + fp), run_model=False)
    yl = rng.integers(0, 2, (50, 3))
    pl = rng.random((50, 3))
    ham = metrics.Accuracy(task="multilabel", num_labels=3, average="micro")
    check_metric(ham, yl, pl, expected=1 - skm.hamming_loss(yl, pl >= 0.5), run_model=False)


def test_confusion_matrix_matches_sklearn_and_plots():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 80)
    p = rng.random((80, 3))
    w = rng.integers(0, 3, 80).astype(float)
    for normalize in [None, "true", "pred", "all"]:
        expected = skm.confusion_matrix(y, p.argmax(1), labels=range(3), sample_weight=w, normalize=normalize)
        m = metrics.ConfusionMatrix(task="multiclass", num_classes=3, normalize=normalize,
                                    class_names=["a", "b", "c"])
        check_metric(m, y, p, w, expected=np.nan_to_num(expected), run_model=normalize is None)
    fig = m.plot()
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b", "c"]
    yl = rng.integers(0, 2, (30, 4))
    pl = rng.random((30, 4))
    ml = metrics.ConfusionMatrix(task="multilabel", num_labels=4)
    check_metric(ml, yl, pl, expected=skm.multilabel_confusion_matrix(yl, pl >= 0.5), run_model=False)


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
@pytest.mark.parametrize("logits", [False, True])
def test_binary_confusion_matrix_matches_sklearn(normalize, logits):
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 90)
    z = rng.normal(size=90) * 2
    z[:3] = 0.0  # exactly on the 0.5 threshold: predicted positive, as `p >= threshold`
    p = 1 / (1 + np.exp(-z))
    w = rng.integers(0, 3, 90).astype(float)
    expected = skm.confusion_matrix(y, (z >= 0).astype(int), labels=[0, 1], sample_weight=w,
                                    normalize=normalize)
    m = metrics.ConfusionMatrix(normalize=normalize, from_logits=logits)
    got = check_metric(m, y, z if logits else p, w, expected=expected, run_model=normalize is None)
    assert got.shape == (2, 2)


def test_keras_mask_from_a_masking_layer_in_evaluate():
    # Embedding(mask_zero=True) -> per-token logits (B, T, C); Keras hands the mask to the metric.
    import keras

    rng = np.random.default_rng(9)
    tokens = rng.integers(1, 20, (16, 7))
    lengths = rng.integers(2, 8, 16)
    tokens[np.arange(7)[None, :] >= lengths[:, None]] = 0  # padding id 0
    y = rng.integers(0, 3, (16, 7))  # padded positions hold real-looking labels: only the mask drops them
    keras.utils.set_random_seed(0)
    inputs = keras.Input((7,), dtype="int32")
    hidden = keras.layers.Embedding(20, 8, mask_zero=True)(inputs)
    outputs = keras.layers.Dense(3)(hidden)  # (B, T, C), mask propagated
    model = keras.Model(inputs, outputs)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=[
        metrics.Recall(task="multiclass", num_classes=3, average="macro", from_logits=True, name="recall"),
        metrics.AUC(task="multiclass", num_classes=3, from_logits=True, name="auc"),
    ])
    logits = model.predict(tokens, verbose=0)
    valid = tokens != 0
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    logs = model.evaluate(tokens, y, batch_size=5, verbose=0, return_dict=True)
    assert logs["recall"] == pytest.approx(
        skm.recall_score(y[valid], logits.argmax(-1)[valid], average="macro"), abs=1e-6)
    assert logs["auc"] == pytest.approx(skm.roc_auc_score(y[valid], probs[valid], multi_class="ovr"), abs=1e-5)
    unmasked = skm.recall_score(y.ravel(), logits.argmax(-1).ravel(), average="macro")
    assert abs(unmasked - logs["recall"]) > 1e-3  # the padding would have changed the result


def test_sequence_masking_and_ignore_index():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 3, (4, 6))
    y[:, 4:] = -100  # padding
    z = rng.normal(size=(4, 6, 3))
    valid = y != -100
    expected = skm.recall_score(y[valid], z.argmax(-1)[valid], average="macro")
    m = metrics.Recall(task="multiclass", num_classes=3, ignore_index=-100, from_logits=True)
    m.update_state(y, z)
    assert float(m.result()) == pytest.approx(expected, abs=1e-12)
    import tensorflow as tf

    masked = tf.convert_to_tensor(z, "float32")
    masked._keras_mask = tf.constant(valid)
    m2 = metrics.Recall(task="multiclass", num_classes=3, from_logits=True)
    m2.update_state(np.where(valid, y, 0), masked)
    assert float(m2.result()) == pytest.approx(expected, abs=1e-12)


def test_edge_cases():
    # All-negative labels with no positive predictions: precision and recall are 0/0.
    for zd in [0.0, 1.0]:
        m = metrics.Precision(zero_division=zd)
        m.update_state([0, 0, 0], [0.1, 0.2, 0.3])
        assert float(m.result()) == zd
    # Threshold exactly equal to a score counts as positive (probability and logit alike).
    for logits, scores in [(False, [0.5, 0.49]), (True, [0.0, -0.01])]:
        m = metrics.Recall(threshold=0.5, from_logits=logits)
        m.update_state([1, 1], scores)
        assert float(m.result()) == 0.5
    # Argmax ties go to the lowest index, as np.argmax.
    m = metrics.Precision(task="multiclass", num_classes=3, average="none")
    m.update_state([1, 0], [[0.4, 0.4, 0.2], [0.5, 0.5, 0.0]])
    np.testing.assert_allclose(m.result(), [0.5, 0.0, 0.0])
    # A class only predicted, a class absent: NaN zero_division leaves them out of macro.
    m = metrics.Recall(task="multiclass", num_classes=3, average="macro", zero_division=math.nan)
    m.update_state([0, 0, 1], [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert float(m.result()) == pytest.approx(skm.recall_score([0, 0, 1], [0, 2, 1], labels=range(3),
                                                               average="macro", zero_division=np.nan))
    # Zero weight equals removing the sample; integer weight equals duplication.
    a, b = metrics.F1Score(), metrics.F1Score()
    a.update_state([1, 0, 1, 1], [0.9, 0.8, 0.2, 0.7], sample_weight=[1, 0, 2, 1])
    b.update_state([1, 1, 1, 1], [0.9, 0.2, 0.2, 0.7])
    assert float(a.result()) == float(b.result())
    # A single sample and an empty batch.
    m = metrics.Precision()
    m.update_state(np.zeros((0,)), np.zeros((0,)))
    m.update_state([1], [0.7])
    assert float(m.result()) == 1.0
    # Precision(class_id=1)-style question Keras gets wrong: per-class precision of class 1.
    m = metrics.Precision(task="multiclass", num_classes=3, average="none")
    m.update_state([0, 1, 2], [[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1]])
    assert float(m.result()[1]) == pytest.approx(1 / 3)


def test_counts_are_exact_beyond_float32():
    m = metrics.Recall()
    m.update_state([1, 1], [0.9, 0.1], sample_weight=[2.0**25, 1.0])
    assert float(m.tp.numpy()[0]) == 2.0**25 and float(m.fn.numpy()[0]) == 1.0


@pytest.mark.parametrize(
    "make, y_true, y_pred, kwargs, match",
    [
        (lambda: metrics.Precision(task="multiclass", num_classes=3), [0, 3], np.ones((2, 3)) / 3, {},
         r"Labels must lie in \[0, 3\).*Received: y_true=\[3\]"),
        (lambda: metrics.Precision(task="multiclass", num_classes=3), [0, 1], np.ones((2, 4)), {},
         r"num_classes=3. Received: y_pred.shape=\(2, 4\)"),
        (lambda: metrics.Recall(), [0, 1, 1], [0.1, 0.2], {}, r"same shape. Received: y_true.shape=\(3,\)"),
        (lambda: metrics.Recall(), [0, 1], [0.1, np.nan], {}, r"NaN scores. Received: y_pred=\[0.1"),
        (lambda: metrics.Recall(), [0, 1], [0.1, 0.2], {"sample_weight": [1.0, -1.0]},
         r"non-negative. Received: sample_weight=\[1.0, -1.0\]"),
        (lambda: metrics.Recall(), [0, 1], [0.1, 3.0], {}, r"from_logits=True.*Received: y_pred=\[3.0\]"),
        (lambda: metrics.Recall(), [0, 2], [0.1, 0.3], {}, r"Labels must lie in \[0, 2\)"),
    ],
)
def test_bad_input_is_named(make, y_true, y_pred, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make().update_state(y_true, y_pred, **kwargs)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="Received: average='mean'"):
        metrics.Precision(task="multiclass", num_classes=3, average="mean")
    with pytest.raises(ValueError, match="Received: num_classes=None"):
        metrics.Recall(task="multiclass")
    with pytest.raises(ValueError, match="Received: top_k=5"):
        metrics.Accuracy(task="multiclass", num_classes=3, top_k=5)
    with pytest.raises(ValueError, match="Received: zero_division=0.5"):
        metrics.F1Score(zero_division=0.5)
