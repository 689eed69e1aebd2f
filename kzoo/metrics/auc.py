"""Ranking metrics: ROC-AUC and average precision, exact or binned, streaming.

Exact mode (`num_bins=None`) stores every sample and computes the area from the sorted scores,
ties included, so it equals scikit-learn's `roc_auc_score` and `average_precision_score`; the
sort happens in `result()`, O(N log N) on every call. A binary batch of unit weights and float32
scores (what `fit` and `evaluate` pass without `sample_weight`) is stored as one int64 per sample,
the float32 score's order bits and the label packed together (`descending_key`), and `result()`
sorts those keys as they are; anything else is stored as float64 (score, label, weight) rows.
Binned mode keeps histograms of constant size, updated in place, and `result()` costs
O(num_bins).

Both modes reduce the data to the weighted positives and negatives of every distinct score (bin),
lowest first; ROC AUC is then the share of positive-negative pairs ranked right, ties counted
1/2 (`roc_auc_from_groups`), and average precision and partial AUC come from the cumulative sums.

Binned design. Every score is binned from the bits of a float32 number, so the bin is a monotone
function of the score (for probabilities and logits with no rounding in between: no `log`, no
`sigmoid`):

- probabilities `p`: the distance to the nearer end, `q = p` below 0.5 and `q = 1 - p` from 0.5
  up (exact in float32 for `p >= 0.5`, Sterbenz' lemma); `p < 0.5` fills the lower half of the
  bins in increasing `q`, `p >= 0.5` the upper half in decreasing `q`;
- logits `z`: `q = |z|`; `z >= 0` fills the upper half in increasing `q`, `z < 0` the lower
  half in decreasing `q` (`|z| < 2**-64` shares the two middle bins, `|z| >= 2**64` the outer ones);
- multiclass logits: the float64 log-softmax, turned into `q` as a probability would be.

The bin inside a half is `bits(float32(q)) >> (23 - m)`: the exponent and the first `m` mantissa
bits, i.e. `2**m` bins per octave of `q`, with `num_bins = 256 * 2**m` (128 octaves per half).
Bins are therefore *relative*: a bin spans at most `q / 2**m`. In logit space that is at most
`2 / 2**m` wide for probabilities (0.008 at the default `m = 8`, the same near 0.5, at 1e-6 or at
1 - 1e-6, where uniform buckets on [0, 1] collapse), and 0.4% of `|z|` for logits (a logit of 50
or 500 is resolved). Pairs in different bins are ordered exactly; a positive and a negative in
the same bin count 1/2, as tied scores do. Hence the error bound

    |AUC_binned - AUC_exact| <= 0.5 * sum_b pos_b * neg_b / (P * N)

where `pos_b`, `neg_b` are the weighted counts in bin `b`: half the fraction of
positive-negative pairs sharing a bin (`binned_error_bound()` returns it for the data seen). The
bound counts pairs with exactly equal scores too, whose error is zero; it is loose for scores on a
grid. On the 2M scores of `benchmarks/metrics.py` with the default `num_bins=2**16` the bound is
4.0e-4 for normal scores, 2.3e-4 for scores 1e-6..1e-3 and 1.8e-4 for scores squeezed near 1;
the actual errors there are at most 1.1e-6.

Multiclass scores are ranked one-vs-rest on the class probability; with `from_logits=True` on the
float64 log-softmax (the same order as the softmax, without rounding). Binary and multilabel
logits are ranked directly: a float32 sigmoid of a logit above ~17 is exactly 1.0 and would tie
them.

References:
    Hand, Till (2001), "A Simple Generalisation of the Area Under the ROC Curve for Multiple
    Class Classification Problems" (one-vs-one). McClish (1989), "Analyzing a Portion of the ROC
    Curve" (standardized partial AUC).
"""

import math
import warnings

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kzoo.metrics import _inputs
from kzoo.metrics.classification import nan_average

__all__ = ["AUC", "RankingMetric"]

# A half of the bins covers 128 octaves of q: for probabilities every float32 exponent of
# q in [0, 0.5] (denormals included); for logits |z| in [2**-64, 2**64), far beyond the float32
# resolution of a probability near 0.5 (2**-24) and beyond any float64 sigmoid (|z| = 745 is 0).
_OCTAVES = 128
_LOWEST_LOGIT_EXPONENT = 127 - 64  # biased float32 exponent of 2**-64
_MIN_BINS, _MAX_BINS = 256, 2**24  # one bin per octave; 16M bins are 128 MiB per histogram row


