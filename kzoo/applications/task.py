"""The shared core of kzoo's text-generating applications (Translator, Captioner, ...).

`SequenceGenerator` owns everything a generating application has in common: `call` (encoder ->
bridge -> attention decoder), the compile defaults saved with the model, `fit` / `evaluate` on
raw `(input, text)` data through the application's preprocessing, the sampled-softmax training
step, in-graph greedy and beam decoding with the attention weights, and export to a SavedModel
(raw input in, text out) and to TFLite (the whole decoding loop). An application supplies only:

- `preprocess(raw)`: a batch of raw input (strings, images, ...) -> the encoder's input, in graph;
- `encode(inputs, training)`: the encoder contract, `(memory (B, S, D), mask (B, S), states)`,
  where `states` is a list per decoder layer of initial states, or None (then `self.bridge`, if
  the application has one, maps the memory to them);
- `raw_input_spec` and `tflite_input_spec`: `tf.TensorSpec`s of the raw input of `generate` and
  of the TFLite loop's input (batch size 1; `tflite_input` maps it to the encoder input);
- `check_raw(inputs)`: validates user input of `generate`, returning `(batch, was_single)`;
- `output_name` (the SavedModel output key, e.g. "translations") and `tflite_metadata()`.

References: see `kzoo.seq2seq.decoder` (attention decoder, scheduled sampling) and
`kzoo.seq2seq.samplers` (greedy and beam search).
"""

import functools
import os

import keras
import numpy as np
import tensorflow as tf

from kzoo.applications.compile_defaults import CompileDefaultsMixin, check_ema_momentum, default_adam, ema_callbacks
from kzoo.applications.embeddings import embedding_callbacks
from kzoo.data.pipeline import no_epoch_end_warning
from kzoo.export import litert
from kzoo.export.savedmodel import check_format, save_signatures
from kzoo.seq2seq import samplers as samplers_lib
from kzoo.seq2seq.losses import MaskedSparseCrossEntropy, MaskedTokenAccuracy, sampled_softmax_loss
from kzoo.text.tokenizer import END, PAD, START, UNK, check_texts
from kzoo.training.backup import resume_data_order
from kzoo.training.distribute import DistributedTrainStep, shard_by_data

__all__ = ["SequenceGenerator", "TFLiteSequenceGenerator"]


class _FunctionCache:
    """Holds compiled decoding functions out of sight of Keras and SavedModel tracking."""

    def __init__(self):
        self.functions = {}


