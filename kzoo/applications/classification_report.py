"""The evaluation report of a classifier: a metrics table and ROC, PR and confusion-matrix figures.

Every number comes from `kzoo.metrics` (exact streaming metrics, equal to scikit-learn's):
accuracy, precision / recall / F1 per class and macro-averaged, ROC-AUC and PR-AUC (average
precision). For two classes, ROC-AUC, PR-AUC and the curves are those of class 1 scored by its
probability (scikit-learn's binary convention); for more classes they are one-vs-rest,
macro-averaged.
"""

import numpy as np

from kzoo import metrics as metrics_lib

__all__ = ["ClassificationReport"]


class ClassificationReport:
    """Metrics and figures of class probabilities against true labels.

    Args:
        labels: integer labels `(n,)` in `[0, num_classes)`.
        probabilities: `(n, num_classes)` class probabilities (e.g. `DocumentClassifier.predict`).
        class_names: optional names, one per class.

    Attributes:
        metrics: dict of the headline numbers: `accuracy`, `precision_macro`, `recall_macro`,
            `f1_macro`, `roc_auc`, `pr_auc`, `support`.
        per_class: list of dicts `{name, precision, recall, f1, support}`, one per class.

    Examples:
        >>> report = ClassificationReport([0, 1, 1], [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
        >>> round(report.metrics["accuracy"], 4), report.metrics["roc_auc"]
        (0.6667, 1.0)
    """

    def __init__(self, labels, probabilities, class_names=None):
        probabilities = np.asarray(probabilities, "float64")
        labels = np.asarray(labels)
        if probabilities.ndim != 2 or probabilities.shape[1] < 2:
            raise ValueError(
                "`probabilities` must have shape (n, num_classes) with num_classes >= 2. "
                f"Received: probabilities.shape={probabilities.shape}"
            )
        if labels.shape != (len(probabilities),):
            raise ValueError(
                f"`labels` must have shape ({len(probabilities)},), one per row of `probabilities`. "
                f"Received: labels.shape={labels.shape}"
            )
        num_classes = probabilities.shape[1]
        bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
        if bad.size:
            raise ValueError(
                f"`labels` must be class labels in [0, {num_classes}). Received: label "
                f"{labels[bad[0]].item()!r} at index {int(bad[0])}"
            )
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(
                f"`class_names` must have {num_classes} names. Received: class_names={class_names!r}"
            )
        self.labels = labels.astype("int32")
        self.probabilities = probabilities
        self.num_classes = num_classes
        self.class_names = list(class_names) if class_names else [str(i) for i in range(num_classes)]
        self._compute()

    # === Metrics ===
    def _multiclass(self, cls, **kwargs):
        metric = cls(task="multiclass", num_classes=self.num_classes, **kwargs)
        metric.update_state(self.labels, self.probabilities)
        return metric

    def _ranking(self, cls, **kwargs):
        """A ranking metric over class 1 (binary) or all classes one-vs-rest."""
        if self.num_classes == 2:
            metric = cls(task="binary", **kwargs)
            metric.update_state(self.labels, self.probabilities[:, 1])
            return metric
        return self._multiclass(cls, **kwargs)

    def _compute(self):
        per_class = {
            name: np.asarray(self._multiclass(cls, average="none").result())
            for name, cls in (("precision", metrics_lib.Precision), ("recall", metrics_lib.Recall), ("f1", metrics_lib.F1Score))
        }
        support = np.bincount(self.labels, minlength=self.num_classes)
        self.per_class = [
            {"name": self.class_names[i], **{k: float(v[i]) for k, v in per_class.items()}, "support": int(support[i])}
            for i in range(self.num_classes)
        ]
        self.metrics = {
            "accuracy": float(self._multiclass(metrics_lib.Accuracy, average="micro").result()),
            "precision_macro": float(self._multiclass(metrics_lib.Precision, average="macro").result()),
            "recall_macro": float(self._multiclass(metrics_lib.Recall, average="macro").result()),
            "f1_macro": float(self._multiclass(metrics_lib.F1Score, average="macro").result()),
            "roc_auc": float(self._ranking(metrics_lib.AUC, curve="ROC").result()),
            "pr_auc": float(self._ranking(metrics_lib.AUC, curve="PR").result()),
            "support": int(len(self.labels)),
        }

    # === Table ===
    def to_markdown(self):
        """The metrics table as Markdown: one row per class, a macro row, then the summary."""
        lines = ["| class | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
        for row in self.per_class:
            lines.append(
                f"| {row['name']} | {row['precision']:.4f} | {row['recall']:.4f} | {row['f1']:.4f} | {row['support']} |"
            )
        m = self.metrics
        lines.append(
            f"| macro | {m['precision_macro']:.4f} | {m['recall_macro']:.4f} | {m['f1_macro']:.4f} | {m['support']} |"
        )
        lines.append("")
        lines.append(f"accuracy {m['accuracy']:.4f} · ROC-AUC {m['roc_auc']:.4f} · PR-AUC {m['pr_auc']:.4f}")
        return "\n".join(lines)

    def __str__(self):
        return self.to_markdown()

    def _repr_markdown_(self):  # shown as a table in notebooks
        return self.to_markdown()

    # === Figures ===
    def plot_roc_curve(self, ax=None):
        """The ROC curve(s) from `kzoo.metrics.ROCCurve`; returns the matplotlib Figure."""
        names = [self.class_names[1]] if self.num_classes == 2 else self.class_names
        return self._ranking(metrics_lib.ROCCurve, class_names=names).plot(ax=ax)

    def plot_precision_recall_curve(self, ax=None):
        """The precision-recall curve(s) from `kzoo.metrics.PrecisionRecallCurve`; a Figure."""
        names = [self.class_names[1]] if self.num_classes == 2 else self.class_names
        return self._ranking(metrics_lib.PrecisionRecallCurve, class_names=names).plot(ax=ax)

    def plot_confusion_matrix(self, normalize=None, ax=None):
        """The confusion matrix from `kzoo.metrics.ConfusionMatrix` (rows true); a Figure."""
        return self._multiclass(metrics_lib.ConfusionMatrix, normalize=normalize, class_names=self.class_names).plot(ax=ax)

    def figures(self):
        """`{"roc": Figure, "precision_recall": Figure, "confusion_matrix": Figure}`."""
        return {
            "roc": self.plot_roc_curve(),
            "precision_recall": self.plot_precision_recall_curve(),
            "confusion_matrix": self.plot_confusion_matrix(),
        }