def mantissa_bits(num_bins):
    """`m` of the binned layout: `num_bins = 256 * 2**m` (see the module docstring)."""
    return (num_bins // (2 * _OCTAVES)).bit_length() - 1


def bin_index(scores, num_bins, space, with_validity=False):
    """Monotone bin of every score (see the module docstring); int32 in [0, num_bins).

    Args:
        scores: probabilities, logits or (float64) log-probabilities.
        num_bins: `256 * 2**m`.
        space: "probability", "logit" or "log_probability".
        with_validity: also return a bool per score, True exactly when the score is valid (a
            probability in [0, 1], or a logit that is not NaN), read from the bits the bin is
            made of ("probability" and "logit" only).
    """
    m = mantissa_bits(num_bins)
    half = num_bins // 2
    if space == "log_probability":  # log p -> q = min(p, 1 - p), in float64 then rounded
        upper = scores >= math.log(0.5)
        q = tf.where(upper, -tf.math.expm1(scores), tf.math.exp(scores))
    else:
        scores = tf.cast(scores, "float32")  # rounding to nearest is monotone
        if space == "probability":
            upper = scores >= 0.5
            q = tf.where(upper, 1.0 - scores, scores)  # exact for scores >= 0.5
        else:
            upper = scores >= 0.0
            q = tf.abs(scores)
    q = tf.cast(q, "float32")
    # Without the sign bit: q = -0.0 (p = -0.0, or log p = 0.0) is 0.0.
    q_bits = tf.bitwise.bitwise_and(tf.bitcast(q, tf.int32), 0x7FFFFFFF)
    u = tf.bitwise.right_shift(q_bits, 23 - m)  # (exponent, m bits)
    if space == "logit":
        valid = q_bits <= 0x7F800000  # only NaN lies above the bits of inf
        u = tf.clip_by_value(u - (_LOWEST_LOGIT_EXPONENT << m), 0, half - 1)
        bins = tf.where(upper, half + u, half - 1 - u)
    else:
        # q of a probability lies in [0, 0.5]: u in [0, half). For p < 0 or p > 1, q < 0; for
        # NaN, q is NaN: both fail `q >= 0`.
        valid = q >= 0.0
        bins = tf.where(upper, num_bins - 1 - u, u)
    return (bins, valid) if with_validity else bins


def scatter_add(variable, indices, updates, size):
    """`variable[indices] += updates` for a flat variable of `size` entries, duplicates summed.

    `updates` is a vector like `indices`, or a scalar added at every index (the CPU kernel adds a
    scalar about 3x faster than a vector of ones). A plain variable is updated in place (no dense
    `(size,)` temporary); the per-replica variables of `tf.distribute` do not support scatter,
    so there the dense sum is added.
    """
    target = variable.value if isinstance(variable, keras.Variable) else variable  # a tf.Variable
    if isinstance(target, tf.distribute.DistributedValues):
        updates = tf.broadcast_to(updates, tf.shape(indices))
        return variable.assign_add(tf.math.unsorted_segment_sum(updates, indices, size))
    return tf.raw_ops.ResourceScatterAdd(resource=target.handle, indices=indices, updates=updates)


def _last(cumulative):
    """The last entry of a cumulative sum (the total), 0 when it is empty."""
    return tf.concat([tf.zeros([1], "float64"), cumulative], 0)[-1]


def groups_from_scores(scores, positive, weights, drop_zero_weight=True):
    """Cumulative weighted positives and negatives at each distinct score, highest score first.

    Args:
        scores: `(N,)` float64.
        positive: `(N,)` float64.
        weights: `(N,)` float64.
        drop_zero_weight: leave zero-weight samples out of the thresholds (as scikit-learn's
            curves). Areas do not depend on it: such a sample moves no count.

    Returns:
        `(thresholds, tps, fps)`, each `(G,)`: the weight of positives (negatives) whose score is
        `>= thresholds[g]`, as scikit-learn's `_binary_clf_curve`.
    """
    if drop_zero_weight:
        keep = weights > 0
        scores, positive, weights = (tf.boolean_mask(t, keep) for t in (scores, positive, weights))
    order = tf.argsort(scores, direction="DESCENDING")  # ties are merged below: no need for stable
    scores = tf.gather(scores, order)
    pos_w = weights * positive
    tps = tf.cumsum(tf.gather(pos_w, order))
    fps = tf.cumsum(tf.gather(weights - pos_w, order))
    last_of_ties = tf.concat(
        [scores[1:] != scores[:-1], tf.ones([tf.minimum(tf.size(scores), 1)], "bool")], 0
    )
    return tuple(tf.boolean_mask(t, last_of_ties) for t in (scores, tps, fps))


# Sort keys. A unit-weight binary sample is one int64, `2 * d + label`, where the int32 `d`
# decreases as the float32 score increases (`descending_key`): an ascending sort of the keys
# orders the samples by descending score, and tied scores share `key >> 1`. `d` of the ends of
# the valid scores: probabilities [0, 1]; logits [-inf, inf] (NaN lies outside both).
_KEY_RANGE = {"probability": (-1 - 0x3F800000, -1), "logit": (-1 - 0x7F800000, 0x7F800000 - 1)}


def descending_key(scores):
    """int32 `d` decreasing with the float32 `scores`: `-1 - bits(s)` for `s >= 0` and
    `bits(|s|) - 1` for `s < 0`, so 0.0 and -0.0 share `d = -1`."""
    bits = tf.bitcast(scores, tf.int32)
    magnitude = tf.bitwise.bitwise_and(bits, 0x7FFFFFFF)
    return tf.where(bits < 0, magnitude, -magnitude) - 1


def _np_pack(scores, positive):
    """NumPy `2 * descending_key(float32 scores) + positive` (see `descending_key`)."""
    bits = scores.astype(np.float32).view(np.int32)
    magnitude = bits & 0x7FFFFFFF
    d = np.where(bits < 0, magnitude, -magnitude).astype(np.int64) - 1
    return (d << 1) | positive.astype(np.int64)


def _np_unpack(keys):
    """Inverse of `_np_pack`: float64 `(scores, positive)`."""
    signed = (keys >> 1) + 1  # |bits| for negative scores, -|bits| for the others
    bits = np.where(signed > 0, signed | 0x80000000, -signed).astype(np.uint32)
    return bits.view(np.float32).astype(np.float64), (keys & 1).astype(np.float64)


def _np_group_starts(values):
    """Indices of the first entry of every run of equal values."""
    if not values.size:
        return np.zeros(0, np.int64)
    return np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))


