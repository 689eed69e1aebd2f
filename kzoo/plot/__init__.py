"""Plots that a person would rather look at than read; every function returns a matplotlib Figure."""

from kzoo.plot.attention import attention_map  # noqa: E402
from kzoo.plot.captions import caption_attention  # noqa: E402
from kzoo.plot.document import document_attention, document_attention_html  # noqa: E402
from kzoo.plot.curves import plot_confusion_matrix, plot_precision_recall_curve, plot_roc_curve  # noqa: E402
from kzoo.plot.speech import ctc_posteriogram, speech_alignment  # noqa: E402
