"""DocumentClassifier: a Hierarchical Attention Network and its host-model comparisons.

Raw strings go in, class probabilities come out: tensorflow-text preprocessing
(`kzoo.text.DocumentTokenizer`: sentences, words, ids `(B, S, W)`) -> word embedding -> encoder
-> pooling -> softmax. The encoder and pooling are chosen by `architecture`:

| architecture        | encoder                                   | pooling                          |
|---------------------|-------------------------------------------|----------------------------------|
| "han"               | word BiGRU, word attention, sentence BiGRU, sentence attention (`kzoo.layers.HierarchicalAttention`) | (inside) |
| "bigru_last"        | BiGRU over the document's words           | last state (both directions)     |
| "bigru_mean"        | BiGRU                                     | mean of all states               |
| "bigru_attention"   | BiGRU                                     | attention pooling                |
| "cnn_max"           | convolutions of widths 3, 4, 5 (Kim 2014) | max over time                    |
| "cnn_attention"     | the same convolutions                     | attention pooling                |

The flat architectures read the words of all sentences as one sequence (padding removed), so
the only differences between them are the encoder and the pooling: one code path.

Small corpora (a few thousand documents, no pretrained vectors offline) get three helps, all
options of the same code path: the embedding can start from skip-gram vectors trained on the
training documents (`adapt(..., embeddings="skipgram")`, `kzoo.text.skipgram_vectors`); each word
vector can carry its naive-Bayes log-count ratios (`label_features=True`,
`kzoo.text.log_count_ratios`); whole words can be dropped in training (`word_dropout`). Long
documents can keep their last sentences rather than their first (`truncate="tail"`).

References:
    Yang, Yang, Dyer, He, Smola, Hovy (2016), "Hierarchical Attention Networks for Document
    Classification", NAACL.
    Raffel & Ellis (2015), "Feed-Forward Networks with Attention Can Solve Some Long-Term Memory
    Problems" (attention pooling).
    Kim (2014), "Convolutional Neural Networks for Sentence Classification", EMNLP.
    Mikolov, Sutskever, Chen, Corrado, Dean (2013), "Distributed Representations of Words and
    Phrases and their Compositionality", NeurIPS (skip-gram).
    Wang & Manning (2012), "Baselines and Bigrams: Simple, Good Sentiment and Topic
    Classification", ACL (naive-Bayes log-count ratios).
    Iyyer, Manjunatha, Boyd-Graber, Daumé III (2015), "Deep Unordered Composition Rivals
    Syntactic Methods for Text Classification", ACL (word dropout).
    Pang & Lee (2004), "A Sentimental Education: Sentiment Analysis Using Subjectivity
    Summarization Based on Minimum Cuts", ACL (the movie-review corpus).
"""

import os

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kzoo import metrics as metrics_lib
from kzoo.applications.compile_defaults import CompileDefaultsMixin
from kzoo.applications.embeddings import (
    check_embedding_trainable,
    embedding_callbacks,
    initialize_embeddings,
    load_pretrained,
    pretrained_matrix,
)
from kzoo.applications.task import own_identity
from kzoo.data.pipeline import no_epoch_end_warning
from kzoo.export import litert
from kzoo.export.savedmodel import check_format, save_signatures
from kzoo.layers import scores as scores_lib
from kzoo.layers.attention_pooling import AttentionPooling
from kzoo.layers.hierarchical_attention import HierarchicalAttention
from kzoo.text import word_vectors
from kzoo.text.documents import DocumentTokenizer, check_documents, make_documents_dataset
from kzoo.training.backup import resume_data_order
from kzoo.training.distribute import DistributedTrainStep, shard_by_data

__all__ = ["DocumentClassifier", "TFLiteDocumentClassifier", "ARCHITECTURES"]

# architecture -> (encoder, pooling)
ARCHITECTURES = {
    "han": ("hierarchical", "attention"),
    "bigru_last": ("bigru", "last"),
    "bigru_mean": ("bigru", "mean"),
    "bigru_attention": ("bigru", "attention"),
    "cnn_max": ("cnn", "max"),
    "cnn_attention": ("cnn", "attention"),
}