def _np_exact_groups(keys, scores, positive, weights):
    """NumPy body of `exact_groups`."""
    if np.all(weights == 1) and np.array_equal(scores.astype(np.float32), scores):
        if scores.size:
            keys = np.concatenate([keys, _np_pack(scores, positive)])
        keys = np.sort(keys)[::-1]  # increasing score
        starts = _np_group_starts(keys >> 1)
        if not starts.size:
            return np.zeros(0), np.zeros(0)
        pos = np.add.reduceat(keys & 1, starts)
        return pos.astype(np.float64), (np.diff(starts, append=keys.size) - pos).astype(np.float64)
    if keys.size:  # a mix of unit-weight keys and weighted rows: unpack the keys
        key_scores, key_positive = _np_unpack(keys)
        scores = np.concatenate([key_scores, scores])
        positive = np.concatenate([key_positive, positive])
        weights = np.concatenate([np.ones(keys.size), weights])
    order = np.argsort(scores)
    scores, weights = scores[order], weights[order]
    pos_w = weights * positive[order]
    starts = _np_group_starts(scores)
    if not starts.size:
        return np.zeros(0), np.zeros(0)
    return np.add.reduceat(pos_w, starts), np.add.reduceat(weights - pos_w, starts)


def exact_groups(keys, scores, positive, weights):
    """Weighted positives and negatives `(pos, neg)` of every distinct score, lowest first.

    Args:
        keys: `(K,)` int64 packed unit-weight samples (see `descending_key`).
        scores: `(N,)` float64 samples, merged with the keys.
        positive: `(N,)` float64 samples, merged with the keys.
        weights: `(N,)` float64 samples, merged with the keys.

    Unit weights and float32 scores (every float32 input) take one sort of packed int64 keys:
    no argsort, no gathers; anything else a float64 argsort. The work is NumPy's, through
    `tf.numpy_function` (vectorized sorts, x86-simd-sort where the CPU has it: 2M keys sort in
    ~15 ms where `tf.sort`, a TopK, takes 250-400 ms on the same CPU), so it runs in the Python
    process, as every Keras metric `result()` does in `fit` and `evaluate`, and is not part of an
    exported SavedModel (metrics are not).
    """
    pos, neg = tf.numpy_function(
        _np_exact_groups, [keys, scores, positive, weights], [tf.float64, tf.float64], stateful=False
    )
    pos.set_shape([None])
    neg.set_shape([None])
    return pos, neg


def roc_auc_from_counts(tps, fps, max_fpr=None):
    """Area under the ROC curve (trapezoids, ties = diagonal) from cumulative counts.

    With `max_fpr`, the McClish-standardized partial AUC up to that false positive rate, as
    scikit-learn's `roc_auc_score(max_fpr=...)`. NaN when either class has no weight.
    """
    zero = tf.zeros([1], "float64")
    tps, fps = tf.concat([zero, tps], 0), tf.concat([zero, fps], 0)
    p, n = tps[-1], fps[-1]
    defined = tf.logical_and(p > 0, n > 0)
    p_safe, n_safe = tf.where(defined, p, 1.0), tf.where(defined, n, 1.0)
    tpr, fpr = tps / p_safe, fps / n_safe
    if max_fpr is None or max_fpr == 1.0:
        area = tf.reduce_sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1])) / 2
    else:
        stop = tf.searchsorted(fpr, tf.constant([max_fpr], "float64"), side="right")[0]
        stop = tf.clip_by_value(stop, 1, tf.size(fpr) - 1)
        x0, x1, y0, y1 = fpr[stop - 1], fpr[stop], tpr[stop - 1], tpr[stop]
        y_end = y0 + (y1 - y0) * (max_fpr - x0) / tf.where(x1 > x0, x1 - x0, 1.0)
        xs = tf.concat([fpr[:stop], [max_fpr]], 0)
        ys = tf.concat([tpr[:stop], [y_end]], 0)
        partial = tf.reduce_sum((xs[1:] - xs[:-1]) * (ys[1:] + ys[:-1])) / 2
        min_area, max_area = 0.5 * max_fpr**2, max_fpr
        area = 0.5 * (1 + (partial - min_area) / (max_area - min_area))
    return tf.where(defined, area, tf.constant(math.nan, "float64"))


