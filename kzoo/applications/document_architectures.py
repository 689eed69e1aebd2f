"""The DocumentClassifier's architectures: word embedding -> encoder -> pooling, one code path.

`ARCHITECTURES` maps each `architecture` of `kzoo.applications.DocumentClassifier` (the table
of encoders and poolings is in its module, `kzoo.applications.document_classifier`) to its
encoder and pooling. The flat architectures read the words of all sentences as one sequence
(padding removed, `compact_words`), so the only differences between them are the encoder and the
pooling (`pool_states`, or `kzoo.layers.AttentionPooling`). `DocumentArchitecture` holds the
layers and the forward pass; `DocumentClassifier` inherits them.
"""

import keras
import tensorflow as tf
from keras import ops

from kzoo.layers import scores as scores_lib
from kzoo.layers.attention_pooling import AttentionPooling
from kzoo.layers.hierarchical_attention import HierarchicalAttention

__all__ = ["ARCHITECTURES", "DocumentArchitecture", "compact_words", "pool_states"]

# architecture -> (encoder, pooling)
ARCHITECTURES = {
    "han": ("hierarchical", "attention"),
    "bigru_last": ("bigru", "last"),
    "bigru_mean": ("bigru", "mean"),
    "bigru_attention": ("bigru", "attention"),
    "cnn_max": ("cnn", "max"),
    "cnn_attention": ("cnn", "attention"),
}


def compact_words(ids):
    """Moves the real words of `(B, S, W)` ids to the front of one sequence `(B, T)`.

    Returns `(ids (B, T), order (B, S·W))` where `T` is the longest document in the batch (>= 1)
    and `order` is the permutation applied (to put word weights back in place).

    Examples:
        >>> import numpy as np
        >>> ids, order = compact_words(np.array([[[0, 5], [6, 0]]], "int32"))  # (1, S=2, W=2)
        >>> ops.convert_to_numpy(ids).tolist(), ops.convert_to_numpy(order).tolist()
        ([[5, 6]], [[1, 2, 0, 3]])
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


def pool_states(states, mask, mode, units):
    """Pools encoder states `(B, T, H)` with a boolean mask `(B, T)` -> `(B, H)`.

    `mode` is "mean", "max" or "last" (for a bidirectional encoder of `units` per direction:
    the forward half at the last real step, the backward half at the first).

    Examples:
        >>> import numpy as np
        >>> states = np.array([[[1.0, 2.0], [3.0, 4.0], [9.0, 9.0]]], "float32")  # (1, T=3, H=2)
        >>> mask = np.array([[True, True, False]])
        >>> [ops.convert_to_numpy(pool_states(states, mask, m, units=1)).tolist() for m in ("mean", "max", "last")]
        [[[2.0, 3.0]], [[3.0, 4.0]], [[3.0, 2.0]]]
    """
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


class DocumentArchitecture:
    """The layers and the forward pass of `kzoo.applications.DocumentClassifier` (its base).

    The layers are made from the classifier's settings (`architecture`, `embedding_dim`,
    `units`, `filters`, `kernel_sizes`, `score`, `dropout`, `word_dropout`, `label_features`)
    once its vocabulary is known; see `DocumentClassifier` for the call arguments.
    """

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

    def build(self, input_shape=None):
        self._require_layers()
        self.call(tf.constant([[[4, 4], [4, 0]]], "int32"))  # (1, 2, 2): one of each kind of padding
        self.built = True

    # === Forward pass ===
    def call(self, inputs, training=None, return_attention_scores=False):
        ids = ops.cast(inputs, "int32")  # (B, S, W)
        words, mask, order = self._word_vectors(ids)
        return self._classify_words(words, mask, order, ops.shape(ids), training, return_attention_scores)

    def _word_vectors(self, ids):
        """The word vectors the encoder reads, 0 on padding (the input adversarial training moves).

        Returns `(words, mask, order)`: for the HAN `(B, S, W, E)`, `(B, S, W)` and None; for
        the flat architectures `(B, T, E)`, `(B, T)` and the permutation of `compact_words`.
        """
        order = None
        if self.encoder_kind != "hierarchical":
            ids, order = compact_words(ids)  # (B, T), (B, S·W)
        mask = ops.not_equal(ids, 0)
        words = self.embedding(ids)
        if self.label_features:
            words = ops.concatenate([words, ops.cast(self.label_embedding(ids), words.dtype)], axis=-1)
        return words * ops.cast(mask, words.dtype)[..., None], mask, order

    def _classify_words(self, words, mask, order, shape, training=None, return_attention_scores=False):
        """Word vectors (from `_word_vectors`) -> class probabilities `(B, num_classes)` (and the
        attention weights `(B, S, W)`, `(B, S)` with `return_attention_scores`)."""
        words = self.embedding_dropout(words, training=training)
        words = self.word_dropout_layer(words, training=training)
        if self.encoder_kind == "hierarchical":
            document, word_weights, sentence_weights = self.encoder(
                words, mask=mask, training=training, return_attention_scores=True
            )  # (B, H), (B, S, W), (B, S)
        else:
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
                    word_weights, sentence_weights = self._restore_order(weights, order, shape)
            else:
                document = pool_states(states, mask, self.pooling, self.units)
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
