"""Translator: an attention sequence-to-sequence model from text to text.

Raw strings go in and come out: tensorflow-text tokenization (`kzoo.text.Tokenizer`) -> recurrent
encoder (`kzoo.seq2seq.RNNEncoder`) -> attention decoder (`kzoo.seq2seq.AttentionDecoder`) ->
sampler (greedy or beam, `kzoo.seq2seq.samplers`) -> detokenization. The same tokenizer runs in
`fit`'s input pipeline, in `translate()` and inside the exported SavedModel.

References: Sutskever, Vinyals, Le (2014), "Sequence to Sequence Learning with Neural Networks";
Bahdanau, Cho, Bengio (2015), "Neural Machine Translation by Jointly Learning to Align and
Translate"; Luong, Pham, Manning (2015), "Effective Approaches to Attention-based Neural Machine
Translation"; Bengio et al. (2015), "Scheduled Sampling for Sequence Prediction with Recurrent
Neural Networks"; Wu et al. (2016), "Google's Neural Machine Translation System" (wordpieces,
length penalty).
"""

import itertools

import keras
import tensorflow as tf

from kzoo.applications.embeddings import check_embedding_trainable, initialize_embeddings, load_pretrained, start_embedding
from kzoo.applications.task import SequenceGenerator, TFLiteSequenceGenerator
from kzoo.data.pipeline import make_pairs_dataset
from kzoo.export import litert
from kzoo.seq2seq import schedules
from kzoo.seq2seq.decoder import AttentionDecoder
from kzoo.seq2seq.encoder import RNNEncoder
from kzoo.seq2seq.shortlist import LexicalShortlist, check_aligned, check_shortlist
from kzoo.text.tokenizer import Tokenizer, check_texts, text_batches
from kzoo.text.vocabulary import check_vocabulary_sizes

__all__ = ["Translator"]

litert.register_runner("translator")(TFLiteSequenceGenerator)


