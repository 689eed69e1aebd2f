"""A SequenceGenerator whose encoder feeds a CTC head, an attention decoder, or both.

- `decoder="ctc"`: a linear CTC head over the characters plus the blank (Graves et al. 2006);
  greedy decoding collapses repeats and drops blanks, beam search is TensorFlow's CTC prefix
  beam search.
- `decoder="attention"`: the shared attention decoder over characters (Chan et al. 2016,
  Listen, Attend and Spell), started from the mean of the memory through `MeanBridge`.
- `decoder="joint"` (default): both, trained on `ctc_weight · L_ctc + (1 − ctc_weight) · L_att`
  (Watanabe et al. 2017): the CTC loss pushes the encoder towards monotonic alignments and the
  attention decoder's loss adds a character-level language model to what the encoder learns.
  Transcripts come from the head named by `decode_with`: the CTC head by default (on speakers
  held out of training it made far fewer errors than the attention decoder of the same model:
  see benchmarks/README.md), or the attention decoder.

`CTCAttentionGenerator` holds what these heads add to the shared core
(`kzoo.applications.task.SequenceGenerator`): the layers, the forward pass, the loss, the
error-rate metrics and CTC decoding. `kzoo.applications.SpeechToText` supplies the audio.

References:
    Graves, Fernández, Gomez, Schmidhuber (2006), "Connectionist Temporal Classification".
    Chan, Jaitly, Le, Vinyals (2016), "Listen, Attend and Spell". Watanabe, Hori, Kim, Hershey,
    Hayashi (2017), "Hybrid CTC/Attention Architecture for End-to-End Speech Recognition".
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kzoo.applications.ctc_fusion import fused_transcript, label_scorer, resolve_fusion
from kzoo.applications.task import SequenceGenerator, own_identity
from kzoo.audio.batches import audio_inputs, pad_waveforms
from kzoo.seq2seq.ctc import (
    ctc_greedy_decode,
    ctc_log_likelihoods,
    ctc_loss,
    ctc_tf_beam_decode,
)
from kzoo.seq2seq.ctc_lexicon import ctc_lexicon_decode, word_edit_search
from kzoo.seq2seq.decoder import AttentionDecoder
from kzoo.seq2seq.samplers import BeamSampler
from kzoo.text.tokenizer import END, PAD, START, UNK
from kzoo.training.distribute import num_replicas

__all__ = ["CTCAttentionGenerator", "DECODERS"]

DECODERS = ("ctc", "attention", "joint")


class CTCAttentionGenerator(SequenceGenerator):
    """Base of the generators with a CTC head and / or an attention decoder over one encoder.

    A subclass sets, before `_make_layers()`: `decoder_kind` (one of `DECODERS`), `ctc_weight`,
    `decode_with`, `units`, `embedding_dim`, `score`, `dropout`, `seed`, a `target_tokenizer`,
    and the error-rate metrics `wer` and `cer`; `ctc_posteriors` takes audio at `sample_rate`.
    """

    @property
    def decode_with(self):
        return self._decode_with

    @decode_with.setter
    def decode_with(self, head):
        default = "attention" if self.decoder_kind == "attention" else "ctc"
        allowed = {"ctc": ("ctc",), "attention": ("attention",), "joint": ("ctc", "attention")}[self.decoder_kind]
        if head is not None and head not in allowed:
            raise ValueError(
                f"`decode_with` must be one of {allowed} for decoder={self.decoder_kind!r}. Received: decode_with={head!r}"
            )
        self._decode_with = head or default
        self._decode_functions.functions.clear()  # compiled decoding of the other head

    # === Layers ===
    def _make_layers(self):
        size = self.target_tokenizer.vocabulary_size
        self.ctc_head = keras.layers.Dense(size, name="ctc_head") if self.decoder_kind != "attention" else None
        self.decoder = None
        if self.decoder_kind != "ctc":
            self.decoder = AttentionDecoder(
                size, self.embedding_dim, self.units, attention="global", score=self.score,
                dropout=self.dropout, seed=self.seed, name="decoder",
            )

    def call(self, inputs, training=None):
        """`((waveforms, lengths), target_in)` -> a dict: `ctc_logits (B, S, V)` and
        `ctc_lengths (B,)` with a CTC head, `logits (B, T, V)` (teacher forced) with a decoder."""
        audio, target_in = inputs
        memory, memory_mask, states = self.decoder_start(audio, training=training)
        outputs = {}
        if self.ctc_head is not None:
            outputs["ctc_logits"] = self.ctc_head(memory)
            outputs["ctc_lengths"] = ops.sum(ops.cast(memory_mask, "int32"), axis=1)
        if self.decoder is not None:
            outputs["logits"] = self.teacher_forced(memory, memory_mask, states, target_in, training)
        return outputs

    def default_metrics(self):
        return super().default_metrics() if self.decoder is not None else []

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """`ctc_weight · L_ctc + (1 − ctc_weight) · L_attention` (joint), or either alone. The CTC
        loss is the mean over the batch of each transcript's negative log-likelihood; an
        utterance with too few frames for its transcript contributes 0. Under `tf.distribute`
        each part is this replica's share, divided by the replica count as Keras divides its
        own losses."""
        parts, replicas = [], num_replicas()
        if "ctc_logits" in y_pred:
            labels = ops.where(ops.equal(y, END), 0, y)  # target_out ends with [END]: not a CTC label
            nll = ctc_loss(labels, y_pred["ctc_logits"], y_pred["ctc_lengths"])
            # A path needs a frame per label and one more between repeated labels; an
            # utterance with fewer frames has no path (TensorFlow's loss is then a large
            # constant with a meaningless gradient) and is left out.
            repeats = ops.sum(ops.cast((labels[:, 1:] == labels[:, :-1]) & (labels[:, 1:] > 0), "int32"), axis=1)
            needed = ops.sum(ops.cast(labels > 0, "int32"), axis=1) + repeats
            nll = ops.where(y_pred["ctc_lengths"] >= needed, nll, 0.0)
            weight = self.ctc_weight if "logits" in y_pred else 1.0
            parts.append(weight * ops.mean(nll) / replicas)
        if "logits" in y_pred:
            weight = 1.0 - self.ctc_weight if "ctc_logits" in y_pred else 1.0
            parts.append(weight * super().compute_loss(x, y, y_pred["logits"], sample_weight, training))
        elif self.losses:
            parts.append(ops.sum(ops.stack(self.losses)) / replicas)
        return ops.sum(ops.stack(parts))

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if "ctc_logits" in y_pred:
            hypotheses = ctc_greedy_decode(y_pred["ctc_logits"], y_pred["ctc_lengths"])
        else:
            hypotheses = ops.argmax(y_pred["logits"], axis=-1)
        references = self.target_tokenizer.detokenize(y)
        hypotheses = self.target_tokenizer.detokenize(hypotheses)
        self.wer.update_state(references, hypotheses)
        self.cer.update_state(references, hypotheses)
        # The compiled metrics (token metrics of the attention decoder; none for CTC alone).
        logits = y_pred["logits"] if "logits" in y_pred else y_pred["ctc_logits"]
        return super().compute_metrics(x, y, logits, sample_weight)

    def decode_ids(self, encoder_input, max_length, sampler="greedy", collect_attention=True):
        """The core's attention decoding, or with `decode_with="ctc"` the CTC head's greedy or
        beam transcript; `weights` are then the CTC posteriors `(B, S, V)` (the posteriogram)."""
        if self.decode_with == "attention":
            return super().decode_ids(encoder_input, max_length, sampler, collect_attention)
        memory, memory_mask, _ = self.encode(encoder_input, training=False)
        logits = self.ctc_head(memory)  # (B, S, V)
        lengths = ops.sum(ops.cast(memory_mask, "int32"), axis=1)
        if isinstance(sampler, BeamSampler) and sampler.beam_width > 1:
            tokens = ctc_tf_beam_decode(logits, lengths, sampler.beam_width)
        else:
            tokens = ctc_greedy_decode(logits, lengths)
        tokens = tokens[:, :max_length]
        return tokens, ops.softmax(logits, axis=-1) if collect_attention else None

    def export(self, path, format="tf_saved_model", beam_width=4, length_penalty=0.0, quantize=False, max_length=None):
        if format == "litert" and self.decode_with == "ctc" and beam_width > 1:
            raise ValueError(
                "The TFLite export of a CTC model decodes greedily (CTC beam search has no builtin "
                f"TFLite op): pass beam_width=1. Received: beam_width={beam_width!r}"
            )
        return super().export(path, format, beam_width, length_penalty, quantize, max_length)

    def tflite_decode(self, tflite_input, max_length, sampler):
        """Decoding with the CTC head, the `.tflite` file also returns the posteriors `(1, S, V)`,
        which its runner decodes with a language model (`kzoo.applications.ctc_fusion`)."""
        if self.decode_with != "ctc":
            return super().tflite_decode(tflite_input, max_length, sampler)
        return self.decode_ids(self.tflite_input(tflite_input), max_length, sampler, collect_attention=True)

    def lexicon_labels(self, lexicon, beam_width=1):
        """Checks a decoding lexicon (a list of words) -> `(words, labels, separator)`: the
        normalised words, their label ids and the space's id (None if the vocabulary has none:
        then each recording reads as one word)."""
        if self.decode_with != "ctc":
            raise ValueError(
                "`lexicon` decoding searches the CTC head's paths: it needs decode_with='ctc'. "
                f"Received: decode_with={self.decode_with!r} (decoder={self.decoder_kind!r})"
            )
        if beam_width != 1:
            raise ValueError(f"`lexicon` decoding is an exact best-path search: pass beam_width=1. Received: beam_width={beam_width!r}")
        if isinstance(lexicon, str) or not isinstance(lexicon, (list, tuple)) or not lexicon:
            raise ValueError(f"`lexicon` must be a non-empty list of words. Received: lexicon={lexicon!r}")
        for word in lexicon:
            if not isinstance(word, str) or not word.strip() or len(word.split()) != 1:
                raise ValueError(f"Each `lexicon` entry must be one word (a non-empty string without spaces). Received: {word!r}")
        vocabulary = self.target_tokenizer.vocabulary
        ids = self.target_tokenizer(tf.constant(list(lexicon))).numpy()
        labels = [[int(i) for i in row if i > 0] for row in ids]
        for word, row in zip(lexicon, labels):
            if UNK in row:
                raise ValueError(f"The `lexicon` word {word!r} has a character outside the model's vocabulary {vocabulary[4:]}.")
        words = [self.target_tokenizer.decode(row) for row in labels]
        separator = vocabulary.index(" ") if " " in vocabulary else None
        return words, labels, separator

    @property
    def default_language_model(self):
        """The language model `transcribe` fuses into decoding by default: the model's own
        (`language_model`, where a subclass has one) when the CTC head transcribes; else None."""
        own = getattr(self, "language_model", None)
        return own if self.decode_with == "ctc" else None

    def fusion(self, language_model, lexicon, beam_width, lm_weight, length_bonus):
        """Resolves `transcribe`'s decoding with a language model -> `(language_model, beam_width,
        lm_weight, length_bonus)`, with `language_model` None for decoding without one
        (`kzoo.applications.ctc_fusion.resolve_fusion` with `default_language_model`)."""
        return resolve_fusion(self.default_language_model, self.decode_with, language_model, lexicon, beam_width,
                              lm_weight, length_bonus)

    def label_language_model(self, language_model):
        """`language_model` over this model's labels (`kzoo.applications.ctc_fusion.label_scorer`)."""
        return label_scorer(language_model, self.target_tokenizer.vocabulary)

    def language_model_transcripts(self, records, language_model, beam_width, lm_weight, length_bonus):
        """Per record of `transcribe`, the best transcript of the CTC prefix beam search fused
        with `language_model` (`kzoo.applications.ctc_fusion.fused_transcript`); the record's
        `tokens` become it."""
        scorer = self.label_language_model(language_model)
        texts = []
        for record in records:
            best = fused_transcript(record["posteriogram"], scorer, beam_width, lm_weight, length_bonus)
            texts.append(self.target_tokenizer.decode(best))
            record["tokens"] = list(texts[-1])
        return texts

    def check_attention_weight(self, attention_weight, lexicon):
        """Checks `transcribe`'s `attention_weight` -> a float in [0, 1)."""
        if isinstance(attention_weight, bool) or not isinstance(attention_weight, (int, float)) or not 0 <= attention_weight < 1:
            raise ValueError(f"`attention_weight` must be a float in [0, 1). Received: attention_weight={attention_weight!r}")
        if attention_weight and (lexicon is None or self.decoder_kind != "joint"):
            raise ValueError(
                "`attention_weight` rescores lexicon transcripts with the attention decoder: it needs a `lexicon` "
                f"and a joint model. Received: attention_weight={attention_weight!r}, lexicon={lexicon!r}, "
                f"decoder={self.decoder_kind!r}"
            )
        return float(attention_weight)

    def lexicon_transcripts(self, records, lexicon_labels, audio=None, attention_weight=0.0):
        """Per record of `transcribe`, the words of the best CTC path through the lexicon
        (`kzoo.seq2seq.ctc_lexicon`); the record's `tokens` become that transcript's characters.

        With `attention_weight` w > 0 (joint models) that path is only the start of a search
        (`word_edit_search`) for the word sequence of highest joint score
        `(1 − w) · log p_ctc(y | x) + w · log p_attention(y | x)` (Watanabe et al. 2017, with
        λ = 1 − w; `joint_scores`); `audio` is then the list of recordings of the records."""
        words, labels, separator = lexicon_labels
        starts = self._decoder_starts(audio) if attention_weight else None
        texts = []
        for i, record in enumerate(records):
            log_posteriors = np.log(np.maximum(record["posteriogram"], 1e-30))
            indices, _ = ctc_lexicon_decode(log_posteriors, labels, separator, blank=0)
            if attention_weight and indices:

                def score(candidates):
                    spelled = [sum(([separator] * (j > 0) + labels[k] for j, k in enumerate(c)), []) for c in candidates]
                    return self.joint_scores(starts[i], log_posteriors, spelled, attention_weight)

                most = max(1, self.max_target_length // (1 + min(len(w) for w in labels)))
                indices, _ = word_edit_search(indices, len(words), score, max_words=most, one_word=separator is None)
            texts.append(" ".join(words[k] for k in indices))
            record["tokens"] = list(texts[-1])
        return texts

    def _decoder_starts(self, audio, batch_size=32):
        """Per recording, its `decoder_start`: memory and mask `(1, frames, ...)` cut to its own
        frames, and the decoder's initial states; encoded in padded batches."""
        functions = self._decode_functions.functions
        if "decoder_start" not in functions:
            functions["decoder_start"] = tf.function(
                own_identity(lambda raw: self.decoder_start(self.preprocess(raw), training=False)), reduce_retracing=True
            )
        starts = []
        for first in range(0, len(audio), batch_size):
            memory, mask, states = functions["decoder_start"](tuple(map(tf.constant, pad_waveforms(audio[first : first + batch_size]))))
            for j, frames in enumerate(ops.convert_to_numpy(ops.sum(ops.cast(mask, "int32"), axis=1))):
                row = tf.nest.map_structure(lambda t: t[j : j + 1], states)
                starts.append((memory[j : j + 1, :frames], mask[j : j + 1, :frames], row))
        return starts

    def joint_scores(self, start, log_posteriors, labels, attention_weight):
        """Joint scores `(1 − w) · log p_ctc(y | x) + w · log p_attention(y | x)` of transcripts
        of one recording, given as character-id sequences `labels`: `start` is its
        `decoder_start` (memory, mask, states) and `log_posteriors (frames, characters)` its CTC
        head's log-posteriors. `log p_ctc` sums over every alignment
        (`kzoo.seq2seq.ctc.ctc_log_likelihoods`); `log p_attention` is the teacher-forced
        log-likelihood of the characters and `[END]`. Returns float64 `(len(labels),)`."""
        log_ctc = ctc_log_likelihoods(log_posteriors, labels, blank=0)
        width = max(len(row) for row in labels) + 2
        ids = np.full((len(labels), width), PAD, np.int32)
        for row, label in zip(ids, labels):
            row[: len(label) + 2] = [START, *label, END]
        if "attention_log_likelihoods" not in self._decode_functions.functions:

            def attention_log_likelihoods(memory, memory_mask, states, ids):
                count = tf.shape(ids)[0]
                memory, memory_mask, states = tf.nest.map_structure(lambda t: tf.repeat(t, count, axis=0), (memory, memory_mask, states))
                logits = self.teacher_forced(memory, memory_mask, states, ids[:, :-1], training=False)
                target = ids[:, 1:]
                log_p = tf.gather(tf.nn.log_softmax(tf.cast(logits, tf.float32)), target, batch_dims=2)
                return tf.reduce_sum(tf.where(target != PAD, log_p, 0.0), axis=1)

            self._decode_functions.functions["attention_log_likelihoods"] = tf.function(
                own_identity(attention_log_likelihoods), reduce_retracing=True
            )
        log_att = self._decode_functions.functions["attention_log_likelihoods"](*start, tf.constant(ids)).numpy()
        return (1 - attention_weight) * log_ctc + attention_weight * log_att.astype(np.float64)

    def ctc_posteriors(self, audio, sample_rate=None):
        """Per recording, the CTC head's posteriors `(frames, characters)` (blank = id 0), for
        `kzoo.plot.ctc_posteriogram`; models with `decoder="ctc"` or `"joint"`."""
        if self.ctc_head is None:
            raise ValueError(f"A model with decoder={self.decoder_kind!r} has no CTC head.")
        waveforms, _ = audio_inputs(audio, sample_rate, self.sample_rate)
        out = []
        for waveform in waveforms:
            memory, _, _ = self.encode(self.preprocess(pad_waveforms([waveform])), training=False)
            out.append(keras.ops.convert_to_numpy(ops.softmax(self.ctc_head(memory), axis=-1))[0])
        return out
