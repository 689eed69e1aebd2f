"""The TensorFlow "Neural machine translation with attention" tutorial's architecture, as an anchor.

Embedding 256, a bidirectional GRU encoder (256 units, directions summed), a GRU decoder (256)
started from zeros, one-head cross-attention (`keras.layers.MultiHeadAttention`, key_dim 256)
added to the decoder output and layer-normalised, a Dense layer to the vocabulary; Adam 1e-3,
vocabularies of 5,000 tokens (the tutorial's `max_vocab_size`). Text goes through kzoo's word
tokenizer (the tutorial lower-cases, splits punctuation and adds start/end tokens the same way),
so both models see the same tokens. Greedy decoding runs in a `tf.function` while loop over the
whole batch, as the tutorial's `translate` does, stopping when every sentence has ended.

Used by `translator_quality.py` (BLEU against minutes of training in the same protocol) and for
the decoding-speed comparison there.
"""

import keras
import tensorflow as tf

from kzoo.seq2seq.losses import MaskedSparseCrossEntropy, MaskedTokenAccuracy
from kzoo.text.tokenizer import END, START, Tokenizer

__all__ = ["TutorialTranslator"]


class TutorialTranslator(keras.Model):
    """The tutorial's encoder-decoder on kzoo tokenizers; `fit` takes batched string pairs."""

    def __init__(self, units=256, vocabulary_size=5000, max_length=50, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.vocabulary_size = vocabulary_size
        self.max_length = max_length
        self.source_tokenizer = Tokenizer(max_length=100)
        self.target_tokenizer = Tokenizer(max_length=max_length + 1)

    def adapt(self, sources, targets):
        self.source_tokenizer.adapt(sources, self.vocabulary_size)
        self.target_tokenizer.adapt(targets, self.vocabulary_size)
        units = self.units
        self.source_embedding = keras.layers.Embedding(self.source_tokenizer.vocabulary_size, units)
        self.encoder = keras.layers.Bidirectional(keras.layers.GRU(units, return_sequences=True), merge_mode="sum")
        self.target_embedding = keras.layers.Embedding(self.target_tokenizer.vocabulary_size, units)
        self.decoder = keras.layers.GRU(units, return_sequences=True, return_state=True)
        self.attention = keras.layers.MultiHeadAttention(num_heads=1, key_dim=units)
        self.norm = keras.layers.LayerNormalization()
        self.output_layer = keras.layers.Dense(self.target_tokenizer.vocabulary_size)
        ids = tf.constant([[4, 4]], "int32")
        self((ids, ids))

    def encode(self, source_ids):
        mask = tf.not_equal(source_ids, 0)  # (B, S)
        return self.encoder(self.source_embedding(source_ids), mask=mask), mask  # (B, S, U)

    def head(self, hidden, memory, memory_mask, query_mask=None):
        """Cross-attention + residual + LayerNorm + logits for decoder outputs `(B, T, U)`."""
        attended = self.attention(query=hidden, value=memory, query_mask=query_mask, value_mask=memory_mask)
        return self.output_layer(self.norm(hidden + attended))  # (B, T, V)

    def call(self, inputs, training=None):
        source_ids, target_in = inputs
        memory, memory_mask = self.encode(source_ids)
        target_mask = tf.not_equal(target_in, 0)
        hidden, _ = self.decoder(self.target_embedding(target_in), mask=target_mask)
        return self.head(hidden, memory, memory_mask, target_mask)

    def compile(self, **kwargs):
        super().compile(optimizer=keras.optimizers.Adam(1e-3), loss=MaskedSparseCrossEntropy(), metrics=[MaskedTokenAccuracy()], **kwargs)

    def prepare(self, source, target):
        target_ids = self.target_tokenizer(target, add_start=True, add_end=True)
        return (self.source_tokenizer(source), target_ids[:, :-1]), target_ids[:, 1:]

    def fit(self, dataset, **kwargs):
        kwargs.setdefault("shuffle", False)  # the dataset shuffles itself
        return super().fit(dataset.map(self.prepare, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2), **kwargs)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def decode_texts(self, texts):
        """Greedy translations of a batch of strings, in a graph while loop."""
        memory, memory_mask = self.encode(self.source_tokenizer(texts))
        batch = tf.shape(texts)[0]
        tokens = tf.fill([batch], START)
        state = tf.zeros([batch, self.units])
        done = tf.zeros([batch], tf.bool)
        out = tf.TensorArray(tf.int32, size=0, dynamic_size=True, element_shape=[None])
        t = tf.constant(0)
        while t < self.max_length and not tf.reduce_all(done):
            hidden, state = self.decoder(self.target_embedding(tokens[:, None]), initial_state=state)
            logits = self.head(hidden, memory, memory_mask)[:, 0]  # (B, V)
            tokens = tf.where(done, 0, tf.cast(tf.argmax(logits, -1), tf.int32))
            out = out.write(t, tokens)
            done = tf.logical_or(done, tf.equal(tokens, END))
            t += 1
        return self.target_tokenizer.detokenize(tf.transpose(out.stack()))

    def translate(self, texts):
        return [t.decode("utf-8") for t in self.decode_texts(tf.constant(texts)).numpy()]