@keras.saving.register_keras_serializable(package="kzoo")
class Translator(SequenceGenerator):
    """Attention encoder-decoder that translates strings, trained with `fit`.

    Args:
        source_vocabulary: token list (see `kzoo.text.Tokenizer`), or None to build it with `adapt()`.
        target_vocabulary: the same for the target language.
        tokenizer: "word" or "wordpiece".
        lowercase: whether text is case-folded.
        max_vocabulary_size: largest vocabulary `adapt()` builds, an int for both languages or a pair
            `(source, target)`; the target size is the output layer's width (its softmax dominates
            a training step): 5,000 words hold 98% of the English tokens of the Tatoeba pairs.
        embedding_dim: size of the token embeddings.
        units: size of the decoder state and attentional vector; the encoder has `units`
            (or `units // 2` per direction when bidirectional), so no bridge is needed.
        cell: "lstm" or "gru".
        bidirectional: whether the encoder is bidirectional.
        num_layers: layers of the encoder and of the decoder.
        attention: None (baseline), "global", "local-m", "local-p" or "hard".
        score: the attention score ("general", "dot", "concat", "mlp", ...).
        window: half-width of local attention's window.
        input_feeding: Luong input feeding (slower: training then runs step by step).
        dropout: dropout in the encoder stack and before the output layer.
        scheduled_sampling: None, "linear", "exponential", "inverse_sigmoid", a dict
            `{"name": ..., **args}` or a `kzoo.seq2seq.schedules.SamplingSchedule`.
        max_source_length: source tokens kept (longer input is truncated to its first tokens).
        max_target_length: default and largest number of output tokens of `translate`.
        shortlist: `(frequent, per_source)`: decoding scores only the `frequent` most common target
            words and, per source word, its `per_source` strongest co-occurring target words,
            learned by `adapt` from the pairs (`kzoo.seq2seq.shortlist`); None scores them all.
        seed: seed of scheduled sampling.

    Examples:
        >>> tr = Translator(units=8, embedding_dim=8)
        >>> tr.adapt(["hola mundo"], ["hello world"])
        >>> tr.compile()
        >>> isinstance(tr.translate("hola"), str)
        True
    """

    def __init__(
        self,
        source_vocabulary=None,
        target_vocabulary=None,
        tokenizer="word",
        lowercase=True,
        max_vocabulary_size=(20000, 5000),
        embedding_dim=128,
        units=256,
        cell="lstm",
        bidirectional=False,
        num_layers=1,
        attention="global",
        score="general",
        window=5,
        input_feeding=False,
        dropout=0.2,
        scheduled_sampling=None,
        max_source_length=100,
        max_target_length=100,
        shortlist=(500, 20),
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if bidirectional and units % 2:
            raise ValueError(f"`units` must be even when `bidirectional=True`. Received: units={units!r}")
        self.tokenizer = tokenizer
        self.lowercase = lowercase
        self.max_vocabulary_size = check_vocabulary_sizes(max_vocabulary_size)
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.bidirectional = bidirectional
        self.num_layers = num_layers
        self.attention = attention
        self.score = score
        self.window = window
        self.input_feeding = input_feeding
        self.dropout = dropout
        self.scheduled_sampling = schedules.get(scheduled_sampling)
        self.max_source_length = max_source_length
        self.max_target_length = max_target_length
        self.shortlist = check_shortlist(shortlist)
        self.seed = seed
        self.source_tokenizer = Tokenizer(source_vocabulary, tokenizer, lowercase, max_source_length, name="source_tokenizer")
        self.target_tokenizer = Tokenizer(target_vocabulary, tokenizer, lowercase, max_target_length + 1, name="target_tokenizer")
        if source_vocabulary is not None and target_vocabulary is not None:
            self._make_layers()

    # === Layers ===
    def _make_layers(self):
        self.encoder = RNNEncoder(
            self.source_tokenizer.vocabulary_size, self.embedding_dim, self.units // 2 if self.bidirectional else self.units,
            self.cell, self.bidirectional, self.num_layers, self.dropout, name="encoder",
        )
        self.decoder = AttentionDecoder(
            self.target_tokenizer.vocabulary_size, self.embedding_dim, self.units, self.cell, self.num_layers,
            self.attention, self.score, self.window, self.input_feeding, self.dropout, self.seed, name="decoder",
        )
        if self.shortlist is not None:
            sizes = self.source_tokenizer.vocabulary_size, self.target_tokenizer.vocabulary_size
            self.shortlist_layer = LexicalShortlist(*sizes, *self.shortlist, name="shortlist")

    def adapt(
        self, source_texts, target_texts, min_count=1, source_embeddings=None, target_embeddings=None, embedding_trainable=True
    ):
        """Builds both vocabularies (tensorflow-text) from training texts, then the layers.

        Args:
            source_texts, target_texts: aligned lists of strings or `tf.data.Dataset`s of strings.
            min_count: words seen fewer times are left out of word vocabularies.
            source_embeddings: pretrained source vectors: a name ("glove-6b-50d"), a GloVe /
                word2vec text file, a `kzoo.text.WordVectors`, a `(words, matrix)` pair or an array
                `(vocabulary_size, embedding_dim)` (`kzoo.applications.embeddings`).
            target_embeddings: the same for the target (decoder) embedding.
            embedding_trainable: True (fine-tuned), False (frozen) or N (frozen for N epochs).
        """
        if hasattr(self, "decoder"):
            raise ValueError("`adapt()` can only be called once, before training.")
        check_embedding_trainable(embedding_trainable)
        if self.shortlist is not None:
            check_aligned(source_texts, target_texts)
        source_vectors = load_pretrained(source_embeddings, self.embedding_dim, "source_embeddings")
        target_vectors = load_pretrained(target_embeddings, self.embedding_dim, "target_embeddings")
        source_size, target_size = self.max_vocabulary_size
        self.source_tokenizer.adapt(source_texts, source_size, min_count)
        self.target_tokenizer.adapt(target_texts, target_size, min_count)
        self._make_layers()
        self.build()
        seed = self.seed or 0
        source = start_embedding(self.encoder.embedding, source_vectors, self.source_tokenizer, source_texts, "source_embeddings", seed)
        target = start_embedding(self.decoder.embedding, target_vectors, self.target_tokenizer, target_texts, "target_embeddings", seed)
        self.embedding_schedule = initialize_embeddings([source, target], embedding_trainable)
        if self.shortlist is not None:
            self.learn_shortlist(source_texts, target_texts)

    def learn_shortlist(self, source_texts, target_texts):
        """Learns the decoding shortlist from aligned training pairs (`adapt` does it)."""
        batches = itertools.zip_longest(text_batches(source_texts), text_batches(target_texts), fillvalue=tf.zeros([0], tf.string))
        self.shortlist_layer.learn((self.source_tokenizer(s).numpy(), self.target_tokenizer(t).numpy()) for s, t in batches)

    def build(self, input_shape=None):
        self._require_layers()
        self.call((tf.constant([[4, 4]], "int32"),) * 2)
        self.built = True

    # === Hooks of the shared core (kzoo.applications.task) ===
    output_name = "translations"
    tflite_kind = "translator"
    raw_input_spec = tf.TensorSpec([None], tf.string, name="texts")
    tflite_input_spec = tf.TensorSpec([1, None], tf.int32)

    def preprocess(self, texts):
        return self.source_tokenizer(texts)

    def encode(self, source_ids, training=None):
        return self.encoder(source_ids, training=training)

    def check_raw(self, texts):
        return check_texts(texts, "texts")

    def make_dataset(self, sources, targets, batch_size=64, shuffle=True):
        """Sentence pairs batched by similar length (`kzoo.data.make_pairs_dataset`)."""
        return make_pairs_dataset(sources, targets, batch_size=batch_size, shuffle=shuffle, seed=self.seed)

    def decode_candidates(self, source_ids):
        return None if self.shortlist is None else self.shortlist_layer(source_ids)

    def tflite_metadata(self):
        return {"source_tokenizer": self.source_tokenizer.get_config()}

    def translate(self, texts, beam_width=1, max_length=None, length_penalty=0.0, return_attention=False):
        """Translates a string or a list of strings.

        Decoding (greedy, or beam search with the GNMT length penalty) runs in a `tf.function`
        while loop over the whole batch until every sentence has ended. Input longer than
        `max_source_length` tokens is truncated; an empty input gives the translation of nothing.

        Args:
            texts: a string or a list of strings.
            beam_width: 1 for greedy decoding, more for beam search.
            max_length: most output tokens; default `max_target_length`.
            length_penalty: GNMT `α >= 0` of beam search; 0 ranks by log-probability.
            return_attention: if True also return, per input, a dict with `source_tokens`,
                `target_tokens` and `weights` `(len(target_tokens), len(source_tokens))`.

        Returns:
            A string for a string, a list of strings for a list (and the attention list).
        """
        return self.generate(texts, beam_width, max_length, length_penalty, return_attention)

    def attention_record(self, source_ids, tokens, weights):
        source = [self.source_tokenizer.vocabulary[i] for i in source_ids if i != 0]
        target, end = self.output_tokens(tokens)
        return {"source_tokens": source, "target_tokens": target, "weights": weights[:end, : len(source)]}

    # === Config ===
    def get_config(self):
        names = ("tokenizer", "lowercase", "max_vocabulary_size", "embedding_dim", "units", "cell", "bidirectional", "num_layers",
                 "attention", "score", "window", "input_feeding", "dropout", "max_source_length", "max_target_length",
                 "shortlist", "seed")
        return {
            **super().get_config(),
            **{name: getattr(self, name) for name in names},
            "source_vocabulary": self.source_tokenizer.vocabulary,
            "target_vocabulary": self.target_tokenizer.vocabulary,
            "scheduled_sampling": schedules.to_config(self.scheduled_sampling),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**{"shortlist": None, **config})  # models saved before shortlists had none