def roc_auc_from_groups(pos, neg):
    """ROC AUC from the weighted positives and negatives of each group (bin) of equal rank, in
    increasing score order: the share of positive-negative pairs ranked right, ties counted 1/2,

        AUC = sum_b pos_b * (neg_(below b) + neg_b / 2) / (P * N),

    the area of `roc_auc_from_counts` (trapezoids are exactly these pair counts) in fewer ops:
    no cumulative positives, no shifted copies. NaN when either class has no weight.
    """
    p, n = tf.reduce_sum(pos), tf.reduce_sum(neg)
    below = tf.cumsum(neg, exclusive=True)
    pairs = tf.reduce_sum(pos * (below + 0.5 * neg))
    pn = p * n
    return tf.where(pn > 0, pairs / tf.where(pn > 0, pn, 1.0), tf.constant(math.nan, "float64"))


def average_precision_from_counts(tps, fps):
    """Average precision `sum_k (R_k - R_(k-1)) P_k` (step-wise, no interpolation) from
    cumulative counts, as scikit-learn's `average_precision_score`. NaN without positives."""
    pos = tps - tf.concat([tf.zeros([1], "float64"), tps[:-1]], 0)
    p = _last(tps)
    predicted = tps + fps
    precision = tps / tf.where(predicted > 0, predicted, 1.0)
    ap = tf.reduce_sum(pos * precision) / tf.where(p > 0, p, 1.0)
    return tf.where(p > 0, ap, tf.constant(math.nan, "float64"))


