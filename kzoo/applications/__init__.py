"""Ready applications: each is trainable with `fit`, decodes, and exports."""

from kzoo.applications.classification_report import ClassificationReport
from kzoo.applications.document_classifier import ARCHITECTURES, DocumentClassifier, TFLiteDocumentClassifier
from kzoo.applications.translator import TFLiteTranslator, Translator

__all__ = ["ClassificationReport", "ARCHITECTURES", "DocumentClassifier", "TFLiteDocumentClassifier", "Translator", "TFLiteTranslator"]
