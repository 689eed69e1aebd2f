"""Hierarchical attention: words -> sentence vectors -> document vector (Yang et al. 2016).

A word encoder (bidirectional GRU by default) reads each sentence, word attention pools its words
into a sentence vector, a sentence encoder reads the sentence vectors, and sentence attention pools
them into the document vector. Padded words and padded sentences get weight exactly 0.

Reference:
    Yang, Yang, Dyer, He, Smola, Hovy (2016), "Hierarchical Attention Networks for Document
    Classification", NAACL.
"""

import keras
from keras import ops

from kzoo.layers import scores as scores_lib
from kzoo.layers.attention_pooling import AttentionPooling
from kzoo.layers.checks import check_rank

__all__ = ["HierarchicalAttention"]

_WORDS = ("batch_size", "sentences", "words", "dim")
_RNNS = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}


@keras.saving.register_keras_serializable(package="kzoo")
class HierarchicalAttention(keras.layers.Layer):
    """Document vector from word vectors `(batch_size, S, W, D)` by word and sentence attention.

    Args:
        units: hidden size of each encoder RNN (per direction). Default 50 (Yang et al.).
        rnn: "gru", "lstm" or None (no encoders: attention pools the inputs directly).
        bidirectional: whether the encoders read both ways. Default True.
        score: score name or `Score` layer of both attention levels; default "concat".
        dropout: dropout on the encoders' outputs in training, in [0, 1).
        unroll: unroll the RNNs (needs static S and W; converts to TFLite without loops).
        seed: dropout seed.

    Call arguments:
        inputs: word vectors `(batch_size, S, W, D)`: S sentences of W words.
        mask: boolean `(batch_size, S, W)`, True on real words. A sentence with no real word is
            padding.
        training: whether dropout applies.
        return_attention_scores: if True, also return word weights `(batch_size, S, W)` and
            sentence weights `(batch_size, S)`.

    Returns:
        The document vector `(batch_size, H)` (`H = units · (2 if bidirectional else 1)`, or `D`
        when `rnn=None`), and `(word_weights, sentence_weights)` if asked.

    Examples:
        >>> import numpy as np
        >>> layer = HierarchicalAttention(units=4)
        >>> doc, words, sents = layer(np.ones((2, 3, 5, 8), "float32"), return_attention_scores=True)
        >>> tuple(doc.shape), tuple(words.shape), tuple(sents.shape)
        ((2, 8), (2, 3, 5), (2, 3))
    """

    def __init__(
        self,
        units=50,
        rnn="gru",
        bidirectional=True,
        score="concat",
        dropout=0.0,
        unroll=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"`units` must be a positive int. Received: units={units!r}")
        if rnn is not None and rnn not in _RNNS:
            raise ValueError(f"`rnn` must be one of {sorted(_RNNS)} or None. Received: rnn={rnn!r}")
        if not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` must be a float in [0, 1). Received: dropout={dropout!r}")
        self.units = units
        self.rnn = rnn
        self.bidirectional = bool(bidirectional)
        self.dropout = float(dropout)
        self.unroll = bool(unroll)
        self.seed = seed
        score = scores_lib.get(score)
        self.word_encoder = self._encoder("word_encoder")
        self.sentence_encoder = self._encoder("sentence_encoder")
        self.word_attention = AttentionPooling(score=score, name="word_attention", dtype=self.dtype_policy)
        self.sentence_attention = AttentionPooling(
            score=score.__class__.from_config(score.get_config()),
            name="sentence_attention",
            dtype=self.dtype_policy,
        )
        self.dropout_layer = keras.layers.Dropout(self.dropout, seed=seed)
        self.supports_masking = True

    def _encoder(self, name):
        if self.rnn is None:
            return None
        layer = _RNNS[self.rnn](
            self.units, return_sequences=True, unroll=self.unroll, dtype=self.dtype_policy
        )
        if self.bidirectional:
            return keras.layers.Bidirectional(layer, name=name, dtype=self.dtype_policy)
        layer.name = name
        return layer

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        check_rank("inputs", input_shape, _WORDS)
        _, s, w, d = input_shape
        words_shape = (None, w, d)
        if self.word_encoder is not None:
            self.word_encoder.build(words_shape)
            words_shape = self.word_encoder.compute_output_shape(words_shape)
        self.word_attention.build(words_shape)
        sentences_shape = (None, s, words_shape[-1])
        if self.sentence_encoder is not None:
            self.sentence_encoder.build(sentences_shape)
            sentences_shape = self.sentence_encoder.compute_output_shape(sentences_shape)
        self.sentence_attention.build(sentences_shape)
        self.built = True

    def _encode(self, encoder, x, mask, training):
        if encoder is not None:
            x = encoder(x, mask=mask, training=training)
        return self.dropout_layer(x, training=training)

    def call(self, inputs, mask=None, training=None, return_attention_scores=False):
        check_rank("inputs", inputs.shape, _WORDS)
        batch, s, w = ops.shape(inputs)[0], ops.shape(inputs)[1], ops.shape(inputs)[2]
        words = ops.reshape(inputs, (batch * s, w, inputs.shape[-1]))  # (B·S, W, D)
        word_mask = None
        sentence_mask = None
        if mask is not None:
            check_rank("mask", mask.shape, _WORDS[:3])
            mask = ops.cast(mask, "bool")
            word_mask = ops.reshape(mask, (batch * s, w))  # (B·S, W)
            sentence_mask = ops.any(mask, axis=-1)  # (B, S)
        words = self._encode(self.word_encoder, words, word_mask, training)  # (B·S, W, H)
        sentences, word_weights = self.word_attention(
            words, mask=word_mask, training=training, return_attention_scores=True
        )  # (B·S, H), (B·S, W)
        sentences = ops.reshape(sentences, (batch, s, sentences.shape[-1]))  # (B, S, H)
        sentences = self._encode(self.sentence_encoder, sentences, sentence_mask, training)
        document, sentence_weights = self.sentence_attention(
            sentences, mask=sentence_mask, training=training, return_attention_scores=True
        )  # (B, H), (B, S)
        if return_attention_scores:
            return document, ops.reshape(word_weights, (batch, s, w)), sentence_weights
        return document

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            rnn=self.rnn,
            bidirectional=self.bidirectional,
            score=scores_lib.serialize(self.word_attention.attention.score),
            dropout=self.dropout,
            unroll=self.unroll,
            seed=self.seed,
        )
        return config
