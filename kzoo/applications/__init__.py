"""Ready applications: each is trainable with `fit`, decodes, and exports."""

from kzoo.applications.captioner import Captioner
from kzoo.applications.classification_report import ClassificationReport
from kzoo.applications.document_classifier import ARCHITECTURES, DocumentClassifier, TFLiteDocumentClassifier
from kzoo.applications.speech_to_text import SpeechToText, TFLiteSpeechToText
from kzoo.applications.task import SequenceGenerator, TFLiteSequenceGenerator
from kzoo.applications.translator import Translator

__all__ = ["Captioner", "ClassificationReport", "ARCHITECTURES", "DocumentClassifier", "TFLiteDocumentClassifier", "SequenceGenerator", "SpeechToText", "TFLiteSequenceGenerator", "TFLiteSpeechToText", "Translator"]
