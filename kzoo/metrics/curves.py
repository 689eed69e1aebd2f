"""ROC and precision-recall curves from exactly stored scores, equal to scikit-learn's."""

import keras
import numpy as np
import tensorflow as tf

from kzoo.metrics.auc import RankingMetric
from kzoo.metrics.auc import average_precision_from_counts
from kzoo.metrics.auc import groups_from_scores
from kzoo.metrics.auc import roc_auc_from_counts

__all__ = ["ROCCurve", "PrecisionRecallCurve"]


class _Curve(RankingMetric):
    """Exact curves: `result()` returns one `(x, y, thresholds)` triple (binary) or a list of them,
    one per class (multiclass, one-vs-rest) or label (multilabel), in class order. Thresholds are
    in the ranking space: the scores as given (logits with `from_logits=True`; log-probabilities
    for multiclass logits). `plot()` draws one line per class, labelled in the legend with its
    name (`class_names`, else "class i") and its area.

    Args:
        task: see `RankingMetric`.
        num_classes: see `RankingMetric`.
        num_labels: see `RankingMetric`.
        from_logits: see `RankingMetric`.
        ignore_index: see `RankingMetric`.
        class_names: optional names of the classes (labels) for the plot legend; one per class.
    """

    def __init__(self, task="binary", num_classes=None, class_names=None, **kwargs):
        kwargs.pop("num_bins", None)
        super().__init__(task=task, num_classes=num_classes, num_bins=None, **kwargs)
        self.class_names = list(class_names) if class_names is not None else None
        if self.class_names is not None and len(self.class_names) != self._num:
            raise ValueError(
                f"`class_names` needs one name per class ({self._num}). "
                f"Received: class_names={self.class_names!r}"
            )

    def _curve(self, thresholds, tps, fps):
        """The curve from cumulative counts at each distinct score, highest first."""
        raise NotImplementedError

    def _area(self, tps, fps):
        raise NotImplementedError

    def _per_column(self):
        out = []
        for scores, positive, weights in self._columns():
            thresholds, tps, fps = groups_from_scores(scores, positive, weights)
            out.append((self._curve(thresholds, tps, fps), self._area(tps, fps)))
        return out

    def result(self):
        """`(x, y, thresholds)` float64 tensors, or a list of them per class."""
        curves = [c for c, _ in self._per_column()]
        return curves[0] if self.task == "binary" else curves

    def plot(self, ax=None):
        """Draws the curve(s), one per class, each labelled with its class name and area.

        Args:
            ax: matplotlib Axes to draw on; a new Figure when None.

        Returns:
            The matplotlib Figure.
        """
        from kzoo.plot import curves as plots

        per_column = self._per_column()
        names = self.class_names or (
            ["positive"] if self.task == "binary" else [f"class {i}" for i in range(len(per_column))]
        )
        data = [
            (np.asarray(x), np.asarray(y), float(a), name)
            for ((x, y, _), a), name in zip(per_column, names)
        ]
        return self._plot_function(plots)(data, ax=ax)

    def get_config(self):
        config = super().get_config()
        config.pop("num_bins")
        config.pop("multi_class")
        return {**config, "class_names": self.class_names}


@keras.saving.register_keras_serializable(package="kzoo")
class ROCCurve(_Curve):
    """ROC curve `(fpr, tpr, thresholds)` equal to `sklearn.metrics.roc_curve`.

    Args:
        drop_intermediate: drop collinear points, as scikit-learn's default. Default True.

    The other arguments are those of `_Curve`.

    Returns:
        `(fpr, tpr, thresholds)`, thresholds decreasing and starting at +inf.

    Examples:
        >>> m = ROCCurve()
        >>> m.update_state([0, 1, 1], [0.1, 0.4, 0.8])
        >>> [t.numpy().tolist() for t in m.result()][:2]
        [[0.0, 0.0, 0.0, 1.0], [0.0, 0.5, 1.0, 1.0]]
    """

    def __init__(self, drop_intermediate=True, **kwargs):
        super().__init__(**kwargs)
        self.drop_intermediate = bool(drop_intermediate)

    def _curve(self, thresholds, tps, fps):
        if self.drop_intermediate:
            n = tf.size(tps)
            second = lambda v: v[2:] - 2 * v[1:-1] + v[:-2]  # noqa: E731
            bend = tf.logical_or(second(fps) != 0, second(tps) != 0)
            keep = tf.concat([[True], bend, [True]], 0)
            keep = tf.cond(n > 2, lambda: keep, lambda: tf.ones([n], "bool"))
            tps, fps, thresholds = (tf.boolean_mask(t, keep) for t in (tps, fps, thresholds))
        zero = tf.zeros([1], "float64")
        tps, fps = tf.concat([zero, tps], 0), tf.concat([zero, fps], 0)
        thresholds = tf.concat([tf.constant([np.inf], "float64"), thresholds], 0)
        p, n = tps[-1], fps[-1]
        fpr = tf.where(n > 0, fps / tf.where(n > 0, n, 1.0), np.nan)
        tpr = tf.where(p > 0, tps / tf.where(p > 0, p, 1.0), np.nan)
        return fpr, tpr, thresholds

    def _area(self, tps, fps):
        return roc_auc_from_counts(tps, fps)

    def _plot_function(self, plots):
        return plots.plot_roc_curve

    def get_config(self):
        return {**super().get_config(), "drop_intermediate": self.drop_intermediate}


@keras.saving.register_keras_serializable(package="kzoo")
class PrecisionRecallCurve(_Curve):
    """Precision-recall curve `(precision, recall, thresholds)` equal to
    `sklearn.metrics.precision_recall_curve`: thresholds increasing, ending at (1, 0).

    Takes the arguments of `_Curve`.

    Returns:
        `(precision, recall, thresholds)` float64 tensors.

    Examples:
        >>> m = PrecisionRecallCurve()
        >>> m.update_state([0, 1, 1], [0.1, 0.4, 0.8])
        >>> [t.numpy().tolist() for t in m.result()][:2]
        [[0.6666666666666666, 1.0, 1.0, 1.0], [1.0, 1.0, 0.5, 0.0]]
    """

    def _curve(self, thresholds, tps, fps):
        predicted = tps + fps
        precision = tps / tf.where(predicted > 0, predicted, 1.0)
        p = tps[-1]
        recall = tf.where(p > 0, tps / tf.where(p > 0, p, 1.0), tf.ones_like(tps))
        one, zero = tf.ones([1], "float64"), tf.zeros([1], "float64")
        return tf.concat([precision[::-1], one], 0), tf.concat([recall[::-1], zero], 0), thresholds[::-1]

    def _area(self, tps, fps):
        return average_precision_from_counts(tps, fps)

    def _plot_function(self, plots):
        return plots.plot_precision_recall_curve
