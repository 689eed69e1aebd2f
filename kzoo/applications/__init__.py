"""Ready applications: each is trainable with `fit`, decodes, and exports."""

from kzoo.applications.captioner import Captioner
from kzoo.applications.classification_report import ClassificationReport
from kzoo.applications.document_architectures import ARCHITECTURES
from kzoo.applications.document_classifier import DocumentClassifier
from kzoo.applications.speech_to_text import SpeechToText
from kzoo.applications.task import SequenceGenerator, TFLiteSequenceGenerator
from kzoo.applications.tflite_document_classifier import TFLiteDocumentClassifier
from kzoo.applications.tflite_speech_to_text import TFLiteSpeechToText
from kzoo.applications.translator import Translator

__all__ = ["Captioner", "ClassificationReport", "ARCHITECTURES", "DocumentClassifier", "TFLiteDocumentClassifier", "SequenceGenerator", "SpeechToText", "TFLiteSequenceGenerator", "TFLiteSpeechToText", "Translator"]
