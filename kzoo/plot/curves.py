"""ROC / precision-recall curves and confusion matrices as matplotlib Figures."""

import numpy as np

__all__ = ["plot_roc_curve", "plot_precision_recall_curve", "plot_confusion_matrix"]


def _axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 5))
        return fig, ax
    return ax.figure, ax


def plot_roc_curve(curves, ax=None):
    """Plots ROC curves with their AUC in the legend.

    Args:
        curves: a list of `(fpr, tpr, auc, name)`.
        ax: matplotlib Axes to draw on; a new Figure when None.

    Returns:
        The matplotlib Figure.

    Examples:
        >>> fig = plot_roc_curve([(np.array([0, 1]), np.array([0, 1]), 0.5, "chance")])
    """
    fig, ax = _axes(ax)
    for fpr, tpr, area, name in curves:
        ax.plot(fpr, tpr, label=f"{name} (AUC = {area:.3f})")
    ax.plot([0, 1], [0, 1], linestyle=":", color="gray")
    ax.set(xlabel="False positive rate", ylabel="True positive rate", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="lower right")
    return fig


def plot_precision_recall_curve(curves, ax=None):
    """Plots precision-recall curves (step-wise) with average precision in the legend.

    Args:
        curves: a list of `(precision, recall, average_precision, name)`.
        ax: matplotlib Axes to draw on; a new Figure when None.

    Returns:
        The matplotlib Figure.

    Examples:
        >>> fig = plot_precision_recall_curve([(np.array([1, 1]), np.array([1, 0]), 1.0, "ideal")])
    """
    fig, ax = _axes(ax)
    for precision, recall, area, name in curves:
        ax.step(recall, precision, where="post", label=f"{name} (AP = {area:.3f})")
    ax.set(xlabel="Recall", ylabel="Precision", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="lower left")
    return fig


def plot_confusion_matrix(matrix, class_names=None, ax=None):
    """Plots a confusion matrix (rows true, columns predicted) with the values in the cells.

    Args:
        matrix: `(C, C)` array, or `(L, 2, 2)` for multilabel (drawn as `(L, 4)`: tn fp fn tp).
        class_names: names for the axes; indices when None.
        ax: matplotlib Axes to draw on; a new Figure when None.

    Returns:
        The matplotlib Figure.

    Examples:
        >>> fig = plot_confusion_matrix(np.eye(2), class_names=["cat", "dog"])
    """
    matrix = np.asarray(matrix, dtype="float64")
    fig, ax = _axes(ax)
    if matrix.ndim == 3:
        names = class_names or [str(i) for i in range(len(matrix))]
        matrix = matrix.reshape(len(matrix), 4)
        columns, rows, xlabel, ylabel = ["tn", "fp", "fn", "tp"], names, "", "Label"
    else:
        names = class_names or [str(i) for i in range(len(matrix))]
        columns, rows, xlabel, ylabel = names, names, "Predicted", "True"
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(columns)), labels=columns)
    ax.set_yticks(range(len(rows)), labels=rows)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    high = matrix.max() if matrix.size else 0
    for (i, j), v in np.ndenumerate(matrix):
        text = f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}"
        ax.text(j, i, text, ha="center", va="center", color="white" if v > high / 2 else "black")
    return fig
