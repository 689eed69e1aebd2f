"""Plots that a person would rather look at than read; every function returns a matplotlib Figure."""

from kzoo.plot.attention import attention_map
from kzoo.plot.captions import caption_attention
from kzoo.plot.document import document_attention, document_attention_html
from kzoo.plot.curves import plot_confusion_matrix, plot_precision_recall_curve, plot_roc_curve
from kzoo.plot.speech import ctc_posteriogram, speech_alignment

__all__ = [
    "attention_map",
    "caption_attention",
    "ctc_posteriogram",
    "document_attention",
    "document_attention_html",
    "plot_confusion_matrix",
    "plot_precision_recall_curve",
    "plot_roc_curve",
    "speech_alignment",
]
