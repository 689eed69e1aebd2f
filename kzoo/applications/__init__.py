"""Ready applications: each is trainable with `fit`, decodes, and exports."""

from kzoo.applications.translator import TFLiteTranslator, Translator

__all__ = ["Translator", "TFLiteTranslator"]
