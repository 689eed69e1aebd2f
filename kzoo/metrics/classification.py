"""Thresholded classification metrics: precision, recall, F-beta, specificity and accuracy.

All of them accumulate four weighted counts per class (true/false positives/negatives) in
float64, so results are exact for integer weights up to 2**53 samples and do not depend on how
the data is split into batches. Averages follow scikit-learn with `labels=range(num_classes)`:
"micro" pools the counts, "macro" is the mean over classes, "weighted" weights each class by its
support (weighted count of true samples), "none" returns one value per class. With
`zero_division=nan`, undefined classes are left out of the average, as scikit-learn does.

Decisions: a binary or multilabel score is positive when `probability >= threshold` (compared in
the score's dtype, so a float32 0.9 meets threshold 0.9); with
`from_logits=True` the same decision is taken in logit space (`logit >= log(t / (1 - t))`), so a
threshold means the same thing whatever the model emits and no float32 sigmoid is rounded. A
multiclass prediction is the class of the highest score (the first one on ties, as `np.argmax`),
or with `top_k=k` any of the k highest (lower index first on ties).
"""

import math

import keras
import tensorflow as tf
from keras import ops

from kzoo.metrics import _inputs

__all__ = ["Precision", "Recall", "FBetaScore", "F1Score", "Specificity", "Accuracy"]


def _divide(numer, denom, zero_division):
    """`numer / denom`, or `zero_division` where `denom` is 0 (all float64)."""
    safe = ops.where(denom > 0, denom, ops.ones_like(denom))
    return ops.where(denom > 0, numer / safe, ops.cast(zero_division, "float64"))


def nan_average(values, weights=None):
    """scikit-learn's `_nanaverage`: the (weighted) mean over the non-NaN entries of `values`.

    All-NaN gives NaN; all-zero weights fall back to the plain mean.
    """
    valid = ops.logical_not(ops.isnan(values))
    filled = ops.where(valid, values, ops.zeros_like(values))
    count = ops.sum(ops.cast(valid, "float64"))
    mean = ops.sum(filled) / ops.where(count > 0, count, 1.0)
    if weights is not None:
        weights = ops.where(valid, weights, ops.zeros_like(weights))
        total = ops.sum(weights)
        weighted = ops.sum(filled * weights) / ops.where(total > 0, total, 1.0)
        mean = ops.where(total > 0, weighted, mean)
    return ops.where(count > 0, mean, ops.cast(float("nan"), "float64"))


def decide(scores, threshold, from_logits):
    """Boolean positive decisions `probability >= threshold` of binary/multilabel scores.

    With logits the test is `logit >= log(t / (1 - t))` in float64: the same decision, no sigmoid.
    """
    if not from_logits:
        return scores >= tf.constant(threshold, scores.dtype)  # float32(0.9) meets 0.9
    if threshold == 0.0:
        return tf.ones_like(scores, "bool")
    cut = math.inf if threshold == 1.0 else math.log(threshold) - math.log1p(-threshold)
    return scores >= tf.constant(cut, scores.dtype)