def check_return_attention(value):
    """`value` as a bool, or a clear error when it is not True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`return_attention` must be True or False. Received: return_attention={value!r}")
    return bool(value)


def own_identity(function):
    """`function` under an identity of its own, for `tf.function`.

    TensorFlow counts the traces of every `tf.function` built from the same code object together
    and warns of "excessive retracing" after five: each model's first `translate()` /
    `caption()` / `transcribe()` traces its own decoding function, so several models in one
    process (a notebook comparing three) would warn though nothing retraces. A `partial` has no
    code object, so TensorFlow keys its counts on this one function.
    """
    return functools.partial(function)


def check_beam_width(beam_width):
    """Checks a beam width: an int in [1, 1000]. Wider beams are not better (Koehn and Knowles
    2017 measured up to 1000), and a search holds beam_width x max_length rows per input."""
    if isinstance(beam_width, bool) or not isinstance(beam_width, int) or not 1 <= beam_width <= 1000:
        raise ValueError(f"`beam_width` must be an int in [1, 1000]. Received: beam_width={beam_width!r}")


@keras.saving.register_keras_serializable(package="kzoo")
class SequenceGenerator(CompileDefaultsMixin, DistributedTrainStep, keras.Model):
    """Base of the applications that generate text from an input (see the module docstring)."""

    output_name = "texts"  # the SavedModel's output key
    tflite_kind = None  # the kind named in the TFLite sidecar (`kzoo.export.load_tflite`)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._decode_functions = _FunctionCache()

    # === Hooks an application supplies (abstract: each application overrides them) ===
    def _missing_hook(self, name):
        return NotImplementedError(f"{type(self).__name__} must implement `{name}` (a SequenceGenerator hook).")

    def preprocess(self, raw):
        """Raw input batch -> encoder input, in graph."""
        raise self._missing_hook("preprocess")

    def encode(self, inputs, training=None):
        """Encoder input -> `(memory, mask, states or None)`."""
        raise self._missing_hook("encode")

    def check_raw(self, inputs):
        """User input of `generate` -> `(batch, was_single)`, with clear errors."""
        raise self._missing_hook("check_raw")

    def tflite_metadata(self):
        return {}

    def tflite_input(self, x):
        """The encoder input from the TFLite loop's input (`tflite_input_spec`); by default the same."""
        return x

    def _require_layers(self):
        if not hasattr(self, "decoder"):
            raise ValueError(
                f"The {type(self).__name__} has no vocabulary yet: call `adapt(...)` first, or pass the vocabularies to the constructor."
            )

    # === Forward ===
    def _sampling_probability(self, training):
        if training and self.scheduled_sampling is not None and self.optimizer is not None:
            return self.scheduled_sampling(self.optimizer.iterations)
        return None

    def decoder_start(self, inputs, training=None):
        """`(memory, memory_mask, initial_state)`: the encoder, then the bridge if the encoder
        gives no states."""
        memory, memory_mask, states = self.encode(inputs, training=training)
        if states is None and getattr(self, "bridge", None) is not None:
            states = self.bridge(memory, memory_mask)
        return memory, memory_mask, states

    def call(self, inputs, training=None, return_features=False):
        """Teacher-forced logits `(batch_size, T, vocabulary)` from `(encoder_input, target_in_ids)`
        (or, with `return_features`, the output layer's inputs `(batch_size, T, units)`)."""
        encoder_input, target_in = inputs
        memory, memory_mask, states = self.decoder_start(encoder_input, training=training)
        return self.teacher_forced(memory, memory_mask, states, target_in, training, return_features)

    def teacher_forced(self, memory, memory_mask, states, target_in, training=None, return_features=False):
        """The attention decoder's logits (or features) over the reference tokens `target_in`."""
        outputs, details = self.decoder(
            target_in,
            memory,
            memory_mask,
            initial_state=states,
            sampling_probability=self._sampling_probability(training),
            training=training,
            return_features=return_features,
            return_details=True,
        )
        if training:
            self.attention_penalty(details["attention"], target_in)
        return outputs

    def attention_penalty(self, weights, target_in):
        """Hook: adds a training loss on the attention weights `(B, T, S)` (default none)."""

    # === Training ===
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
            # This replica's share of the mean over the global batch's tokens (Keras divides
            # its own losses by the replica count; `token_mean` and this do the same).
            loss = sampled_softmax_loss(y, features, output.kernel, output.bias, self._num_sampled, seed=self.seed)
            if self.losses:
                loss = loss + tf.add_n(self.losses) / tf.distribute.get_strategy().num_replicas_in_sync
        return self.finish_train_step(tape, loss, x, y, tf.stop_gradient(output(features)), sample_weight)

    def compile(
        self,
        optimizer="adam",
        loss=None,
        metrics=None,
        label_smoothing=0.0,
        learning_rate=3e-3,
        num_sampled=None,
        ema_momentum=None,
        **kwargs,
    ):
        """Defaults: Adam (`learning_rate`, gradient norm clipped at 5), masked cross-entropy
        (optional label smoothing), and `default_metrics()`: masked token accuracy and kzoo's
        token-level macro precision, recall and F1.

        Args:
            num_sampled: None (default) trains on the full softmax; an int estimates it, with
                the default loss, from this many sampled vocabulary rows per step (Jean et al.
                2015; see `kzoo.seq2seq.sampled_softmax_loss`), which makes the output layer's
                cost small next to the recurrent layers'. It learns less per step (see the
                README). The full softmax is used anyway when the vocabulary has fewer than
                `2 * num_sampled` tokens, with label smoothing, with a custom `loss`, and when
                training runs step by step (input feeding, scheduled sampling). Evaluation
                always uses the full softmax.
            ema_momentum: None (default), or a momentum in (0, 1): the default Adam then keeps
                an exponential moving average of the weights, `a <- m·a + (1 - m)·w` after every
                step (Polyak and Juditsky 1992), and `fit` validates with the average, hands it to
                callbacks such as early stopping at every epoch's end, and leaves it in the model
                (`kzoo.applications.compile_defaults`). 0.99 averages about the last 100 steps.
        """
        self._require_layers()
        check_ema_momentum(ema_momentum, optimizer)
        if num_sampled is not None and (isinstance(num_sampled, bool) or not isinstance(num_sampled, int) or num_sampled < 1):
            raise ValueError(f"`num_sampled` must be a positive int or None. Received: num_sampled={num_sampled!r}")
        defaults = optimizer == "adam" and loss is None and metrics is None and not kwargs
        self._default_compile = (
            {"label_smoothing": label_smoothing, "learning_rate": learning_rate, "num_sampled": num_sampled,
             "ema_momentum": ema_momentum}
            if defaults
            else None
        )
        self._num_sampled = num_sampled if loss is None and label_smoothing == 0 else None
        if optimizer == "adam":
            optimizer = default_adam(learning_rate, ema_momentum)
        super().compile(
            optimizer=optimizer,
            loss=loss or MaskedSparseCrossEntropy(label_smoothing=label_smoothing),
            metrics=metrics if metrics is not None else self.default_metrics(),
            **kwargs,
        )

    def default_metrics(self):
        """Masked token accuracy and kzoo's token-level precision, recall and F1 over the output
        vocabulary (macro average over the tokens that occur, padding ignored)."""
        from kzoo import metrics as metrics_lib

        args = {
            "task": "multiclass",
            "num_classes": self.decoder.vocabulary_size,
            "average": "macro",
            "from_logits": True,
            "ignore_index": PAD,
            "zero_division": float("nan"),  # tokens never seen nor predicted leave the average
        }
        return [
            MaskedTokenAccuracy(),
            metrics_lib.Precision(name="token_precision", **args),
            metrics_lib.Recall(name="token_recall", **args),
            metrics_lib.F1Score(name="token_f1", **args),
        ]

    def prepare(self, raw, text):
        """Maps a batch of `(raw input, target text)` to `((encoder_input, target_in), target_out)`."""
        target_ids = self.target_tokenizer(text, add_start=True, add_end=True)
        return (self.preprocess(raw), target_ids[:, :-1]), target_ids[:, 1:]

    def _is_raw_dataset(self, data):
        spec = data.element_spec
        if not (isinstance(spec, tuple) and len(spec) == 2 and getattr(spec[1], "dtype", None) == tf.string):
            return False
        given, expected = tf.nest.flatten(spec[0]), tf.nest.flatten(self.raw_input_spec)
        return len(given) == len(expected) and all(g.dtype == e.dtype for g, e in zip(given, expected))

    def raw_batches(self, data):
        """Hook: a user's `tf.data.Dataset` -> batches of `(raw input, text)` (default: as given)."""
        return data

    def _as_ids(self, data):
        if isinstance(data, tf.data.Dataset):
            data = self.raw_batches(data)
            if self._is_raw_dataset(data):
                data = data.map(self.prepare, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
            return shard_by_data(data)
        return data

    def make_dataset(self, x, y, batch_size=64, shuffle=True):
        """A dataset of batched `(raw input, text)` from Python lists; the application decides
        (e.g. bucketing sentences by length)."""
        raise self._missing_hook("make_dataset")

    def fit(self, x=None, y=None, batch_size=None, validation_data=None, **kwargs):
        """`keras.Model.fit` that also takes raw data: a `tf.data.Dataset` of batched `(raw
        input, target strings)`, or `x` raw inputs with `y` the target strings (batched with
        `batch_size`, default 64, see `make_dataset`)."""
        self._require_layers()
        if x is not None and not isinstance(x, tf.data.Dataset) and y is not None:
            x = self.make_dataset(x, y, batch_size=batch_size or 64, shuffle=True)
            y = batch_size = None
        if isinstance(validation_data, tuple) and len(validation_data) == 2 and isinstance(validation_data[0], (list, np.ndarray)):
            validation_data = self.make_dataset(*validation_data, shuffle=False)
        validation_data = self._as_ids(validation_data) if validation_data is not None else None
        kwargs["callbacks"] = ema_callbacks(self, embedding_callbacks(self, kwargs.get("callbacks")))
        if isinstance(x, tf.data.Dataset):
            kwargs.setdefault("shuffle", False)  # a Dataset shuffles itself; Keras warns otherwise
        x = self._as_ids(x)
        resume_data_order(kwargs["callbacks"], x)
        with no_epoch_end_warning(kwargs.get("steps_per_epoch")):
            return super().fit(x, y, batch_size=batch_size, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, **kwargs):
        if x is not None and not isinstance(x, tf.data.Dataset) and y is not None:
            x, y = self.make_dataset(x, y, batch_size=kwargs.pop("batch_size", None) or 64, shuffle=False), None
        return super().evaluate(self._as_ids(x), y, **kwargs)

    # === Decoding ===
    def sampler(self, beam_width=1, length_penalty=0.0):
        """Greedy (`beam_width=1`) or beam search over the target tokenizer's ids."""
        ids = {"start_id": START, "end_id": END, "banned_ids": (PAD, UNK, START)}
        if beam_width == 1:
            return samplers_lib.GreedySampler(**ids)
        return samplers_lib.BeamSampler(beam_width, length_penalty, **ids)

    def decode_ids(self, encoder_input, max_length, sampler="greedy", collect_attention=True):
        """Decodes in graph with a sampler (an object or a name, see `kzoo.seq2seq.samplers.get`):
        `(tokens (B, L), weights (B, L, S))`."""
        memory, memory_mask, states = self.decoder_start(encoder_input, training=False)
        state = self.decoder.initial_state(states, tf.shape(memory)[0], memory.dtype)
        sampler = samplers_lib.get(sampler)
        shortlist = self.decode_candidates(encoder_input)
        candidates, projection = None, None
        if shortlist is not None:  # the sampler works on positions in `candidates`
            candidates, allowed = shortlist
            kernel, bias = self.decoder.shortlist_projection(candidates)
            # Once per batch, not per step: a row's words outside its own shortlist get a bias
            # of -1e9. Rows are sentences, or the beams of a sentence side by side.
            bias = tf.where(allowed, bias[None, :], tf.cast(-1e9, bias.dtype))
            projection = (kernel, tf.repeat(bias, getattr(sampler, "beam_width", 1), axis=0))

        def step(tokens, state, memory, memory_mask, t):
            if candidates is not None:
                tokens = tf.gather(candidates, tokens)
            logits, state, weights = self.decoder.step(tokens, state, memory, memory_mask, t, training=False, projection=projection)
            return logits, state, weights if collect_attention else None

        tokens, weights = sampler(step, state, memory, memory_mask, max_length)
        return (tokens, weights) if candidates is None else (tf.gather(candidates, tokens), weights)

    def decode_candidates(self, encoder_input):
        """None to decode over the whole target vocabulary, or `(candidates (K,), allowed (B, K))`
        (`kzoo.seq2seq.shortlist_candidates`); an application with a shortlist overrides it."""
        return None

    def decode_raw(self, raw, max_length, sampler="greedy"):
        """Raw input `(B, ...)` -> generated strings `(B,)`, all in graph (what the SavedModel serves)."""
        tokens, _ = self.decode_ids(self.preprocess(raw), max_length, sampler, collect_attention=False)
        return self.target_tokenizer.detokenize(tokens)

    def _decode_function(self, beam_width, length_penalty, return_attention):
        key = (beam_width, float(length_penalty), return_attention)
        if key not in self._decode_functions.functions:
            sampler = self.sampler(beam_width, length_penalty)

            def decode(raw, max_length):
                encoder_input = self.preprocess(raw)
                tokens, weights = self.decode_ids(encoder_input, max_length, sampler, return_attention)
                return encoder_input, tokens, weights, self.target_tokenizer.detokenize(tokens)

            self._decode_functions.functions[key] = tf.function(
                own_identity(decode), input_signature=[self.raw_input_spec, tf.TensorSpec([], tf.int32)], reduce_retracing=True
            )
        return self._decode_functions.functions[key]

    def generate(self, inputs, beam_width=1, max_length=None, length_penalty=0.0, return_attention=False):
        """Generated text for one input or a batch (see the application's own method).

        Returns:
            A string for a single input, a list of strings for a batch; with
            `return_attention=True` also one `attention_record` per input.
        """
        self._require_layers()
        batch, single = self.check_raw(inputs)
        check_beam_width(beam_width)
        if max_length is None:
            max_length = self.max_target_length
        if isinstance(max_length, bool) or not isinstance(max_length, int) or not 1 <= max_length <= self.max_target_length:
            raise ValueError(
                f"`max_length` must be None or an int in [1, {self.max_target_length}] (the model's longest output). "
                f"Received: max_length={max_length!r}"
            )
        if isinstance(length_penalty, bool) or not isinstance(length_penalty, (int, float)) or not 0 <= length_penalty < float("inf"):
            raise ValueError(f"`length_penalty` must be a finite float >= 0. Received: length_penalty={length_penalty!r}")
        return_attention = check_return_attention(return_attention)
        decode = self._decode_function(beam_width, length_penalty, return_attention)
        several = isinstance(batch, tuple)  # raw input made of several tensors (e.g. audio, lengths)
        size = len(batch[0]) if several else len(batch)
        if size:
            raw = tuple(tf.constant(part) for part in batch) if several else tf.constant(batch)
            encoder_input, tokens, weights, out = decode(raw, tf.constant(max_length, tf.int32))
            texts = [t.decode("utf-8") for t in out.numpy()]
        else:
            texts = []
        if not return_attention:
            return texts[0] if single else texts
        if size:
            if isinstance(encoder_input, tuple):
                arrays = [t.numpy() for t in encoder_input]
                rows = [tuple(a[i] for a in arrays) for i in range(size)]
            else:
                rows = encoder_input.numpy()
            records = [self.attention_record(*row) for row in zip(rows, tokens.numpy(), weights.numpy())]
        else:
            records = []
        return (texts[0], records[0]) if single else (texts, records)

    def output_tokens(self, tokens):
        """The generated tokens up to and including `[END]`, as strings."""
        end = next((i + 1 for i, t in enumerate(tokens) if t in (PAD, END)), len(tokens))
        return [self.target_tokenizer.vocabulary[i] for i in tokens[:end]], end

    def attention_record(self, encoder_input, tokens, weights):
        """Per input, a dict of the generated tokens and their attention weights."""
        raise self._missing_hook("attention_record")

    # === Export ===
    def serving_signatures(self):
        """`{name: (input_spec, raw_fn)}` of the SavedModel: by default the raw input."""
        return {"serving_default": (self.raw_input_spec, self.preprocess)}

    def export(self, path, format="tf_saved_model", beam_width=4, length_penalty=0.0, quantize=False, max_length=None):
        """Exports to a SavedModel or a TFLite file.

        Args:
            path: a directory (SavedModel) or a `.tflite` file path.
            format: "tf_saved_model" (every serving signature greedy, plus `beam`, raw input in,
                `{output_name: strings}` out; loads without kzoo) or "litert" (the whole
                decoding loop in a `.tflite` file with builtin ops only, batch size 1; run it
                with `kzoo.export.load_tflite(path)`).
            beam_width: beam of the SavedModel's `beam` signature, or of the TFLite loop (1 is
                greedy).
            length_penalty: GNMT `α` of that beam search.
            quantize: TFLite only: True / "int8" (dynamic-range int8 weights) or "float16"
                (float16 weights); see `kzoo.export.convert`.
            max_length: most output tokens; default `max_target_length`.
        """
        self._require_layers()
        max_length = max_length or self.max_target_length
        beam = self.sampler(beam_width, length_penalty)
        if check_format(format) == "tf_saved_model":
            signatures = {}
            for name, (spec, to_input) in self.serving_signatures().items():
                signatures[name] = self._serving_function(to_input, spec, self.sampler(), max_length)
            signatures["beam"] = self._serving_function(self.preprocess, self.raw_input_spec, beam, max_length)
            return save_signatures(self, path, signatures)

        @tf.function
        def decode(tflite_input):
            return self.tflite_decode(tflite_input, max_length, beam)

        litert.convert(decode, [self.tflite_input_spec], path, quantize=quantize)
        litert.write_metadata(
            path,
            self.tflite_kind,
            target_tokenizer=keras.saving.serialize_keras_object(self.target_tokenizer),
            beam_width=beam_width,
            max_length=max_length,
            **self.tflite_metadata(),
        )
        return path

    def tflite_decode(self, tflite_input, max_length, sampler):
        """What the `.tflite` file computes for one input: the generated tokens `(1, L)`; a
        subclass may return more outputs after them (its runner reads them)."""
        tokens, _ = self.decode_ids(self.tflite_input(tflite_input), max_length, sampler, collect_attention=False)
        return tokens

    def _serving_function(self, to_input, spec, sampler, max_length):
        output_name = self.output_name
        several = isinstance(spec, tuple)  # a signature with several named inputs

        @tf.function(input_signature=list(spec) if several else [spec])
        def serve(*raw):
            encoder_input = to_input(raw if several else raw[0])
            tokens, _ = self.decode_ids(encoder_input, max_length, sampler, collect_attention=False)
            return {output_name: self.target_tokenizer.detokenize(tokens)}

        return serve.get_concrete_function()



class TFLiteSequenceGenerator:
    """Runs a `.tflite` exported by any generating application's `export(path, format="litert")`.

    The interpreter (batch size 1) runs the encoder and the whole decoding loop once per input;
    what the loop cannot hold runs beside it from the sidecar `PATH.json`: tokenization of text
    input (`source_tokenizer`), image decoding and resizing (`image_size`), and detokenization.
    `translate`, `caption` and `generate` are the same method.
    """

    def __init__(self, path, metadata):
        from kzoo.text.tokenizer import Tokenizer

        self.path = os.fspath(path)
        self.metadata = metadata
        target = metadata["target_tokenizer"]
        self.target_tokenizer = (
            keras.saving.deserialize_keras_object(target) if "class_name" in target else Tokenizer.from_config(target)
        )
        self.source_tokenizer = (
            Tokenizer.from_config(metadata["source_tokenizer"]) if "source_tokenizer" in metadata else None
        )
        self.interpreter = litert.interpreter(self.path)

    def encoder_inputs(self, inputs):
        """Per input, the `(1, ...)` array the loop takes, and whether a single input was given."""
        if self.source_tokenizer is not None:
            texts, single = check_texts(inputs, "texts")
            rows = self.source_tokenizer(tf.constant(texts)).numpy() if texts else []
            return [row[None, : max(1, int(np.count_nonzero(row)))].astype(np.int32) for row in rows], single
        from kzoo.vision.images import check_images, resize_to_model

        images, single = check_images(inputs)
        size = tuple(self.metadata["image_size"])
        return [resize_to_model([image], size) for image in images], single

    def generate(self, inputs):
        """A string for a single input, a list of strings for a batch."""
        arrays, single = self.encoder_inputs(inputs)
        texts = self.run_all(arrays)
        return texts[0] if single else texts

    def run_all(self, arrays):
        """The loop on each `(1, ...)` input array -> the generated strings."""
        if not arrays:
            return []
        outputs = [litert.run(self.interpreter, array)[0][0] for array in arrays]
        width = max(len(t) for t in outputs)
        tokens = np.stack([np.pad(t, (0, width - len(t))) for t in outputs])
        return [t.decode("utf-8") for t in self.target_tokenizer.detokenize(tokens).numpy()]

    translate = generate
    caption = generate
