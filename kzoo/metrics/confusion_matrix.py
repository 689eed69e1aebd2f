"""Streaming confusion matrix, exact in float64."""

import keras
import tensorflow as tf
from keras import ops

from kzoo.metrics import _inputs
from kzoo.metrics.classification import decide

__all__ = ["ConfusionMatrix"]


@keras.saving.register_keras_serializable(package="kzoo")
class ConfusionMatrix(keras.metrics.Metric):
    """Confusion matrix (rows: true class, columns: predicted), as scikit-learn's.

    binary: `(2, 2)`; multiclass: `(num_classes, num_classes)` (argmax, first index on ties);
    multilabel: `(num_labels, 2, 2)` as `multilabel_confusion_matrix`.

    `task`, `num_classes`, `num_labels`, `threshold`, `from_logits` and `ignore_index` are as for
    `kzoo.metrics.Precision`.

    Args:
        normalize: None (weighted counts), "true" (rows sum to 1), "pred" (columns sum to 1) or
            "all" (the matrix sums to 1); empty rows/columns give 0, as scikit-learn.
        class_names: optional names used by `plot`.

    Returns:
        A float64 matrix.

    Examples:
        >>> m = ConfusionMatrix(task="multiclass", num_classes=3)
        >>> m.update_state([0, 1, 2, 2], [[.8, .1, .1], [.2, .7, .1], [.6, .2, .2], [.1, .1, .8]])
        >>> m.result().numpy().tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]
    """

    def __init__(
        self,
        task="binary",
        num_classes=None,
        normalize=None,
        threshold=0.5,
        from_logits=False,
        ignore_index=None,
        class_names=None,
        num_labels=None,
        name=None,
        dtype=None,
    ):
        super().__init__(name=name, dtype=dtype)
        if num_classes is None and num_labels is not None:
            num_classes = num_labels
        _inputs.check_choice("normalize", normalize, (None, "true", "pred", "all"))
        self._num = _inputs.check_task(task, num_classes)
        if not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
            raise ValueError(f"`threshold` is a probability in [0, 1]. Received: threshold={threshold!r}")
        self.task = task
        self.num_classes = None if task == "binary" else num_classes
        self.normalize = normalize
        self.threshold = float(threshold)
        self.from_logits = bool(from_logits)
        self.ignore_index = ignore_index
        self.class_names = list(class_names) if class_names is not None else None
        c = self._num
        shape = {"binary": (2, 2), "multiclass": (c, c), "multilabel": (c, 2, 2)}[task]
        self.matrix = self.add_variable(shape, "zeros", dtype="float64", name="matrix")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds one batch; arguments as for `kzoo.metrics.Precision.update_state`."""
        c = self._num
        labels, scores, weights = _inputs.format_inputs(
            y_true, y_pred, sample_weight, self.task, c, self.ignore_index, self.from_logits
        )
        if self.task == "multiclass":
            predicted = _inputs._first_argmax(scores)
            cells = labels * c + predicted
            counts = tf.math.unsorted_segment_sum(weights, cells, c * c)
        else:
            predicted = tf.cast(decide(scores, self.threshold, self.from_logits), "int32")
            cells = labels * 2 + predicted  # (N,) or (N, L)
            if self.task == "multilabel":
                cells = cells + 4 * tf.range(c)[None, :]
            counts = tf.math.unsorted_segment_sum(
                tf.reshape(weights, [-1]), tf.reshape(cells, [-1]), 4 * c
            )
        self.matrix.assign_add(tf.reshape(counts, self.matrix.shape))

    def result(self):
        """The (normalized) matrix."""
        m = ops.convert_to_tensor(self.matrix)
        if self.normalize is None:
            return m
        axis = {"true": -1, "pred": -2, "all": (-2, -1)}[self.normalize]
        total = ops.sum(m, axis=axis, keepdims=True)
        return ops.where(total > 0, m / ops.where(total > 0, total, 1.0), 0.0)

    def reset_state(self):
        self.matrix.assign(ops.zeros(self.matrix.shape, "float64"))

    def plot(self, ax=None):
        """Draws the matrix with class names on the axes; returns the matplotlib Figure."""
        from kzoo.plot.curves import plot_confusion_matrix

        return plot_confusion_matrix(
            ops.convert_to_numpy(self.result()), class_names=self.class_names, ax=ax
        )

    def get_config(self):
        config = {
            "task": self.task,
            "num_classes": self.num_classes,
            "normalize": self.normalize,
            "threshold": self.threshold,
            "from_logits": self.from_logits,
            "ignore_index": self.ignore_index,
            "class_names": self.class_names,
        }
        return {**super().get_config(), **config}
