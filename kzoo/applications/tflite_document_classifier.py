"""TFLiteDocumentClassifier: runs a DocumentClassifier exported to TFLite."""

import os

import numpy as np
import tensorflow as tf

from kzoo.export import litert
from kzoo.text.documents import DocumentTokenizer, check_documents

__all__ = ["TFLiteDocumentClassifier"]


@litert.register_runner("document_classifier")
class TFLiteDocumentClassifier:
    """Runs a `.tflite` exported by `DocumentClassifier.export(path, format="litert")`.

    Tokenization runs beside the interpreter with the vocabulary of the sidecar `PATH.json`
    (padded to `(max_sentences, max_words)`); the interpreter runs once per document.
    """

    def __init__(self, path, metadata):
        self.path = os.fspath(path)
        self.metadata = metadata
        self.num_classes = metadata["num_classes"]
        self.class_names = metadata.get("class_names")
        self.document_tokenizer = DocumentTokenizer.from_config(metadata["tokenizer"])
        self.interpreter = litert.interpreter(self.path)

    def predict(self, texts):
        """Class probabilities `(len(texts), num_classes)` for a string or a list of strings."""
        documents, _ = check_documents(texts, "texts")
        output = np.zeros((len(documents), self.num_classes), "float32")
        if not documents:
            return output
        ids = self.document_tokenizer(tf.constant(documents), pad_to_max=True).numpy()
        for i, row in enumerate(ids):
            output[i] = litert.run(self.interpreter, row[None].astype(np.int32))[0][0]
        return output
