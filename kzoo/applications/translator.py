"""Translator: an attention sequence-to-sequence model from text to text.

Raw strings go in and come out: tensorflow-text tokenization (`kzoo.text.Tokenizer`) -> recurrent
encoder (`kzoo.seq2seq.RNNEncoder`) -> attention decoder (`kzoo.seq2seq.AttentionDecoder`) ->
sampler (greedy or beam, `kzoo.seq2seq.samplers`) -> detokenization. The same tokenizer runs in
`fit`'s input pipeline, in `translate()` and inside the exported SavedModel.

References:
    Sutskever, Vinyals, Le (2014), "Sequence to Sequence Learning with Neural Networks".
    Bahdanau, Cho, Bengio (2015), "Neural Machine Translation by Jointly Learning to Align and
    Translate". Luong, Pham, Manning (2015), "Effective Approaches to Attention-based Neural
    Machine Translation". Bengio et al. (2015), "Scheduled Sampling for Sequence Prediction with
    Recurrent Neural Networks". Wu et al. (2016), "Google's Neural Machine Translation System"
    (wordpieces, length penalty).
"""

import os

import keras
import numpy as np
import tensorflow as tf

from kzoo.applications.compile_defaults import CompileDefaultsMixin
from kzoo.export import litert
from kzoo.export.savedmodel import save_translator
from kzoo.seq2seq import samplers as samplers_lib
from kzoo.seq2seq import schedules
from kzoo.seq2seq.decoder import AttentionDecoder
from kzoo.seq2seq.encoder import RNNEncoder
from kzoo.seq2seq.losses import MaskedSparseCrossEntropy, MaskedTokenAccuracy, sampled_softmax_loss
from kzoo.text.tokenizer import Tokenizer, check_texts

__all__ = ["Translator"]


def _vocabulary_sizes(value):
    """`(source, target)` vocabulary caps from an int or a pair of ints (each > 4)."""
    sizes = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    if (
        not isinstance(sizes, (list, tuple))
        or len(sizes) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and n > 4 for n in sizes)
    ):
        raise ValueError(
            "`max_vocabulary_size` must be an int > 4 or a pair of them (source, target). "
            f"Received: max_vocabulary_size={value!r}"
        )
    return tuple(sizes)


class _FunctionCache:
    """Holds compiled decoding functions out of sight of Keras and SavedModel tracking."""

    def __init__(self):
        self.functions = {}


