"""Streaming metrics that are exact and complete: classification, ranking, curves and sequences."""

from kzoo.metrics.auc import AUC
from kzoo.metrics.cider import CIDEr
from kzoo.metrics.classification import Accuracy
from kzoo.metrics.classification import F1Score
from kzoo.metrics.classification import FBetaScore
from kzoo.metrics.classification import Precision
from kzoo.metrics.classification import Recall
from kzoo.metrics.classification import Specificity
from kzoo.metrics.confusion_matrix import ConfusionMatrix
from kzoo.metrics.curves import PrecisionRecallCurve
from kzoo.metrics.curves import ROCCurve
from kzoo.metrics.sequence import BLEU
from kzoo.metrics.sequence import CharErrorRate
from kzoo.metrics.sequence import WordErrorRate

__all__ = ["AUC", "BLEU", "CIDEr", "CharErrorRate", "WordErrorRate", "Accuracy", "ConfusionMatrix", "PrecisionRecallCurve", "ROCCurve", "F1Score", "FBetaScore", "Precision", "Recall", "Specificity"]