class RankingMetric(keras.metrics.Metric):
    """Base of the ranking metrics: keeps scores (exact) or score histograms (binned).

    Exact state is a float64 `tf.Variable` of shape `(capacity, columns)` (score, label and
    weight columns) and, for "binary", an int64 `(capacity,)` of packed keys (see
    `descending_key`) for unit-weight batches of float32 scores (the common case: one key per
    sample, sorted as is in `result()`). Both are written in place, a batch at a time, and their
    capacity doubles when full (amortized O(1) per score); under `tf.distribute` every replica
    appends the `all_gather` of the batch, so each replica holds the whole data and reading the
    first replica's copy is the answer. Binned state is one flat float64 histogram
    `(columns * groups * num_bins,)` updated by a scatter-add of the batch, and for "binary" an
    int64 one `(2 * num_bins,)` for unit-weight batches.

    Args:
        task: "binary", "multiclass" or "multilabel".
        num_classes: number of classes or labels; None for binary.
        num_labels: alias of `num_classes` for "multilabel".
        from_logits: whether `y_pred` holds logits rather than probabilities.
        ignore_index: a label value whose positions are left out.
        num_bins: None for exact, or the number of bins of the binned mode: a power of two in
            [256, 2**24] (`256 * 2**m`, `2**m` bins per octave; see the module docstring).
        multi_class: "ovr" (one-vs-rest) or "ovo" (one-vs-one, Hand & Till) for "multiclass".
        name: as for `keras.metrics.Metric`.
        dtype: as for `keras.metrics.Metric`.
    """

    def __init__(
        self,
        task="binary",
        num_classes=None,
        from_logits=False,
        ignore_index=None,
        num_bins=None,
        multi_class="ovr",
        num_labels=None,
        name=None,
        dtype=None,
    ):
        super().__init__(name=name, dtype=dtype)
        if num_classes is None and num_labels is not None:
            num_classes = num_labels
        self._num = _inputs.check_task(task, num_classes)
        _inputs.check_choice("multi_class", multi_class, ("ovr", "ovo"))
        if num_bins is not None and (
            not isinstance(num_bins, int)
            or isinstance(num_bins, bool)
            or not _MIN_BINS <= num_bins <= _MAX_BINS
            or num_bins & (num_bins - 1)
        ):
            raise ValueError(
                f"`num_bins` must be None (exact) or a power of two in [{_MIN_BINS}, 2**24]. "
                f"Received: num_bins={num_bins!r}"
            )
        if ignore_index is not None and not isinstance(ignore_index, int):
            raise ValueError(f"`ignore_index` must be an integer or None. Received: ignore_index={ignore_index!r}")
        self.task = task
        self.num_classes = None if task == "binary" else num_classes
        self.from_logits = bool(from_logits)
        self.ignore_index = ignore_index
        self.num_bins = num_bins
        self.multi_class = multi_class
        c = self._num
        if num_bins is None:
            self._width = {"binary": 3, "multiclass": c + 2, "multilabel": 3 * c}[task]
            sync = dict(
                trainable=False,
                synchronization=tf.VariableSynchronization.ON_READ,
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
            # Rows [0, used) of `stored` hold the data; its capacity doubles when full.
            self.stored = tf.Variable(
                tf.zeros((0, self._width), "float64"),
                shape=tf.TensorShape([None, self._width]),
                name="stored_scores",
                **sync,
            )
            self.stored_size = tf.Variable(tf.zeros([2], "int64"), name="used_and_capacity", **sync)
            if task == "binary":
                self.keys = tf.Variable(
                    tf.zeros((0,), "int64"), shape=tf.TensorShape([None]), name="stored_keys", **sync
                )
                self.keys_size = tf.Variable(tf.zeros([2], "int64"), name="keys_used_and_capacity", **sync)
        else:
            self._groups = c if (task == "multiclass" and multi_class == "ovo") else 2
            self._log2_bins = num_bins.bit_length() - 1
            self.histogram = self.add_variable(
                (c * self._groups * num_bins,), "zeros", dtype="float64", name="histogram"
            )
            if task == "binary":  # unit-weight batches: an int64 scatter costs less than float64
                self.counts = self.add_variable((2 * num_bins,), "zeros", dtype="int64", name="counts")

    # === Update ===

    @tf.autograph.experimental.do_not_convert  # static Python only, as Keras' own metrics
    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds one batch.

        Args:
            y_true: labels (sparse or one-hot for "multiclass", 0/1 otherwise).
            y_pred: scores, probabilities or logits as declared by `from_logits`.
            sample_weight: optional non-negative weights broadcastable from the label shape.
        """
        if self._plain_binary(y_true, y_pred, sample_weight):
            return self._update_plain_binary(y_true, y_pred)
        labels, scores, weights = _inputs.format_inputs(
            y_true, y_pred, sample_weight, self.task, self._num, self.ignore_index, self.from_logits
        )
        log_prob = self.task == "multiclass" and self.from_logits
        if log_prob:
            scores = tf.nn.log_softmax(tf.cast(scores, "float64"), axis=-1)
        if self.num_bins is None:
            self._append_rows(labels, tf.cast(scores, "float64"), weights)
        else:
            space = "log_probability" if log_prob else ("logit" if self.from_logits else "probability")
            self._add_to_histogram(labels, bin_index(scores, self.num_bins, space), weights)

    def _plain_binary(self, y_true, y_pred, sample_weight):
        """Whether a batch takes the lean binary path: no weights, mask or ignore_index; labels
        and scores of one rank and compatible shapes (after dropping a trailing axis of size 1;
        unknown sizes, as the batch axis in `fit`, are compared at run time); in exact mode,
        scores that are not float64 (they become keys of their float32 value)."""
        if self.task != "binary" or sample_weight is not None or self.ignore_index is not None:
            return False
        if getattr(y_pred, "_keras_mask", None) is not None:
            return False
        try:
            shapes = [tf.TensorShape(x.shape) for x in (y_true, y_pred)]
            dtypes = [tf.as_dtype(x.dtype) for x in (y_true, y_pred)]
        except (AttributeError, TypeError, ValueError):
            return False
        if shapes[0].rank is None or shapes[1].rank is None:
            return False
        shapes = [s[:-1] if s.rank > 1 and s[-1] == 1 else s for s in shapes]
        return (
            shapes[0].is_compatible_with(shapes[1])
            and all(d.is_integer or d.is_floating or d == tf.bool for d in dtypes)
            and (self.num_bins is not None or dtypes[1] != tf.float64)
        )

    def _update_plain_binary(self, y_true, y_pred):
        """`update_state` for plain binary batches (see `_plain_binary`), with lean checks:
        labels in {0, 1} and valid scores, read from the same bits as the bins (keys) are, one
        graph Assert each (an InvalidArgumentError naming the failed check; two Asserts with
        constant messages cost less than one over computed messages). Eagerly, a failed check
        runs `_inputs.format_inputs`, whose ValueError also names the values.
        """
        y_true, y_pred = tf.convert_to_tensor(y_true), tf.convert_to_tensor(y_pred)
        labels_in = tf.reshape(y_true, [-1])
        labels = tf.cast(labels_in, "int32")
        scores = tf.reshape(tf.cast(y_pred, "float32"), [-1])  # float64 only when binned
        space = "logit" if self.from_logits else "probability"
        label_ok = tf.equal(tf.bitwise.right_shift(labels, 1), 0)  # 0 or 1 (-1 >> 1 is -1)
        label_message = _inputs.label_range_message("binary", 1)
        if labels_in.dtype.is_floating:  # 0.5 would truncate to 0
            integral = tf.equal(tf.cast(labels, labels_in.dtype), labels_in)
            label_ok = tf.logical_and(label_ok, integral)
            label_message = _inputs.NOT_ZERO_ONE.format(task="binary") + " " + label_message
        if self.num_bins is None:
            d = descending_key(scores)
            low, high = _KEY_RANGE[space]
            score_ok = tf.logical_and(d >= low, d <= high)
        else:
            bins, score_ok = bin_index(scores, self.num_bins, space, with_validity=True)
        score_message = _inputs.NAN_SCORES if self.from_logits else _inputs.NOT_PROBABILITIES
        checks = [(tf.reduce_all(label_ok), label_message), (tf.reduce_all(score_ok), score_message)]
        if not (y_true.shape.is_fully_defined() and y_pred.shape.is_fully_defined()):
            shapes = [
                tf.shape(x)[:-1] if x.shape.rank > 1 and x.shape[-1] == 1 else tf.shape(x)
                for x in (y_true, y_pred)
            ]
            same_shape = tf.reduce_all(tf.equal(*shapes))  # the ranks agree (`_plain_binary`)
            checks.append((same_shape, _inputs.SHAPE_MISMATCH.format(task="binary")))
        if tf.executing_eagerly():
            if not all(bool(ok) for ok, _ in checks):  # the full check raises, naming values
                _inputs.format_inputs(y_true, y_pred, None, "binary", 1, None, self.from_logits)
            checked = []
        else:
            checked = [tf.debugging.Assert(ok, [message]) for ok, message in checks]
        with tf.control_dependencies(checked):
            if self.num_bins is None:
                keys = tf.bitwise.bitwise_or(
                    tf.bitwise.left_shift(tf.cast(d, "int64"), 1), tf.cast(labels, "int64")
                )
                self._append(self.keys, self.keys_size, keys)
            else:  # one scatter for both classes: negatives in [0, b), positives in [b, 2b)
                flat = tf.bitwise.bitwise_or(tf.bitwise.left_shift(labels, self._log2_bins), bins)
                scatter_add(self.counts, flat, tf.constant(1, "int64"), 2 * self.num_bins)

    def _append_rows(self, labels, scores, weights):
        """Appends `(score, label, weight)` columns to the float64 store."""
        labels = tf.cast(labels, "float64")
        if self.task == "multilabel":
            rows = tf.concat([scores, labels, weights], axis=1)
        else:
            if self.task == "binary":
                scores = scores[:, None]
            rows = tf.concat([scores, labels[:, None], weights[:, None]], axis=1)  # (b, width)
        self._append(self.stored, self.stored_size, rows)

    @staticmethod
    def _append(store, size, rows):
        """Writes `rows` after the `used` first rows of `store` (`size` holds used, capacity),
        doubling the capacity first when they do not fit.

        The write is a strided-slice assign: a copy of the batch only, with no read of the
        store (a scatter would also switch the variable to copy-on-read, after which every read
        copies the whole store).
        """
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            # Gathered in a merge call, as the optimizer all-reduces gradients: collectives
            # built per replica thread may start in another order on each replica than the
            # training step's and abort ("Collective instance ... expected type ...").
            rows = context.merge_call(lambda strategy, value: strategy.gather(value, axis=0), args=(rows,))
        used, capacity = tf.unstack(size.read_value())
        count = rows.shape[0] if rows.shape[0] is not None else tf.shape(rows, out_type="int64")[0]
        needed = used + count

        def grow():  # amortized O(1) per row: the capacity at least doubles
            new_capacity = tf.maximum(needed, 2 * capacity)
            kept = store.read_value()[:used]
            padding = tf.zeros([new_capacity - used] + store.shape[1:].as_list(), store.dtype)
            store.assign(tf.concat([kept, padding], 0))
            return new_capacity

        capacity = tf.cond(needed > capacity, grow, lambda: capacity)
        if isinstance(store, tf.distribute.DistributedValues):  # no slice assign per replica
            positions = tf.range(used, needed)[:, None]
            store.assign(tf.tensor_scatter_nd_update(store.read_value(), positions, rows))
        else:
            tf.raw_ops.ResourceStridedSliceAssign(
                ref=store.handle, begin=[used], end=[needed], strides=[1], value=rows
            )
        size.assign(tf.stack([needed, capacity]))

    def _add_to_histogram(self, labels, bins, weights):
        c, b = self._num, self.num_bins
        if self.task == "binary":
            column, group, w = tf.zeros_like(bins), labels, weights
        elif self.task == "multilabel":
            column = tf.broadcast_to(tf.range(c), tf.shape(bins))
            group, w = labels, weights
        else:
            column = tf.broadcast_to(tf.range(c), tf.shape(bins))
            if self.multi_class == "ovo":
                group = tf.broadcast_to(labels[:, None], tf.shape(bins))
            else:
                group = tf.cast(tf.equal(labels[:, None], column), "int32")
            w = tf.broadcast_to(weights[:, None], tf.shape(bins))
        flat = (column * self._groups + group) * b + bins  # one index for both classes
        size = c * self._groups * b
        scatter_add(self.histogram, tf.reshape(flat, [-1]), tf.reshape(w, [-1]), size)

    # === State readers ===

    def _columns(self):
        """Per ranked column: `(scores, positive, weights)` of the exact state, packed keys
        included (unpacked, with weight 1)."""
        rows = self._stored_rows()
        if self.task == "binary":
            scores, positive = tf.numpy_function(
                _np_unpack, [self._stored_keys()], [tf.float64, tf.float64], stateful=False
            )
            unpacked = tf.stack([scores, positive, tf.ones_like(scores)], axis=1)
            rows = tf.concat([tf.reshape(unpacked, [-1, 3]), rows], 0)
        return self._split_columns(rows)

    def _split_columns(self, data):
        """Per ranked column: `(scores, positive, weights)` of stored rows."""
        c = self._num
        if self.task == "binary":
            return [(data[:, 0], data[:, 1], data[:, 2])]
        if self.task == "multilabel":
            return [(data[:, i], data[:, c + i], data[:, 2 * c + i]) for i in range(c)]
        labels, weights = data[:, c], data[:, c + 1]
        return [(data[:, i], tf.cast(tf.equal(labels, i), "float64"), weights) for i in range(c)]

    def _stored_rows(self):
        return self.stored.read_value()[: self.stored_size.read_value()[0]]

    def _stored_keys(self):
        """The packed keys of the unit-weight binary batches; empty for other tasks."""
        if self.task != "binary":
            return tf.zeros([0], "int64")
        return self.keys.read_value()[: self.keys_size.read_value()[0]]

    def _histogram(self):
        """The weighted histogram as `(columns, groups, num_bins)`, unit-weight counts added."""
        h = ops.convert_to_tensor(self.histogram)
        if self.task == "binary":
            h = h + tf.cast(ops.convert_to_tensor(self.counts), "float64")
        return tf.reshape(h, (self._num, self._groups, self.num_bins))

    def _column_groups(self, i):
        """`(pos, neg)` per bin of column i, lowest bin first (binned, one-vs-rest)."""
        h = self._histogram()[i]
        if self._groups == 2:
            neg, pos = tf.unstack(h)
        else:
            pos = h[i]
            neg = tf.reduce_sum(h, axis=0) - pos
        return pos, neg

    def reset_state(self):
        if self.num_bins is None:
            self.stored.assign(tf.zeros((0, self._width), "float64"))
            self.stored_size.assign(tf.zeros([2], "int64"))
            if self.task == "binary":
                self.keys.assign(tf.zeros((0,), "int64"))
                self.keys_size.assign(tf.zeros([2], "int64"))
        else:
            super().reset_state()  # zeros every variable of `add_variable`

    def get_config(self):
        config = {
            "task": self.task,
            "num_classes": self.num_classes,
            "from_logits": self.from_logits,
            "ignore_index": self.ignore_index,
            "num_bins": self.num_bins,
            "multi_class": self.multi_class,
        }
        return {**super().get_config(), **config}


def _warn_undefined(values, what, stacklevel=4):
    """Warns when `values` hold NaN; `stacklevel` 4 names the caller of `AUC.result` (this,
    `result`, its `do_not_convert` wrapper, the caller)."""
    if tf.executing_eagerly() and bool(tf.reduce_any(tf.math.is_nan(values))):
        warnings.warn(
            f"{what} is undefined (NaN) for a class whose labels are all positive or all "
            "negative; such classes are left out of averages.",
            RuntimeWarning,
            stacklevel=stacklevel,
        )


@keras.saving.register_keras_serializable(package="kzoo")
class AUC(RankingMetric):
    """Area under the ROC curve or average precision (PR), exact or binned, streaming.

    Equal to scikit-learn's `roc_auc_score` / `average_precision_score` (exact mode to 1e-6,
    ties included; binned mode within the bound in the module docstring).

    Args:
        curve: "ROC" or "PR" (average precision, step-wise, no interpolation).
        task: "binary", "multiclass" or "multilabel".
        num_classes: classes or labels; None for binary.
        average: "macro", "weighted" (by positive weight, or pair prevalence for "ovo"),
            "micro" (all columns pooled; not with "ovo") or "none" (per class).
        multi_class: "ovr" or "ovo" (Hand & Till 2001) for "multiclass"; "ovo" is ROC only.
        max_fpr: binary ROC only: McClish-standardized partial AUC up to this FPR, in (0, 1].
        num_bins: None (exact, stores scores) or a power of two in [256, 2**24] (constant
            memory, error within `binned_error_bound()`). Default None. Exact mode sorts all
            stored scores in `result()`, and Keras calls `result()` after every training step
            in `fit` (for the progress bar and logs): for monitoring during training, prefer
            `num_bins=2**16` (a `result()` costs the same at any data size) and keep exact mode
            for `evaluate` or a final report.
        from_logits: see `RankingMetric`.
        ignore_index: see `RankingMetric`.
        name: see `RankingMetric`.
        dtype: see `RankingMetric`.

    Returns:
        A float64 scalar (or `(num_classes,)` with `average="none"`); NaN with a warning when
        the labels hold a single class.

    Examples:
        >>> m = AUC(from_logits=True)
        >>> m.update_state([0, 0, 1, 1], [-30.0, 20.0, 18.0, 40.0])
        >>> float(m.result())
        0.75
    """

    def __init__(
        self, curve="ROC", task="binary", num_classes=None, average="macro", max_fpr=None, **kwargs
    ):
        super().__init__(task=task, num_classes=num_classes, **kwargs)
        self.curve = _inputs.check_choice("curve", curve, ("ROC", "PR"))
        self.average = _inputs.check_choice("average", average, _inputs.AVERAGES)
        if self.multi_class == "ovo" and (curve != "ROC" or average not in ("macro", "weighted")):
            raise ValueError(
                "multi_class='ovo' supports curve='ROC' with average 'macro' or 'weighted'. "
                f"Received: curve={curve!r}, average={average!r}"
            )
        if max_fpr is not None:
            if task != "binary" or curve != "ROC" or not (
                isinstance(max_fpr, (int, float)) and 0 < max_fpr <= 1
            ):
                raise ValueError(
                    "`max_fpr` (partial AUC) applies to binary ROC and must lie in (0, 1]. "
                    f"Received: max_fpr={max_fpr!r}, task={task!r}, curve={curve!r}"
                )
            max_fpr = float(max_fpr)
        self.max_fpr = max_fpr

    def _area(self, tps, fps):
        if self.curve == "PR":
            return average_precision_from_counts(tps, fps)
        return roc_auc_from_counts(tps, fps, self.max_fpr)

    def _ovo(self):
        c = self._num
        pairs, prevalence = [], []
        if self.num_bins is None:
            data = self._stored_rows()
            labels, weights = data[:, c], data[:, c + 1]
            total = tf.reduce_sum(weights)
        else:
            h = self._histogram()  # (column, true label, bin)
            total = tf.reduce_sum(h[0])
        for a in range(c):
            for b in range(a + 1, c):
                both = []
                for x, y in ((a, b), (b, a)):
                    if self.num_bins is None:
                        in_pair = tf.cast(tf.logical_or(tf.equal(labels, x), tf.equal(labels, y)), "float64")
                        positive = tf.cast(tf.equal(labels, x), "float64")
                        groups = exact_groups(self._stored_keys(), data[:, x], positive, weights * in_pair)
                    else:
                        groups = h[x, x], h[x, y]
                    both.append(roc_auc_from_groups(*groups))
                pair_weight = tf.reduce_sum(weights * in_pair) if self.num_bins is None else (
                    tf.reduce_sum(h[a, a]) + tf.reduce_sum(h[a, b])
                )
                pairs.append((both[0] + both[1]) / 2)
                prevalence.append(pair_weight / tf.where(total > 0, total, 1.0))
        values = tf.stack(pairs)
        _warn_undefined(values, "One-vs-one AUC", stacklevel=5)  # from `_ovo`
        return nan_average(values, tf.stack(prevalence) if self.average == "weighted" else None)

    @tf.autograph.experimental.do_not_convert  # static Python only, as Keras' own metrics
    def result(self):
        """The AUC; see the class docstring."""
        if self.task == "multiclass" and self.multi_class == "ovo":
            return self._ovo()
        # Per column, (pos, neg) weights of each distinct score (exact) or bin, lowest first.
        if self.num_bins is None:
            columns = self._split_columns(self._stored_rows())
            if self.average == "micro" and self.task != "binary":
                columns = [tuple(tf.concat(parts, 0) for parts in zip(*columns))]
            keys = self._stored_keys()  # binary: the unit-weight batches, merged in the sort
            groups = [exact_groups(keys, *column) for column in columns]
        else:
            groups = [self._column_groups(i) for i in range(self._num)]
            if self.average == "micro" and self.task != "binary":
                groups = [tuple(tf.add_n(list(parts)) for parts in zip(*groups))]
        if self.curve == "ROC" and self.max_fpr is None:
            values = [roc_auc_from_groups(pos, neg) for pos, neg in groups]
        else:  # from cumulative counts, highest score first
            values = [self._area(*(tf.cumsum(t[::-1]) for t in group)) for group in groups]
        values = values[0] if len(values) == 1 else tf.stack(values)  # binary or micro: a scalar
        _warn_undefined(values, "ROC AUC" if self.curve == "ROC" else "Average precision")
        if self.task == "binary" or self.average == "micro":
            return values
        if self.average == "none":
            return values
        support = [tf.reduce_sum(pos) for pos, _ in groups] if self.average == "weighted" else None
        return nan_average(values, None if support is None else tf.stack(support))

    def binned_error_bound(self):
        """Upper bound of |binned - exact| ROC AUC per column: 0.5 * sum_b pos_b neg_b / (P N).

        Returns:
            float64 `(columns,)`; zeros in exact mode.
        """
        if self.num_bins is None:
            return tf.zeros((self._num,), "float64")
        bounds = []
        for i in range(self._num):
            pos, neg = self._column_groups(i)
            pn = tf.reduce_sum(pos) * tf.reduce_sum(neg)
            bounds.append(0.5 * tf.reduce_sum(pos * neg) / tf.where(pn > 0, pn, 1.0))
        return tf.stack(bounds)

    def get_config(self):
        config = {"curve": self.curve, "average": self.average, "max_fpr": self.max_fpr}
        return {**super().get_config(), **config}
