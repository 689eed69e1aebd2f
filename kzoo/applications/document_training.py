"""Training a DocumentClassifier: the vocabulary and starting embeddings (`adapt`), the
compile defaults, and `fit` / `evaluate` on raw documents and labels.

`DocumentTraining` is a base of `kzoo.applications.DocumentClassifier`; `check_labels` checks
the labels every entry point takes.
"""

import keras
import numpy as np
import tensorflow as tf

from kzoo import metrics as metrics_lib
from kzoo.applications.compile_defaults import check_ema_momentum, default_adam, ema_callbacks
from kzoo.applications.embeddings import (
    check_embedding_trainable,
    embedding_callbacks,
    initialize_embeddings,
    load_pretrained,
    pretrained_matrix,
)
from kzoo.data.pipeline import no_epoch_end_warning, unpack_text_dataset
from kzoo.text import word_vectors
from kzoo.text.documents import check_documents, make_documents_dataset
from kzoo.training import adversarial
from kzoo.training.backup import resume_data_order
from kzoo.training.distribute import shard_by_data

__all__ = ["DocumentTraining", "check_labels"]


def check_labels(labels, num_classes, name="y"):
    """Integer labels as an int32 array; a `ValueError` naming the first label outside `[0, num_classes)`.

    Examples:
        >>> check_labels([0, 1, 1.0], num_classes=2)
        array([0, 1, 1], dtype=int32)
    """
    array = np.asarray(labels)
    if array.ndim != 1 or not (array.dtype.kind in "iu" or (array.dtype.kind == "f" and np.all(array == np.round(array)))):
        raise ValueError(
            f"`{name}` must be a 1-D sequence of integer class labels in [0, {num_classes}). "
            f"Received: {name} with dtype={array.dtype} and shape={array.shape}"
        )
    bad = np.flatnonzero((array < 0) | (array >= num_classes))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"`{name}` must hold class labels in [0, {num_classes}) (num_classes={num_classes}). "
            f"Received: label {array[i].item()!r} at index {i}"
        )
    return array.astype("int32")


