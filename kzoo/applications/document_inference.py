"""Using a trained DocumentClassifier: class probabilities, labels, explanations (which
sentences and words carried the decision), evaluation reports and export.

`DocumentInference` is a base of `kzoo.applications.DocumentClassifier`; the exported `.tflite`
runs with `kzoo.applications.TFLiteDocumentClassifier`.
"""

import numpy as np
import tensorflow as tf

from kzoo.applications.document_training import check_labels
from kzoo.applications.task import own_identity
from kzoo.export import litert
from kzoo.export.savedmodel import check_format, save_signatures
from kzoo.text.documents import check_documents

__all__ = ["DocumentInference"]


class DocumentInference:
    """`predict`, `predict_labels`, `explain`, `report` and `export` of
    `kzoo.applications.DocumentClassifier` (its base)."""

    def _function(self, kind):
        if kind not in getattr(self, "_functions", {}):  # compiled on first use

            def probabilities(documents):
                return self(self.document_tokenizer(documents), training=False)

            def attention(documents):
                return self(self.document_tokenizer(documents), training=False, return_attention_scores=True)

            self._functions = {  # own_identity: several classifiers in a process do not warn of retracing
                "probabilities": tf.function(
                    own_identity(probabilities), input_signature=[tf.TensorSpec([None], tf.string)], reduce_retracing=True
                ),
                "attention": tf.function(own_identity(attention), input_signature=[tf.TensorSpec([1], tf.string)]),
            }
        return self._functions[kind]

    def predict(self, x, batch_size=32, verbose=0, **kwargs):
        """Class probabilities `(len(documents), num_classes)` for a string or list of strings.

        Documents are run in batches of similar length (the order of the output is the order
        of the input). A `tf.data.Dataset` of strings (batched) is also accepted. Documents
        longer than `max_sentences` sentences or sentences longer than `max_words` words are
        truncated (see `kzoo.text.DocumentTokenizer`); an empty document is classified from
        nothing (the model's prior); bytes that are not valid UTF-8 become U+FFFD.
        """
        self._require_layers()
        if isinstance(x, tf.data.Dataset):
            ids = x.map(self.document_tokenizer)
            return super().predict(ids, verbose=verbose, **kwargs)
        documents, _ = check_documents(x, "documents")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive int. Received: batch_size={batch_size!r}")
        output = np.zeros((len(documents), self.num_classes), "float32")
        order = np.argsort([len(d) for d in documents], kind="stable")
        function = self._function("probabilities")
        for start in range(0, len(documents), batch_size):
            rows = order[start : start + batch_size]
            output[rows] = function(tf.constant([documents[i] for i in rows])).numpy()
        return output

    def predict_labels(self, documents, batch_size=32):
        """The most probable class of each document, an int array (or names with `class_names`)."""
        labels = np.argmax(self.predict(documents, batch_size), axis=-1)
        if self.class_names is None:
            return labels
        return [self.class_names[i] for i in labels]

    def explain(self, document):
        """Which sentences and words carried the decision for one document.

        Args:
            document: a string (or bytes).

        Returns:
            A dict with `label` (int), `class_name`, `probabilities` (list), `truncated`
            (whether sentences or words beyond the limits were dropped) and `sentences`: one dict
            per kept sentence with `text`, `weight` (sentence attention weight; the sum of its
            word weights for the flat attention architectures), `words` (the normalised words
            the model saw) and `word_weights` (for HAN, the word attention within the sentence,
            summing to 1; for flat architectures, the share of the document's attention).
        """
        self._require_layers()
        if self.pooling != "attention":
            raise ValueError(
                "`explain` needs an attention architecture ('han', 'bigru_attention', "
                f"'cnn_attention'). Received: architecture={self.architecture!r}"
            )
        documents, single = check_documents(document, "document")
        if not single:
            raise TypeError(
                "`document` must be one string (call `explain` once per document). "
                f"Received: a {type(document).__name__} of {len(documents)} documents"
            )
        texts = tf.constant(documents)
        probabilities, word_weights, sentence_weights = self._function("attention")(texts)
        tokenizer = self.document_tokenizer
        sentences = tokenizer.sentences(texts)[0].numpy()
        words = tokenizer.words_of(texts)[0].to_list()
        probabilities = probabilities.numpy()[0]
        word_weights, sentence_weights = word_weights.numpy()[0], sentence_weights.numpy()[0]
        untruncated = tokenizer.sentences(texts, truncate=False)
        all_words = tokenizer.words.split(untruncated.flat_values).row_lengths().numpy()
        total = int(untruncated.row_lengths()[0])
        label = int(np.argmax(probabilities))
        return {
            "label": label,
            "class_name": self.class_names[label] if self.class_names else str(label),
            "probabilities": probabilities.tolist(),
            "truncated": bool(total > len(sentences) or np.any(all_words > self.max_words)),
            "sentences": [
                {
                    "text": sentence.decode("utf-8"),
                    "weight": float(sentence_weights[i]),
                    "words": [w.decode("utf-8") for w in words[i]],
                    "word_weights": word_weights[i, : len(words[i])].tolist(),
                }
                for i, sentence in enumerate(sentences)
            ],
        }

    def report(self, documents, labels, batch_size=32):
        """The evaluation report (`kzoo.applications.ClassificationReport`) on labelled documents."""
        from kzoo.applications.classification_report import ClassificationReport

        labels = check_labels(labels, self.num_classes, "labels")
        return ClassificationReport(labels, self.predict(documents, batch_size), self.class_names)

    # === Export ===
    def export(self, path, format="tf_saved_model", quantize=False):
        """Exports the classifier.

        Args:
            path: a folder for a SavedModel, or a `.tflite` file for `format="litert"`.
            format: "tf_saved_model": signature `serving_default` takes `texts`, a string tensor
                `(batch,)`, and returns `probabilities` `(batch, num_classes)` and `labels`
                `(batch,)`; it loads with only tensorflow and tensorflow_text imported.
                "litert": a TFLite model of builtin ops from ids `(1, max_sentences, max_words)`
                to probabilities, with a `PATH.json` sidecar; run it with
                `kzoo.export.load_tflite(path).predict(texts)` (tokenization runs beside it).
            quantize: TFLite only: True / "int8" (dynamic-range int8 weights) or "float16"
                (float16 weights); see `kzoo.export.convert`.

        Returns:
            `path`.
        """
        self._require_layers()
        if check_format(format) == "tf_saved_model":

            @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
            def serve(texts):
                probabilities = self(self.document_tokenizer(texts), training=False)
                return {"probabilities": probabilities, "labels": tf.argmax(probabilities, axis=-1)}

            return save_signatures(self, path, {"serving_default": serve.get_concrete_function()})

        @tf.function
        def classify(ids):
            return self(ids, training=False)

        spec = tf.TensorSpec([1, self.max_sentences, self.max_words], tf.int32)
        litert.convert(classify, [spec], path, quantize=quantize)
        litert.write_metadata(
            path,
            "document_classifier",
            tokenizer=self.document_tokenizer.get_config(),
            num_classes=self.num_classes,
            class_names=self.class_names,
        )
        return path
