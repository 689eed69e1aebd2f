"""Ready applications: each is trainable with `fit`, decodes, and exports."""

from kzoo.applications.document_classifier import DocumentClassifier, TFLiteDocumentClassifier
from kzoo.applications.translator import TFLiteTranslator, Translator

__all__ = ["DocumentClassifier", "TFLiteDocumentClassifier", "Translator", "TFLiteTranslator"]