def check_labels(labels, num_classes, name="y"):
    """Integer labels as an int32 array; a `ValueError` naming the first label outside `[0, num_classes)`."""
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


def _unpack_dataset(dataset):
    """A dataset of strings or of `(string, label)` pairs (batched or not) -> (texts, labels or None)."""
    texts, labels = [], []
    for element in dataset.as_numpy_iterator():
        text, label = element if isinstance(element, tuple) else (element, None)
        texts.extend(np.atleast_1d(text).tolist())
        if label is not None:
            labels.extend(np.atleast_1d(label).tolist())
    return texts, (labels if labels else None)


def _compact(ids):
    """Moves the real words of `(B, S, W)` ids to the front of one sequence `(B, T)`.

    Returns `(ids (B, T), order (B, S·W))` where `T` is the longest document in the batch (>= 1)
    and `order` is the permutation applied (to put word weights back in place).
    """
    batch = ops.shape(ids)[0]
    flat = ops.reshape(ids, (batch, -1))  # (B, S·W)
    size = ops.shape(flat)[1]
    position = ops.arange(size, dtype="int32")[None, :]
    key = ops.where(ops.not_equal(flat, 0), position, position + size)  # real words first, in order
    order = ops.cast(ops.argsort(key, axis=-1), "int32")
    compact = ops.take_along_axis(flat, order, axis=1)
    length = ops.maximum(ops.max(ops.sum(ops.cast(ops.not_equal(flat, 0), "int32"), axis=1)), 1)
    return compact[:, :length], order


def _pool(states, mask, mode, units):
    """Pools encoder states `(B, T, H)` with a boolean mask `(B, T)` -> `(B, H)`."""
    maskf = ops.cast(mask, states.dtype)[..., None]  # (B, T, 1)
    count = ops.sum(maskf, axis=1)  # (B, 1)
    if mode == "mean":
        return ops.sum(states * maskf, axis=1) / ops.maximum(count, 1.0)
    if mode == "max":
        lowest = ops.where(mask[..., None], states, ops.full_like(states, -1e9))
        return ops.where(count > 0, ops.max(lowest, axis=1), ops.zeros_like(states[:, 0]))
    # "last": the forward GRU's state at the last real word and the backward GRU's at the first
    # (Bidirectional re-aligns the backward outputs to time order).
    last = ops.maximum(ops.cast(count[:, 0], "int32") - 1, 0)  # (B,)
    forward = ops.take_along_axis(states[:, :, :units], last[:, None, None], axis=1)[:, 0]
    return ops.concatenate([forward, states[:, 0, units:]], axis=-1)