class StatScores(keras.metrics.Metric):
    """Base of the thresholded metrics: weighted tp, fp, tn, fn per class, in float64.

    Subclasses override one hook, `_score(tp, fp, tn, fn)`, which maps per-class (or pooled)
    counts to the metric value, and optionally `_support` for "weighted".

    Args:
        task: "binary", "multiclass" or "multilabel".
        num_classes: number of classes ("multiclass") or labels ("multilabel"); None for binary.
        num_labels: alias of `num_classes` for "multilabel".
        average: "micro", "macro", "weighted" or "none" (per class). Ignored for "binary", where
            the positive class is scored as scikit-learn's `average="binary"`. Default "macro".
        threshold: probability at or above which a binary/multilabel score is positive.
        top_k: for "multiclass", count a class as predicted when among the k highest scores.
        from_logits: whether `y_pred` holds logits (declared, never guessed).
        ignore_index: a label value (e.g. padding) whose positions are left out.
        zero_division: value (0, 1 or NaN) of a ratio whose denominator is 0.
        name: as for `keras.metrics.Metric`.
        dtype: as for `keras.metrics.Metric`.
    """

    def __init__(
        self,
        task="binary",
        num_classes=None,
        average="macro",
        threshold=0.5,
        top_k=None,
        from_logits=False,
        ignore_index=None,
        zero_division=0.0,
        num_labels=None,
        name=None,
        dtype=None,
    ):
        super().__init__(name=name, dtype=dtype)
        if num_classes is None and num_labels is not None:
            num_classes = num_labels
        self._num = _inputs.check_task(task, num_classes)
        _inputs.check_choice("average", average, _inputs.AVERAGES)
        if not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
            raise ValueError(
                f"`threshold` is a probability in [0, 1]. Received: threshold={threshold!r}"
            )
        if top_k is not None:
            if task != "multiclass" or not isinstance(top_k, int) or not 1 <= top_k <= self._num:
                raise ValueError(
                    "`top_k` applies to task='multiclass' and must be an integer in "
                    f"[1, num_classes]. Received: top_k={top_k!r}, task={task!r}"
                )
        zd = float(zero_division)
        if not (math.isnan(zd) or zd in (0.0, 1.0)):
            raise ValueError(f"`zero_division` must be 0, 1 or NaN. Received: zero_division={zero_division!r}")
        if ignore_index is not None and not isinstance(ignore_index, int):
            raise ValueError(f"`ignore_index` must be an integer or None. Received: ignore_index={ignore_index!r}")
        self.task = task
        self.num_classes = None if task == "binary" else num_classes
        self.average = average
        self.threshold = float(threshold)
        self.top_k = top_k
        self.from_logits = bool(from_logits)
        self.ignore_index = ignore_index
        self.zero_division = zd
        shape = (self._num,)
        self.tp = self.add_variable(shape, "zeros", dtype="float64", name="true_positives")
        self.fp = self.add_variable(shape, "zeros", dtype="float64", name="false_positives")
        self.tn = self.add_variable(shape, "zeros", dtype="float64", name="true_negatives")
        self.fn = self.add_variable(shape, "zeros", dtype="float64", name="false_negatives")

    def _decide(self, scores):
        return decide(scores, self.threshold, self.from_logits)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulates the counts of one batch.

        Args:
            y_true: labels; sparse `(batch_size, ...)` or one-hot for "multiclass", 0/1 otherwise.
            y_pred: scores `(batch_size, ..., num_classes)` (probabilities or logits).
            sample_weight: optional non-negative weights broadcastable from the label shape.
        """
        labels, scores, weights = _inputs.format_inputs(
            y_true, y_pred, sample_weight, self.task, self._num, self.ignore_index, self.from_logits
        )
        if self.task == "multiclass" and (self.top_k or 1) == 1:
            # One prediction per sample: counts per class by segment sums, O(N + C) memory
            # instead of (N, C) one-hots (a 5,000-word output vocabulary costs nothing extra).
            return self._add_counts_top1(labels, _inputs._first_argmax(scores), weights)
        if self.task == "multiclass":
            k = self.top_k
            top = tf.math.top_k(scores, k=k, sorted=False).indices
            predicted = tf.reduce_max(tf.one_hot(top, self._num, dtype="float64"), axis=-2)  # (N, C)
            actual = tf.one_hot(labels, self._num, dtype="float64")  # (N, C)
            weights = tf.expand_dims(weights, -1)
        else:
            predicted = tf.cast(self._decide(scores), "float64")
            actual = tf.cast(labels, "float64")
            if self.task == "binary":  # (N,) -> (N, 1): one "class", the positive one
                predicted, actual, weights = (tf.expand_dims(t, -1) for t in (predicted, actual, weights))
        pos = weights * actual
        neg = weights - pos
        tp = tf.reduce_sum(pos * predicted, axis=0)
        fp = tf.reduce_sum(neg * predicted, axis=0)
        self.tp.assign_add(tp)
        self.fp.assign_add(fp)
        self.fn.assign_add(tf.reduce_sum(pos, axis=0) - tp)
        self.tn.assign_add(tf.reduce_sum(neg, axis=0) - fp)

    def _add_counts_top1(self, labels, predicted, weights):
        labels = tf.cast(tf.reshape(labels, [-1]), "int32")
        predicted = tf.cast(tf.reshape(predicted, [-1]), "int32")
        weights = tf.cast(tf.reshape(weights, [-1]), "float64")
        hits = weights * tf.cast(tf.equal(labels, predicted), "float64")
        tp = tf.math.unsorted_segment_sum(hits, labels, self._num)  # (C,)
        predicted_count = tf.math.unsorted_segment_sum(weights, predicted, self._num)
        actual_count = tf.math.unsorted_segment_sum(weights, labels, self._num)
        self.tp.assign_add(tp)
        self.fp.assign_add(predicted_count - tp)
        self.fn.assign_add(actual_count - tp)
        self.tn.assign_add(tf.reduce_sum(weights) - predicted_count - actual_count + tp)

    def _score(self, tp, fp, tn, fn):
        raise NotImplementedError

    def _support(self, tp, fp, tn, fn):
        return tp + fn

    def result(self):
        """The metric: a scalar, or `(num_classes,)` with `average="none"`."""
        tp, fp, tn, fn = (ops.convert_to_tensor(v) for v in (self.tp, self.fp, self.tn, self.fn))
        if self.task == "binary":
            return self._score(tp, fp, tn, fn)[0]
        if self.average == "micro":
            return self._score(*(ops.sum(v, keepdims=True) for v in (tp, fp, tn, fn)))[0]
        per_class = self._score(tp, fp, tn, fn)
        if self.average == "none":
            return per_class
        weights = self._support(tp, fp, tn, fn) if self.average == "weighted" else None
        return nan_average(per_class, weights)

    def reset_state(self):
        for v in (self.tp, self.fp, self.tn, self.fn):
            v.assign(ops.zeros(v.shape, "float64"))

    def get_config(self):
        config = {
            "task": self.task,
            "num_classes": self.num_classes,
            "average": self.average,
            "threshold": self.threshold,
            "top_k": self.top_k,
            "from_logits": self.from_logits,
            "ignore_index": self.ignore_index,
            "zero_division": self.zero_division,
        }
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="kzoo")
class Precision(StatScores):
    """Precision `tp / (tp + fp)`, streaming and exact; scikit-learn's `precision_score`.

    Takes the arguments of `StatScores` (task, num_classes, average, threshold, top_k,
    from_logits, ignore_index, zero_division).

    Returns:
        A float64 scalar, or `(num_classes,)` with `average="none"`.

    Examples:
        >>> m = Precision(task="multiclass", num_classes=3, average="macro")
        >>> m.update_state([0, 1, 2, 2], [[.8, .1, .1], [.2, .7, .1], [.6, .2, .2], [.1, .1, .8]])
        >>> round(float(m.result()), 4)
        0.8333
    """

    def _score(self, tp, fp, tn, fn):
        return _divide(tp, tp + fp, self.zero_division)

    def _support(self, tp, fp, tn, fn):
        return tp + fn


@keras.saving.register_keras_serializable(package="kzoo")
class Recall(StatScores):
    """Recall (sensitivity) `tp / (tp + fn)`; scikit-learn's `recall_score`.

    Takes the arguments of `StatScores`.

    Returns:
        A float64 scalar, or `(num_classes,)` with `average="none"`.

    Examples:
        >>> m = Recall(task="binary", from_logits=True)
        >>> m.update_state([1, 1, 0], [3.0, -1.0, 2.0])
        >>> float(m.result())
        0.5
    """

    def _score(self, tp, fp, tn, fn):
        return _divide(tp, tp + fn, self.zero_division)


@keras.saving.register_keras_serializable(package="kzoo")
class FBetaScore(StatScores):
    """F-beta `(1 + b²) tp / ((1 + b²) tp + b² fn + fp)`; scikit-learn's `fbeta_score`.

    Args:
        beta: weight of recall relative to precision, a positive number. Default 1.

    The other arguments are those of `StatScores`.

    Returns:
        A float64 scalar, or `(num_classes,)` with `average="none"`.

    Examples:
        >>> m = FBetaScore(beta=2.0)
        >>> m.update_state([1, 1, 0, 0], [0.9, 0.2, 0.7, 0.1])
        >>> round(float(m.result()), 4)
        0.5
    """

    def __init__(self, beta=1.0, **kwargs):
        if not isinstance(beta, (int, float)) or isinstance(beta, bool) or not beta > 0:
            raise ValueError(f"`beta` must be a positive number. Received: beta={beta!r}")
        super().__init__(**kwargs)
        self.beta = float(beta)

    def _score(self, tp, fp, tn, fn):
        b2 = self.beta**2
        return _divide((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp, self.zero_division)

    def get_config(self):
        return {**super().get_config(), "beta": self.beta}


@keras.saving.register_keras_serializable(package="kzoo")
class F1Score(FBetaScore):
    """F1 `2 tp / (2 tp + fn + fp)`, the harmonic mean of precision and recall; `f1_score`.

    Takes the arguments of `StatScores`. Unlike `keras.metrics.F1Score` it takes 1-D labels and logits.

    Returns:
        A float64 scalar, or `(num_classes,)` with `average="none"`.

    Examples:
        >>> m = F1Score(task="multiclass", num_classes=3, average="micro", from_logits=True)
        >>> m.update_state([0, 1, 2], [[5.0, 1.0, 0.0], [0.0, 2.0, 1.0], [3.0, 0.0, 1.0]])
        >>> round(float(m.result()), 4)
        0.6667
    """

    def __init__(self, **kwargs):
        kwargs.pop("beta", None)
        super().__init__(beta=1.0, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("beta")
        return config


@keras.saving.register_keras_serializable(package="kzoo")
class Specificity(StatScores):
    """Specificity (true negative rate) `tn / (tn + fp)`; "weighted" weights by `tp + fn`.

    Takes the arguments of `StatScores`.

    Returns:
        A float64 scalar, or `(num_classes,)` with `average="none"`.

    Examples:
        >>> m = Specificity()
        >>> m.update_state([0, 0, 0, 1], [0.1, 0.6, 0.2, 0.9])
        >>> round(float(m.result()), 4)
        0.6667
    """

    def _score(self, tp, fp, tn, fn):
        return _divide(tn, tn + fp, self.zero_division)


@keras.saving.register_keras_serializable(package="kzoo")
class Accuracy(StatScores):
    """Accuracy of thresholded or top-k predictions.

    - binary: `(tp + tn) / n`.
    - multiclass: "micro" (and "weighted") is the fraction of samples whose label is predicted
      (scikit-learn's `accuracy_score`, or `top_k_accuracy_score` with `top_k`); "macro" is the
      mean per-class recall (`balanced_accuracy_score`); "none" is the per-class recall.
    - multilabel: `(tp + tn) / n` per label ("none"), averaged over labels ("macro") or pooled
      ("micro", i.e. `1 - hamming_loss`).

    Takes the arguments of `StatScores`.

    Returns:
        A float64 scalar, or `(num_classes,)` with `average="none"`.

    Examples:
        >>> m = Accuracy(task="multiclass", num_classes=3, average="micro", top_k=2)
        >>> m.update_state([0, 1, 2], [[.5, .3, .2], [.6, .1, .3], [.2, .3, .5]])
        >>> round(float(m.result()), 4)
        0.6667
    """

    def _score(self, tp, fp, tn, fn):
        if self.task == "multiclass":
            return _divide(tp, tp + fn, self.zero_division)
        return _divide(tp + tn, tp + fp + tn + fn, self.zero_division)

    def _support(self, tp, fp, tn, fn):
        if self.task == "multiclass":
            return tp + fn
        return tp + fp + tn + fn