@keras.saving.register_keras_serializable(package="kzoo")
class Translator(CompileDefaultsMixin, keras.Model):
    """Attention encoder-decoder that translates strings, trained with `fit`.

    Args:
        source_vocabulary, target_vocabulary: token lists (see `kzoo.text.Tokenizer`), or None
            to build them with `adapt()`.
        tokenizer: "word" or "wordpiece".
        lowercase: whether text is case-folded.
        max_vocabulary_size: largest vocabulary `adapt()` builds, an int for both languages or
            a pair `(source, target)`. The target size is the output layer's width, whose
            softmax dominates a training step: the default keeps the 5,000 most frequent target
            words (98% of the English tokens of the Tatoeba pairs), which learns about twice as
            fast per minute as keeping every word (see the README's Translator benchmarks).
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
        seed: seed of scheduled sampling.

    Example:

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
        dropout=0.0,
        scheduled_sampling=None,
        max_source_length=100,
        max_target_length=100,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if bidirectional and units % 2:
            raise ValueError(f"`units` must be even when `bidirectional=True`. Received: units={units!r}")
        self.tokenizer = tokenizer
        self.lowercase = lowercase
        self.max_vocabulary_size = _vocabulary_sizes(max_vocabulary_size)
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
        self.seed = seed
        self.source_tokenizer = Tokenizer(source_vocabulary, tokenizer, lowercase, max_source_length, name="source_tokenizer")
        self.target_tokenizer = Tokenizer(target_vocabulary, tokenizer, lowercase, max_target_length + 1, name="target_tokenizer")
        self._decode_functions = _FunctionCache()
        if source_vocabulary is not None and target_vocabulary is not None:
            self._make_layers()

    # === Layers ===
    def _make_layers(self):
        self.encoder = RNNEncoder(
            self.source_tokenizer.vocabulary_size,
            self.embedding_dim,
            self.units // 2 if self.bidirectional else self.units,
            self.cell,
            self.bidirectional,
            self.num_layers,
            self.dropout,
            name="encoder",
        )
        self.decoder = AttentionDecoder(
            self.target_tokenizer.vocabulary_size,
            self.embedding_dim,
            self.units,
            self.cell,
            self.num_layers,
            self.attention,
            self.score,
            self.window,
            self.input_feeding,
            self.dropout,
            self.seed,
            name="decoder",
        )

    def _require_layers(self):
        if not hasattr(self, "decoder"):
            raise ValueError(
                "The Translator has no vocabularies yet: call `adapt(source_texts, target_texts)` "
                "or pass `source_vocabulary` and `target_vocabulary`."
            )

    def adapt(self, source_texts, target_texts, min_count=1):
        """Builds both vocabularies (tensorflow-text) from training texts, then the layers.

        Args:
            source_texts, target_texts: lists of strings or `tf.data.Dataset`s of strings.
            min_count: words seen fewer times are left out of word vocabularies.
        """
        if hasattr(self, "decoder"):
            raise ValueError("`adapt()` can only be called once, before training.")
        source_size, target_size = self.max_vocabulary_size
        self.source_tokenizer.adapt(source_texts, source_size, min_count)
        self.target_tokenizer.adapt(target_texts, target_size, min_count)
        self._make_layers()
        self.build()

    def build(self, input_shape=None):
        self._require_layers()
        ids = tf.constant([[4, 4]], "int32")
        self.call((ids, ids))
        self.built = True

    # === Training ===
    def _sampling_probability(self, training):
        if training and self.scheduled_sampling is not None and self.optimizer is not None:
            return self.scheduled_sampling(self.optimizer.iterations)
        return None

    def call(self, inputs, training=None, return_features=False):
        """Teacher-forced logits `(batch_size, T, target_vocabulary)` from `(source_ids, target_in_ids)`
        (or, with `return_features`, the output layer's inputs `(batch_size, T, units)`)."""
        source_ids, target_in = inputs
        memory, memory_mask, states = self.encoder(source_ids, training=training)
        return self.decoder(
            target_in,
            memory,
            memory_mask,
            initial_state=states,
            sampling_probability=self._sampling_probability(training),
            training=training,
            return_features=return_features,
        )

    def _uses_sampled_softmax(self):
        num_sampled = getattr(self, "_num_sampled", None)
        return (
            num_sampled is not None
            and 2 * num_sampled <= self.decoder.vocabulary_size
            and self.decoder.runs_in_parallel(True, self._sampling_probability(True))
        )

    def train_step(self, data):
        """Keras' step, or, with a sampled softmax (see `compile`), the same step with the loss
        computed from the output layer's inputs on a sample of vocabulary rows; the compiled
        metrics still see the full logits (computed without gradient)."""
        if not self._uses_sampled_softmax():
            return super().train_step(data)
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        output = self.decoder.output_layer
        with tf.GradientTape() as tape:
            features = self(x, training=True, return_features=True)
            loss = sampled_softmax_loss(y, features, output.kernel, output.bias, self._num_sampled, seed=self.seed)
            if self.losses:
                loss = loss + tf.add_n(self.losses)
            self._loss_tracker.update_state(loss, sample_weight=tf.shape(x[0])[0])
            # As Keras does: each replica's loss is divided by the replica count, so that the
            # gradients summed over replicas are those of the mean loss.
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            scaled = self.optimizer.scale_loss(loss / replicas)
        gradients = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self.compute_metrics(x, y, tf.stop_gradient(output(features)), sample_weight=sample_weight)

    def compile(
        self,
        optimizer="adam",
        loss=None,
        metrics=None,
        label_smoothing=0.0,
        learning_rate=3e-3,
        num_sampled=None,
        **kwargs,
    ):
        """Defaults: Adam (`learning_rate`, gradient norm clipped at 5), masked cross-entropy
        (optional label smoothing), masked token accuracy.

        Args:
            num_sampled: None (default) trains on the full softmax; an int estimates it, with
                the default loss, from this many sampled vocabulary rows per step (Jean et al.
                2015; see `kzoo.seq2seq.sampled_softmax_loss`), which makes the output layer's
                cost small next to the recurrent layers'. Faster per step, but measured on
                Spanish -> English (3,900 English tokens, 512 rows) it learns less per step and
                levels off lower (see the README). The full softmax is used anyway when the
                vocabulary has fewer than `2 * num_sampled` tokens, with label smoothing, with a
                custom `loss`, and when training runs step by step (input feeding, scheduled
                sampling). Evaluation always uses the full softmax.
        """
        if num_sampled is not None and (isinstance(num_sampled, bool) or not isinstance(num_sampled, int) or num_sampled < 1):
            raise ValueError(f"`num_sampled` must be a positive int or None. Received: num_sampled={num_sampled!r}")
        defaults = optimizer == "adam" and loss is None and metrics is None and not kwargs
        self._default_compile = (
            {"label_smoothing": label_smoothing, "learning_rate": learning_rate, "num_sampled": num_sampled}
            if defaults
            else None
        )
        self._num_sampled = num_sampled if loss is None and label_smoothing == 0 else None
        if optimizer == "adam":
            optimizer = keras.optimizers.Adam(learning_rate, clipnorm=5.0)  # clipping: RNN gradients spike
        super().compile(
            optimizer=optimizer,
            loss=loss or MaskedSparseCrossEntropy(label_smoothing=label_smoothing),
            metrics=metrics if metrics is not None else [MaskedTokenAccuracy()],
            **kwargs,
        )

    def prepare(self, source, target):
        """Maps a batch of `(source, target)` strings to `((source_ids, target_in), target_out)`."""
        source_ids = self.source_tokenizer(source)
        target_ids = self.target_tokenizer(target, add_start=True, add_end=True)
        return (source_ids, target_ids[:, :-1]), target_ids[:, 1:]

    def _as_ids(self, data):
        if isinstance(data, tf.data.Dataset):
            spec = data.element_spec
            if isinstance(spec, tuple) and len(spec) == 2 and all(
                getattr(s, "dtype", None) == tf.string for s in spec
            ):
                return data.map(self.prepare, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
        return data

    def fit(self, x=None, y=None, batch_size=None, validation_data=None, **kwargs):
        """`keras.Model.fit` that also takes batched `(source, target)` string datasets.

        `x` may be a `tf.data.Dataset` of batched `(source strings, target strings)` (see
        `kzoo.data.make_pairs_dataset`), or a list of source strings with `y` the target
        strings (then batched with `batch_size`, default 64, bucketed by length).
        """
        self._require_layers()
        if x is not None and not isinstance(x, tf.data.Dataset) and y is not None:
            from kzoo.data.pipeline import make_pairs_dataset

            x = make_pairs_dataset(x, y, batch_size=batch_size or 64, seed=self.seed)
            y = batch_size = None
        if isinstance(validation_data, tuple) and len(validation_data) == 2 and isinstance(validation_data[0], list):
            from kzoo.data.pipeline import make_pairs_dataset

            validation_data = make_pairs_dataset(*validation_data, shuffle=False)
        validation_data = self._as_ids(validation_data) if validation_data is not None else None
        if isinstance(x, tf.data.Dataset):
            kwargs.setdefault("shuffle", False)  # a Dataset shuffles itself; Keras warns otherwise
        return super().fit(self._as_ids(x), y, batch_size=batch_size, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, **kwargs):
        return super().evaluate(self._as_ids(x), y, **kwargs)

    # === Decoding ===
    def decode_ids(self, source_ids, max_length, sampler="greedy", collect_attention=True):
        """Decodes token ids in graph: `(tokens (B, L), weights (B, L, S))`."""
        memory, memory_mask, states = self.encoder(source_ids, training=False)
        state = self.decoder.initial_state(states, tf.shape(source_ids)[0], memory.dtype)

        def step(tokens, state, memory, memory_mask, t):
            logits, state, weights = self.decoder.step(tokens, state, memory, memory_mask, t, training=False)
            return logits, state, weights if collect_attention else None

        return samplers_lib.get(sampler)(step, state, memory, memory_mask, max_length)

    def decode_texts(self, texts, max_length, sampler="greedy"):
        """Strings `(B,)` -> translated strings `(B,)`, all in graph (what the SavedModel serves)."""
        tokens, _ = self.decode_ids(self.source_tokenizer(texts), max_length, sampler, collect_attention=False)
        return self.target_tokenizer.detokenize(tokens)

    def _decode_function(self, beam_width, length_penalty, return_attention):
        key = (beam_width, float(length_penalty), return_attention)
        if key not in self._decode_functions.functions:
            sampler = "greedy" if beam_width == 1 else samplers_lib.BeamSampler(beam_width, length_penalty)

            @tf.function(
                input_signature=[tf.TensorSpec([None], tf.string), tf.TensorSpec([], tf.int32)],
                reduce_retracing=True,
            )
            def decode(texts, max_length):
                source_ids = self.source_tokenizer(texts)
                tokens, weights = self.decode_ids(source_ids, max_length, sampler, return_attention)
                return source_ids, tokens, weights, self.target_tokenizer.detokenize(tokens)

            self._decode_functions.functions[key] = decode
        return self._decode_functions.functions[key]

    def translate(self, texts, beam_width=1, max_length=None, length_penalty=0.0, return_attention=False):
        """Translates a string or a list of strings.

        Decoding (greedy, or beam search with the GNMT length penalty) runs in a `tf.function`
        while loop over the whole batch and stops when every sentence has produced the end
        token. Input longer than `max_source_length` tokens is truncated to its first tokens;
        an empty input gives the model's translation of nothing (often an empty string).

        Args:
            texts: a string or a list of strings.
            beam_width: 1 for greedy decoding (beam search with one beam gives the same), more
                for beam search.
            max_length: most output tokens; default `max_target_length`.
            length_penalty: GNMT `α >= 0` of beam search; 0 ranks by log-probability.
            return_attention: if True also return, per input, a dict with `source_tokens`,
                `target_tokens` and `weights` `(len(target_tokens), len(source_tokens))`.

        Returns:
            A string for a string, a list of strings for a list (and the attention list).
        """
        self._require_layers()
        texts, single = check_texts(texts, "texts")
        if isinstance(beam_width, bool) or not isinstance(beam_width, int) or beam_width < 1:
            raise ValueError(f"`beam_width` must be an int >= 1. Received: beam_width={beam_width!r}")
        if max_length is None:
            max_length = self.max_target_length
        if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
            raise ValueError(f"`max_length` must be a positive int or None. Received: max_length={max_length!r}")
        decode = self._decode_function(beam_width, length_penalty, bool(return_attention))
        if texts:
            source_ids, tokens, weights, out = decode(tf.constant(texts), tf.constant(max_length, tf.int32))
            translations = [t.decode("utf-8") for t in out.numpy()]
        else:
            translations = []
        if not return_attention:
            return translations[0] if single else translations
        attention = [self._attention_record(*row) for row in zip(source_ids.numpy(), tokens.numpy(), weights.numpy())] if texts else []
        return (translations[0], attention[0]) if single else (translations, attention)

    def _attention_record(self, source_ids, tokens, weights):
        source = [self.source_tokenizer.vocabulary[i] for i in source_ids if i != 0]
        end = next((i + 1 for i, t in enumerate(tokens) if t in (0, 3)), len(tokens))
        target = [self.target_tokenizer.vocabulary[i] for i in tokens[:end]]
        return {"source_tokens": source, "target_tokens": target, "weights": weights[:end, : len(source)]}

    # === Export ===
    def export(self, path, format="tf_saved_model", beam_width=4, length_penalty=0.0, quantize=False, max_length=None):
        """Exports to a SavedModel or a TFLite file.

        Args:
            path: a directory (SavedModel) or a `.tflite` file path.
            format: "tf_saved_model" (signatures `serving_default`, greedy, and `beam`, both
                strings `(batch,)` in, `{"translations": strings}` out; needs only tensorflow
                and tensorflow_text to load) or "litert" (the whole decoding loop in a
                `.tflite` file with builtin ops only, batch size 1, token ids in and out;
                tokenization runs beside it from the vocabularies in the `PATH.json` sidecar;
                run it with `kzoo.export.load_tflite(path).translate(texts)`).
            beam_width: beam of the SavedModel's `beam` signature, or of the TFLite loop (1 is
                greedy).
            length_penalty: GNMT `α` of that beam search.
            quantize: TFLite only: dynamic-range int8 quantization of the weights.
            max_length: most output tokens; default `max_target_length`.
        """
        self._require_layers()
        max_length = max_length or self.max_target_length
        if format == "tf_saved_model":
            return save_translator(self, path, beam_width, length_penalty, max_length)
        if format != "litert":
            raise ValueError(f"`format` must be 'tf_saved_model' or 'litert'. Received: format={format!r}")
        sampler = "greedy" if beam_width == 1 else samplers_lib.BeamSampler(beam_width, length_penalty)

        @tf.function
        def decode(source_ids):
            tokens, _ = self.decode_ids(source_ids, max_length, sampler, collect_attention=False)
            return tokens

        litert.convert(decode, [tf.TensorSpec([1, None], tf.int32)], path, quantize=quantize)
        litert.write_metadata(
            path,
            "translator",
            source_tokenizer=self.source_tokenizer.get_config(),
            target_tokenizer=self.target_tokenizer.get_config(),
            beam_width=beam_width,
            max_length=max_length,
        )
        return path

    # === Config ===
    def get_config(self):
        config = super().get_config()
        config.update(
            source_vocabulary=self.source_tokenizer.vocabulary,
            target_vocabulary=self.target_tokenizer.vocabulary,
            tokenizer=self.tokenizer,
            lowercase=self.lowercase,
            max_vocabulary_size=self.max_vocabulary_size,
            embedding_dim=self.embedding_dim,
            units=self.units,
            cell=self.cell,
            bidirectional=self.bidirectional,
            num_layers=self.num_layers,
            attention=self.attention,
            score=self.score,
            window=self.window,
            input_feeding=self.input_feeding,
            dropout=self.dropout,
            scheduled_sampling=schedules.to_config(self.scheduled_sampling),
            max_source_length=self.max_source_length,
            max_target_length=self.max_target_length,
            seed=self.seed,
        )
        return config


@litert.register_runner("translator")
class TFLiteTranslator:
    """Runs a `.tflite` exported by `Translator.export(path, format="litert")`.

    Tokenization and detokenization run beside the interpreter with the vocabularies of the
    sidecar `PATH.json`; the interpreter (batch size 1) runs once per sentence.
    """

    def __init__(self, path, metadata):
        self.path = os.fspath(path)
        self.metadata = metadata
        self.source_tokenizer = Tokenizer.from_config(metadata["source_tokenizer"])
        self.target_tokenizer = Tokenizer.from_config(metadata["target_tokenizer"])
        self.interpreter = litert.interpreter(self.path)

    def translate(self, texts):
        """A string for a string, a list of strings for a list."""
        texts, single = check_texts(texts, "texts")
        if not texts:
            return []
        source_ids = self.source_tokenizer(tf.constant(texts)).numpy()
        outputs = []
        for row in source_ids:
            length = max(1, int(np.count_nonzero(row)))
            (tokens,) = litert.run(self.interpreter, row[None, :length].astype(np.int32))
            outputs.append(tokens[0])
        width = max(len(t) for t in outputs)
        tokens = np.stack([np.pad(t, (0, width - len(t))) for t in outputs])
        translations = [t.decode("utf-8") for t in self.target_tokenizer.detokenize(tokens).numpy()]
        return translations[0] if single else translations