@keras.saving.register_keras_serializable(package="kzoo")
class DocumentClassifier(CompileDefaultsMixin, DistributedTrainStep, keras.Model):
    """Classifies documents (strings) and explains the decision with attention weights.

    Args:
        num_classes: number of classes (>= 2); labels are integers in `[0, num_classes)`.
        architecture: "han" (Yang et al. 2016), "bigru_last", "bigru_mean",
            "bigru_attention", "cnn_max" or "cnn_attention" (see the module docstring).
        vocabulary: word list (see `kzoo.text.DocumentTokenizer`), or None to build it with
            `adapt()`.
        lowercase: whether text is case-folded.
        max_vocabulary_size: largest vocabulary `adapt()` builds.
        max_sentences: sentences kept per document (see `truncate`); the others are dropped.
        max_words: words kept per sentence: the first ones; later words are dropped.
        truncate: which sentences a document longer than `max_sentences` keeps: "head" (the
            first ones) or "tail" (the last ones: reviews tend to end with their verdict).
        embedding_dim: size of the learned word embeddings (random, or pretrained by
            `adapt(..., embeddings="skipgram")`).
        units: GRU units per direction (HAN and BiGRU architectures); 50 as Yang et al.
        filters: filters per convolution width (CNN architectures).
        kernel_sizes: convolution widths (CNN architectures); (3, 4, 5) as Kim (2014).
        score: score of every attention ("concat": `vᵀ tanh(W h + b)`, as Yang et al.).
        dropout: dropout on the word embeddings, the encoders' outputs and the document vector.
        word_dropout: in training, the probability that each word occurrence is dropped whole
            (its vector zeroed, the kept ones scaled by `1 / (1 - word_dropout)`; Iyyer et al.
            2015), so that no single word decides.
        label_features: if True, each word vector is extended with its naive-Bayes log-count
            ratios (Wang & Manning 2012; 1 number for two classes, else one per class),
            computed by `adapt(documents, labels)` from the training labels and kept fixed.
        class_names: optional names of the classes (reports, `explain`, the command line).
        seed: dropout seed.

    Call arguments:
        inputs: int32 word ids `(batch_size, S, W)` from `self.document_tokenizer`.
        return_attention_scores: if True, also return word weights `(batch_size, S, W)` and
            sentence weights `(batch_size, S)` (attention architectures only).

    Returns:
        Class probabilities `(batch_size, num_classes)`.

    Examples:
        >>> model = DocumentClassifier(num_classes=2, embedding_dim=8, units=4)
        >>> model.adapt(["a good film .", "a bad film ."])
        >>> model.compile()
        >>> model.predict(["a good film ."]).shape
        (1, 2)
    """

    def __init__(
        self,
        num_classes=2,
        architecture="han",
        vocabulary=None,
        lowercase=True,
        max_vocabulary_size=30000,
        max_sentences=30,
        max_words=40,
        truncate="head",
        embedding_dim=100,
        units=50,
        filters=100,
        kernel_sizes=(3, 4, 5),
        score="concat",
        dropout=0.3,
        word_dropout=0.0,
        label_features=False,
        class_names=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"`num_classes` must be an int >= 2. Received: num_classes={num_classes!r}")
        if architecture not in ARCHITECTURES:
            raise ValueError(
                f"`architecture` must be one of {sorted(ARCHITECTURES)}. Received: architecture={architecture!r}"
            )
        for name, value in (("embedding_dim", embedding_dim), ("units", units), ("filters", filters)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
        for name, value in (("dropout", dropout), ("word_dropout", word_dropout)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                raise ValueError(f"`{name}` must be a float in [0, 1). Received: {name}={value!r}")
        if not isinstance(label_features, bool):
            raise ValueError(f"`label_features` must be True or False. Received: label_features={label_features!r}")
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(
                f"`class_names` must have num_classes={num_classes} names. Received: class_names={class_names!r}"
            )
        self.num_classes = num_classes
        self.architecture = architecture
        self.lowercase = lowercase
        self.max_vocabulary_size = max_vocabulary_size
        self.max_sentences = max_sentences
        self.max_words = max_words
        self.embedding_dim = embedding_dim
        self.units = units
        self.filters = filters
        self.kernel_sizes = tuple(int(k) for k in kernel_sizes)
        self.score = score
        self.dropout = float(dropout)
        self.word_dropout = float(word_dropout)
        self.label_features = label_features
        self.class_names = list(class_names) if class_names is not None else None
        self.seed = seed
        self.encoder_kind, self.pooling = ARCHITECTURES[architecture]
        self.document_tokenizer = DocumentTokenizer(
            vocabulary, lowercase, max_sentences, max_words, truncate, name="document_tokenizer"
        )
        self.truncate = self.document_tokenizer.truncate
        self._functions = {}
        if vocabulary is not None:
            self._make_layers()

    # === Layers ===
    def _make_layers(self):
        self.embedding = keras.layers.Embedding(
            self.document_tokenizer.vocabulary_size, self.embedding_dim, name="embedding"
        )
        if self.label_features:  # fixed naive-Bayes ratios, set by `adapt(documents, labels)`
            width = 1 if self.num_classes == 2 else self.num_classes
            self.label_embedding = keras.layers.Embedding(
                self.document_tokenizer.vocabulary_size, width, embeddings_initializer="zeros",
                trainable=False, name="label_features",
            )
        self.embedding_dropout = keras.layers.Dropout(self.dropout, seed=self.seed)
        rank = 4 if self.encoder_kind == "hierarchical" else 3  # (B, S, W, E) or (B, T, E)
        self.word_dropout_layer = keras.layers.Dropout(  # one draw per word: the whole vector goes
            self.word_dropout, noise_shape=(None,) * (rank - 1) + (1,), seed=self.seed
        )
        if self.encoder_kind == "hierarchical":
            self.encoder = HierarchicalAttention(
                self.units, "gru", True, scores_lib.get(self.score), self.dropout, seed=self.seed, name="encoder"
            )
        elif self.encoder_kind == "bigru":
            self.encoder = keras.layers.Bidirectional(
                keras.layers.GRU(self.units, return_sequences=True), name="encoder"
            )
        else:
            self.convolutions = [
                keras.layers.Conv1D(self.filters, k, padding="same", activation="relu", name=f"conv_{k}")
                for k in self.kernel_sizes
            ]
        if self.encoder_kind != "hierarchical" and self.pooling == "attention":
            self.attention_pooling = AttentionPooling(scores_lib.get(self.score), name="attention_pooling")
        self.states_dropout = keras.layers.Dropout(self.dropout, seed=self.seed)
        self.document_dropout = keras.layers.Dropout(self.dropout, seed=self.seed)
        self.classifier = keras.layers.Dense(self.num_classes, name="classifier")

    def _require_layers(self):
        if not hasattr(self, "classifier"):
            raise ValueError(
                "The DocumentClassifier has no vocabulary yet: call `adapt(documents)` or pass `vocabulary`."
            )

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
            documents, found = _unpack_dataset(documents)
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
        batches = [
            self.document_tokenizer(tf.constant(documents[i : i + 256]), pad_to_max=True).numpy()
            for i in range(0, len(documents), 256)
        ]
        ids = np.concatenate(batches) if batches else np.zeros((0, self.max_sentences, self.max_words), "int32")  # (N, S, W)
        if isinstance(embeddings, str) and embeddings == "skipgram":
            embeddings = word_vectors.skipgram_vectors(ids, size, self.embedding_dim, seed=self.seed or 0)
        elif embeddings is not None and not isinstance(embeddings, np.ndarray):
            counts = np.bincount(ids.ravel(), minlength=size)
            embeddings = pretrained_matrix(embeddings, self.document_tokenizer.vocabulary, seed=self.seed or 0, counts=counts)
        self.embedding_schedule = initialize_embeddings([(self.embedding, embeddings)], embedding_trainable)
        if self.label_features:
            ratios = word_vectors.log_count_ratios(ids, labels, size, self.num_classes)
            self.label_embedding.embeddings.assign(ratios)

    def build(self, input_shape=None):
        self._require_layers()
        self.call(tf.constant([[[4, 4], [4, 0]]], "int32"))  # (1, 2, 2): one of each kind of padding
        self.built = True

    # === Forward pass ===
    def _embed(self, ids, mask, training):
        """Word vectors `(..., E)` (learned, then the fixed label features), 0 on padding."""
        words = self.embedding(ids)
        if self.label_features:
            words = ops.concatenate([words, ops.cast(self.label_embedding(ids), words.dtype)], axis=-1)
        words = words * ops.cast(mask, words.dtype)[..., None]
        words = self.embedding_dropout(words, training=training)
        return self.word_dropout_layer(words, training=training)

    def call(self, inputs, training=None, return_attention_scores=False):
        ids = ops.cast(inputs, "int32")  # (B, S, W)
        if self.encoder_kind == "hierarchical":
            mask = ops.not_equal(ids, 0)  # (B, S, W)
            words = self._embed(ids, mask, training)  # (B, S, W, E)
            document, word_weights, sentence_weights = self.encoder(
                words, mask=mask, training=training, return_attention_scores=True
            )  # (B, H), (B, S, W), (B, S)
        else:
            flat, order = _compact(ids)  # (B, T), (B, S·W)
            mask = ops.not_equal(flat, 0)  # (B, T)
            words = self._embed(flat, mask, training)  # (B, T, E)
            if self.encoder_kind == "bigru":
                states = self.encoder(words, mask=mask, training=training)  # (B, T, 2·units)
            else:
                states = ops.concatenate([conv(words) for conv in self.convolutions], axis=-1)  # (B, T, F)
            states = self.states_dropout(states, training=training)
            if self.pooling == "attention":
                document, weights = self.attention_pooling(
                    states, mask=mask, training=training, return_attention_scores=True
                )  # (B, H), (B, T)
                if return_attention_scores:
                    word_weights, sentence_weights = self._restore_order(weights, order, ops.shape(ids))
            else:
                document = _pool(states, mask, self.pooling, self.units)
        document = self.document_dropout(document, training=training)
        probabilities = ops.softmax(ops.cast(self.classifier(document), "float32"), axis=-1)
        if return_attention_scores:
            if self.pooling != "attention":
                raise ValueError(
                    "Attention weights exist only for attention architectures ('han', "
                    f"'bigru_attention', 'cnn_attention'). Received: architecture={self.architecture!r}"
                )
            return probabilities, word_weights, sentence_weights
        return probabilities

    @staticmethod
    def _restore_order(weights, order, shape):
        """Word weights `(B, T)` of the compacted sequence -> `(B, S, W)` and sentence sums `(B, S)`."""
        batch, s, w = shape[0], shape[1], shape[2]
        padded = ops.pad(weights, [[0, 0], [0, s * w - ops.shape(weights)[1]]])  # (B, S·W)
        inverse = ops.argsort(order, axis=-1)
        word_weights = ops.reshape(ops.take_along_axis(padded, inverse, axis=1), (batch, s, w))
        return word_weights, ops.sum(word_weights, axis=-1)

    # === Training ===
    def compile(self, optimizer="adam", loss=None, metrics=None, learning_rate=2e-3, jit_compile=False, **kwargs):
        """Defaults: Adam (`learning_rate`, gradient norm clipped at 5), sparse categorical
        cross-entropy, and kzoo's accuracy and macro precision, recall, F1 and (exact) ROC-AUC."""
        defaults = optimizer == "adam" and loss is None and metrics is None and not kwargs
        self._default_compile = {"learning_rate": learning_rate, "jit_compile": jit_compile} if defaults else None
        if optimizer == "adam":
            optimizer = keras.optimizers.Adam(learning_rate, clipnorm=5.0)  # clipping: RNN gradients spike
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
        kwargs["callbacks"] = embedding_callbacks(self, kwargs.get("callbacks"))
        resume_data_order(kwargs["callbacks"], train)
        with no_epoch_end_warning(kwargs.get("steps_per_epoch")):
            return super().fit(train, validation_data=validation_data, shuffle=False, **kwargs)

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        """`keras.Model.evaluate` on the same inputs as `fit`."""
        self._require_layers()
        return super().evaluate(self._as_ids(x if y is None else (x, y), batch_size, shuffle=False), **kwargs)

    # === Inference ===
    def _function(self, kind):
        if kind not in self._functions:

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

    # === Config ===
    def get_config(self):
        config = super().get_config()
        config.update(
            num_classes=self.num_classes,
            architecture=self.architecture,
            vocabulary=self.document_tokenizer.vocabulary,
            lowercase=self.lowercase,
            max_vocabulary_size=self.max_vocabulary_size,
            max_sentences=self.max_sentences,
            max_words=self.max_words,
            truncate=self.truncate,
            embedding_dim=self.embedding_dim,
            units=self.units,
            filters=self.filters,
            kernel_sizes=list(self.kernel_sizes),
            score=self.score if isinstance(self.score, str) else scores_lib.serialize(self.score),
            dropout=self.dropout,
            word_dropout=self.word_dropout,
            label_features=self.label_features,
            class_names=self.class_names,
            seed=self.seed,
        )
        return config


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