class DocumentTraining:
    """`adapt`, `compile`, `fit` and `evaluate` of `kzoo.applications.DocumentClassifier` (its base)."""

    def adapt(self, documents, labels=None, min_count=2, embeddings=None, embedding_trainable=True):
        """Builds the word vocabulary (tensorflow-text) from training documents, then the layers.

        Args:
            documents: a list of strings or a `tf.data.Dataset` of strings (or of
                `(string, label)` pairs, which also gives `labels`).
            labels: integer labels of `documents`; needed with `label_features=True` (the
                naive-Bayes ratios are counted from them: pass the training split only, never
                the documents you validate on).
            min_count: words seen fewer times become `[UNK]`; 2 drops the hapaxes that a small
                corpus cannot learn anything about.
            embeddings: the word embedding's starting values: None (random); "skipgram"
                (word2vec skip-gram vectors trained on `documents`, `kzoo.text.skipgram_vectors`);
                pretrained vectors: a name such as "glove-6b-50d", a GloVe / word2vec text file,
                a `kzoo.text.WordVectors` or a `(words, matrix)` pair (`kzoo.text.load_word_vectors`;
                their dimension must equal `embedding_dim`; the coverage is printed); or an array
                `(vocabulary_size, embedding_dim)` in the order of the vocabulary.
            embedding_trainable: True (fine-tune the embedding), False (keep it frozen) or an
                int N (frozen for the first N epochs of `fit`, then fine-tuned).
        """
        if hasattr(self, "classifier"):
            raise ValueError("`adapt()` can only be called once, before training.")
        embedding_trainable = check_embedding_trainable(embedding_trainable)
        if not (isinstance(embeddings, str) and embeddings == "skipgram"):
            embeddings = load_pretrained(embeddings, self.embedding_dim)
        if isinstance(documents, tf.data.Dataset):
            documents, found = unpack_text_dataset(documents)
            labels = found if labels is None else labels
        documents, _ = check_documents(documents, "documents")
        if labels is not None:
            labels = check_labels(labels, self.num_classes, "labels")
            if len(labels) != len(documents):
                raise ValueError(
                    "`labels` must have one label per document. "
                    f"Received: {len(labels)} labels for {len(documents)} documents"
                )
        if self.label_features and labels is None:
            raise ValueError("`label_features=True` needs the training labels: call `adapt(documents, labels)`.")
        self.document_tokenizer.adapt(documents, self.max_vocabulary_size, min_count)
        size = self.document_tokenizer.vocabulary_size
        if isinstance(embeddings, np.ndarray):
            embeddings = pretrained_matrix(embeddings, self.document_tokenizer.vocabulary)  # rows checked before building
        self._make_layers()
        self.build()
        self.embedding_schedule = None
        if embeddings is None and not self.label_features:
            return
        ids = self.document_tokenizer.ids_of(documents)  # (N, S, W)
        if isinstance(embeddings, str) and embeddings == "skipgram":
            embeddings = word_vectors.skipgram_vectors(ids, size, self.embedding_dim, seed=self.seed or 0)
        elif embeddings is not None and not isinstance(embeddings, np.ndarray):
            counts = np.bincount(ids.ravel(), minlength=size)
            embeddings = pretrained_matrix(embeddings, self.document_tokenizer.vocabulary, seed=self.seed or 0, counts=counts)
        self.embedding_schedule = initialize_embeddings([(self.embedding, embeddings)], embedding_trainable)
        if self.label_features:
            ratios = word_vectors.log_count_ratios(ids, labels, size, self.num_classes)
            self.label_embedding.embeddings.assign(ratios)

    def compile(
        self, optimizer="adam", loss=None, metrics=None, learning_rate=2e-3, jit_compile=False, ema_momentum=None, **kwargs
    ):
        """Defaults: Adam (`learning_rate`, gradient norm clipped at 5), sparse categorical
        cross-entropy, and kzoo's accuracy and macro precision, recall, F1 and (exact) ROC-AUC.

        Args:
            ema_momentum: None (default), or a momentum in (0, 1): the default Adam keeps a
                moving average of the weights that `fit` validates with and leaves in the model
                (`kzoo.applications.compile_defaults.default_adam`). On the movie reviews 0.98
                lifted one HAN from 0.833 to 0.857 mean accuracy over nine folds
                (docs/benchmarks/document_classifier.md).
        """
        check_ema_momentum(ema_momentum, optimizer)
        defaults = optimizer == "adam" and loss is None and metrics is None and not kwargs
        self._default_compile = (
            {"learning_rate": learning_rate, "jit_compile": jit_compile, "ema_momentum": ema_momentum} if defaults else None
        )
        if optimizer == "adam":
            optimizer = default_adam(learning_rate, ema_momentum)
        if metrics is None:
            task = {"task": "multiclass", "num_classes": self.num_classes}
            metrics = [
                metrics_lib.Accuracy(average="micro", name="accuracy", **task),
                metrics_lib.Precision(average="macro", name="precision", **task),
                metrics_lib.Recall(average="macro", name="recall", **task),
                metrics_lib.F1Score(average="macro", name="f1", **task),
                metrics_lib.AUC(average="macro", name="auc", **task),
            ]
        super().compile(
            optimizer=optimizer,
            loss=loss or keras.losses.SparseCategoricalCrossentropy(),
            metrics=metrics,
            jit_compile=jit_compile,  # per-batch shapes vary: XLA would recompile every batch
            **kwargs,
        )

    def train_step(self, data):
        """Keras' step, or with `adversarial_epsilon > 0` adversarial training (Miyato et al.
        2017): the loss's gradient with respect to the word vectors gives each document's move
        (`kzoo.training.adversarial.perturbation`), and the step descends the clean loss plus
        the loss of the moved documents. The compiled metrics see the clean predictions."""
        if not self.adversarial_epsilon:
            return super().train_step(data)
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        ids = tf.cast(x, tf.int32)  # (B, S, W)
        with tf.GradientTape() as tape:
            with tf.GradientTape() as inner:
                words, mask, order = self._word_vectors(ids)
                inner.watch(words)  # also when the embedding is frozen
                y_pred = self._classify_words(words, mask, order, tf.shape(ids), training=True)
                loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
            with tape.stop_recording():
                move = adversarial.perturbation(
                    inner.gradient(loss, words), self.adversarial_epsilon, keras.ops.std(self.embedding.embeddings), mask
                )
            moved = self._classify_words(words + move, mask, order, tf.shape(ids), training=True)
            loss = loss + self._compute_loss(x=x, y=y, y_pred=moved, sample_weight=sample_weight, training=True)
        return self.finish_train_step(tape, loss, x, y, y_pred, sample_weight)

    def prepare(self, documents, labels):
        """Maps a batch of `(strings, labels)` to `(ids (B, S, W), labels)`; labels are checked."""
        labels = tf.cast(labels, tf.int32)
        in_range = tf.reduce_all((labels >= 0) & (labels < self.num_classes))
        with tf.control_dependencies([
            tf.debugging.Assert(
                in_range,
                [f"Labels must be class labels in [0, {self.num_classes}) (num_classes={self.num_classes}). "
                 "Received a label outside it; the batch's labels are:", labels],
                summarize=64,
            )
        ]):
            return self.document_tokenizer(documents), tf.identity(labels)

    def _as_ids(self, data, batch_size=None, shuffle=True):
        """Datasets and `(documents, labels)` lists -> a dataset of `(ids, labels)` batches."""
        if isinstance(data, tuple) and len(data) == 2 and not isinstance(data[0], tf.data.Dataset):
            documents, _ = check_documents(data[0], "x")
            labels = check_labels(data[1], self.num_classes)
            data = make_documents_dataset(documents, labels, batch_size or 32, shuffle=shuffle, seed=self.seed)
        if not isinstance(data, tf.data.Dataset):
            raise TypeError(
                "Expected a `tf.data.Dataset` of `(text, label)` or lists `x` (texts) and `y` "
                f"(labels). Received: {type(data).__name__}"
            )
        spec = data.element_spec
        if isinstance(spec, tuple) and len(spec) == 2 and spec[0].dtype == tf.int32 and spec[0].shape.rank == 3:
            return data  # already `(ids, labels)` (Keras's validation pass calls `evaluate` with them)
        if not (isinstance(spec, tuple) and len(spec) == 2 and spec[0].dtype == tf.string):
            raise TypeError(
                "The dataset must yield `(text, label)` pairs with string texts. "
                f"Received: element_spec={spec}"
            )
        if spec[0].shape.rank == 0:
            data = data.batch(batch_size or 32)
        return shard_by_data(data.map(self.prepare, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))

    def fit(self, x=None, y=None, batch_size=None, validation_data=None, **kwargs):
        """`keras.Model.fit` on documents.

        `x` is a `tf.data.Dataset` of `(text, label)` pairs (batched, or unbatched and then
        batched with `batch_size`, default 32), or a list of texts with `y` the integer labels
        (shuffled each epoch and grouped by length). `validation_data` takes the same forms
        (a `(texts, labels)` tuple for lists).
        """
        self._require_layers()
        shuffle = kwargs.pop("shuffle", True)  # done by the input pipeline, never by Keras
        train = self._as_ids(x if y is None else (x, y), batch_size, shuffle=shuffle)
        if validation_data is not None:
            validation_data = self._as_ids(validation_data, batch_size, shuffle=False)
        kwargs["callbacks"] = ema_callbacks(self, embedding_callbacks(self, kwargs.get("callbacks")))
        resume_data_order(kwargs["callbacks"], train)
        with no_epoch_end_warning(kwargs.get("steps_per_epoch")):
            return super().fit(train, validation_data=validation_data, shuffle=False, **kwargs)

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        """`keras.Model.evaluate` on the same inputs as `fit`."""
        self._require_layers()
        return super().evaluate(self._as_ids(x if y is None else (x, y), batch_size, shuffle=False), **kwargs)
