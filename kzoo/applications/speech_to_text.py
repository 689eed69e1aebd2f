"""SpeechToText: a log-mel BiLSTM encoder with a CTC head, an attention decoder, or both.

Audio (WAV files or bytes, arrays at any rate, resampled inside `transcribe`) -> the
`SpeechEncoder` (log-mel frames, SpecAugment, strided convolutions, BiLSTMs) -> memory `(B, S, D)`:

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

Everything but the audio front end, the CTC parts and the loss is the shared core
(`kzoo.applications.task.SequenceGenerator`).

References:
    Graves, Fernández, Gomez, Schmidhuber (2006), "Connectionist Temporal Classification".
    Chan, Jaitly, Le, Vinyals (2016), "Listen, Attend and Spell". Watanabe, Hori, Kim, Hershey,
    Hayashi (2017), "Hybrid CTC/Attention Architecture for End-to-End Speech Recognition".
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kzoo.applications.task import SequenceGenerator, TFLiteSequenceGenerator
from kzoo.audio.batches import audio_inputs, pad_waveforms, split_long
from kzoo.audio.speech_encoder import SpeechEncoder
from kzoo.audio.waveforms import check_audio
from kzoo.data.pipeline import bucket_batches
from kzoo.export import litert
from kzoo.metrics.sequence import CharErrorRate, WordErrorRate
from kzoo.seq2seq import schedules
from kzoo.seq2seq.bridge import MeanBridge
from kzoo.seq2seq.ctc import ctc_greedy_decode, ctc_loss
from kzoo.seq2seq.decoder import AttentionDecoder
from kzoo.seq2seq.samplers import BeamSampler
from kzoo.text.character_tokenizer import CharacterTokenizer
from kzoo.text.tokenizer import END, check_texts
from kzoo.training.distribute import num_replicas

__all__ = ["SpeechToText", "TFLiteSpeechToText"]

DECODERS = ("ctc", "attention", "joint")


@keras.saving.register_keras_serializable(package="kzoo")
class SpeechToText(SequenceGenerator):
    """Speech recognition over characters with CTC, attention or both, trained with `fit`.

    Args:
        vocabulary: character list (see `kzoo.text.CharacterTokenizer`), or None for `adapt()`.
        sample_rate: the model's audio rate in Hz (`transcribe` resamples other rates to it).
        decoder: "ctc", "attention" or "joint" (see the module docstring).
        ctc_weight: weight of the CTC loss in joint training, in (0, 1).
        num_mel_bins: the log-mel front end.
        frame_length_ms: the log-mel front end.
        frame_step_ms: the log-mel front end.
        subsampling: 1, 2 or 4, the encoder's reduction of the frame rate.
        filters: channels of the subsampling convolutions.
        encoder_units: BiLSTM units per direction and layers.
        encoder_layers: BiLSTM units per direction and layers.
        units: the attention decoder's LSTM units and character embedding size.
        embedding_dim: the attention decoder's LSTM units and character embedding size.
        score: the attention score ("concat" is Bahdanau's additive score, as in LAS).
        spec_augment: SpecAugment masks in training.
        dropout: dropout between encoder layers and before the decoder's output layer.
        max_transcript_length: most characters the attention decoder generates.
        max_chunk_seconds: `transcribe` cuts longer recordings at silences into pieces of at
            most this length, transcribes each and joins the texts with a space.
        decode_with: "ctc" or "attention", the head that transcribes (and is exported) for a
            joint model; default "ctc" for ctc and joint models, "attention" for attention ones.
            It can be changed later by assigning `model.decode_with`.
        seed: seed of SpecAugment and dropout.

    Examples:
        >>> import numpy as np
        >>> stt = SpeechToText(sample_rate=8000, num_mel_bins=16, filters=4, encoder_units=8,
        ...                    encoder_layers=1, units=8, embedding_dim=4)
        >>> stt.adapt(["one two", "three"])
        >>> stt.compile()
        >>> isinstance(stt.transcribe(np.zeros(4000, "float32")), str)
        True
    """

    output_name = "transcripts"
    tflite_kind = "speech_to_text"

    def __init__(
        self,
        vocabulary=None,
        sample_rate=16000,
        decoder="joint",
        ctc_weight=0.3,
        num_mel_bins=80,
        frame_length_ms=25.0,
        frame_step_ms=10.0,
        subsampling=2,
        filters=32,
        encoder_units=256,
        encoder_layers=2,
        units=256,
        embedding_dim=64,
        score="concat",
        spec_augment=True,
        dropout=0.0,
        max_transcript_length=200,
        max_chunk_seconds=20.0,
        decode_with=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if decoder not in DECODERS:
            raise ValueError(f"`decoder` must be one of {DECODERS}. Received: decoder={decoder!r}")
        if isinstance(ctc_weight, bool) or not isinstance(ctc_weight, (int, float)) or not 0 < ctc_weight < 1:
            raise ValueError(f"`ctc_weight` must be a float in (0, 1). Received: ctc_weight={ctc_weight!r}")
        if not isinstance(max_chunk_seconds, (int, float)) or max_chunk_seconds < 1:
            raise ValueError(f"`max_chunk_seconds` must be a number >= 1. Received: max_chunk_seconds={max_chunk_seconds!r}")
        self.sample_rate = sample_rate
        self.decoder_kind = decoder
        self.ctc_weight = float(ctc_weight)
        self.units, self.embedding_dim, self.score, self.dropout = units, embedding_dim, score, dropout
        self.max_target_length = max_transcript_length
        self.max_chunk_seconds = float(max_chunk_seconds)
        self.seed = seed
        self.decode_with = decode_with
        self.scheduled_sampling = schedules.get(None)
        self.encoder = SpeechEncoder(
            sample_rate, num_mel_bins, frame_length_ms, frame_step_ms, subsampling, filters,
            encoder_units, encoder_layers, spec_augment, dropout, seed, name="encoder",
        )
        self.bridge = MeanBridge(units, name="bridge") if decoder != "ctc" else None
        self.target_tokenizer = CharacterTokenizer(vocabulary, max_length=max_transcript_length + 1, name="target_tokenizer")
        # Error rates of every training and evaluation batch: on the CTC head's greedy
        # transcripts (ctc, joint) or on the attention decoder's teacher-forced predictions.
        self.wer = WordErrorRate(name="wer")
        self.cer = CharErrorRate(name="cer")
        if vocabulary is not None:
            self._make_layers()

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

    def adapt(self, transcripts, min_count=1):
        """Builds the character vocabulary from training transcripts (strings or a Dataset)."""
        if hasattr(self, "decoder"):
            raise ValueError("`adapt()` can only be called once, before training.")
        if not isinstance(transcripts, tf.data.Dataset):
            transcripts = _check_transcripts(transcripts)
        self.target_tokenizer.adapt(transcripts, min_count=min_count)
        self._make_layers()
        self.build()

    def build(self, input_shape=None):
        self._require_layers()
        audio = (tf.zeros((1, self.sample_rate // 2)), tf.constant([self.sample_rate // 2]))
        self.call((audio, tf.constant([[2, 4]], "int32")))
        self.built = True

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

    # === Hooks of the shared core (kzoo.applications.task) ===
    @property
    def raw_input_spec(self):
        return (
            tf.TensorSpec([None, None], tf.float32, name="waveforms"),
            tf.TensorSpec([None], tf.int32, name="lengths"),
        )

    @property
    def tflite_input_spec(self):
        return tf.TensorSpec([1, None], tf.float32)

    def preprocess(self, raw):
        waveforms, lengths = raw
        return tf.cast(waveforms, tf.float32), tf.cast(lengths, tf.int32)

    def encode(self, audio, training=None):
        return self.encoder(*audio, training=training)

    def check_raw(self, audio):
        waveforms, single = audio_inputs(audio, None, self.sample_rate)
        return pad_waveforms(waveforms), single

    def tflite_input(self, waveforms):
        return waveforms, tf.shape(waveforms)[1:2]

    def tflite_metadata(self):
        return {"sample_rate": self.sample_rate, "max_chunk_seconds": self.max_chunk_seconds}

    def serving_signatures(self):
        return {
            "serving_default": (tf.TensorSpec([None], tf.string, name="audio"), self.decode_wav_bytes),
            "waveforms": (self.raw_input_spec, self.preprocess),
        }

    def decode_wav_bytes(self, data):
        """WAV file bytes `(B,)` (16-bit PCM at the model's rate) -> `(waveforms, lengths)`, in graph."""

        def one(contents):
            samples, rate = tf.audio.decode_wav(contents, desired_channels=1)
            check = tf.debugging.assert_equal(
                rate, self.sample_rate, message=f"WAV audio must be at the model's rate of {self.sample_rate} Hz"
            )
            with tf.control_dependencies([check]):
                return tf.identity(samples[:, 0])

        ragged = tf.map_fn(one, data, fn_output_signature=tf.RaggedTensorSpec([None], tf.float32, ragged_rank=0))
        return ragged.to_tensor(), tf.cast(ragged.row_lengths(), tf.int32)

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
            tokens = _ctc_beam_search(logits, lengths, sampler.beam_width)
        else:
            tokens = ctc_greedy_decode(logits, lengths)
        tokens = tokens[:, :max_length]
        return tokens, ops.softmax(logits, axis=-1) if collect_attention else None

    def attention_record(self, audio, tokens, weights):
        waveform, length = audio
        chars, end = self.output_tokens(tokens)
        frames = int(self.encoder.num_output_frames(np.array([length], np.int32))[0])
        seconds = frames and float(length) / self.sample_rate / frames
        if self.decode_with == "ctc":
            return {"tokens": chars, "posteriogram": weights[:frames], "frame_seconds": seconds}
        return {"tokens": chars, "weights": weights[:end, :frames], "frame_seconds": seconds}

    def make_dataset(self, audio, transcripts, batch_size=32, shuffle=True):
        """`((waveforms, lengths), transcript)` batches from a list of 1-D arrays at the model's
        rate and their transcripts, bucketed by duration to limit padding."""
        texts = _check_transcripts(transcripts)
        if not isinstance(audio, (list, tuple)) or len(audio) != len(texts):
            raise ValueError(
                "`audio` must be a list of waveforms with one transcript each. "
                f"Received: {type(audio).__name__} of length {len(audio) if hasattr(audio, '__len__') else '?'} "
                f"and {len(texts)} transcripts"
            )
        waveforms = [check_audio(a, name=f"audio[{i}]") for i, a in enumerate(audio)]
        lengths = np.array([len(w) for w in waveforms], np.int64)
        ragged = tf.RaggedTensor.from_row_lengths(np.concatenate(waveforms), lengths)
        ds = tf.data.Dataset.from_tensor_slices((ragged, texts))
        if shuffle:
            ds = ds.shuffle(len(texts), seed=self.seed, reshuffle_each_iteration=True)
        return self.raw_batches(ds, batch_size, lengths).prefetch(tf.data.AUTOTUNE)

    def raw_batches(self, data, batch_size=32, lengths=None):
        """Accepts a Dataset of single `(waveform (N,), transcript)` examples (bucketed by length
        into batches of `batch_size`), of batched `(waveforms (B, N), transcripts)` (every
        sample valid), or of `((waveforms, lengths), transcripts)`; int16 audio is scaled."""
        spec = data.element_spec
        if not (isinstance(spec, tuple) and len(spec) == 2) or isinstance(spec[0], tuple):
            return data
        audio_spec = spec[0]
        if isinstance(audio_spec, tf.RaggedTensorSpec):
            data = data.map(lambda w, t: (w.to_tensor() if isinstance(w, tf.RaggedTensor) else w, t))
        scale = 1.0 / 32768 if audio_spec.dtype == tf.int16 else 1.0
        if audio_spec.shape.rank == 1:
            data = data.map(lambda w, t: ((tf.cast(w, tf.float32) * scale, tf.shape(w)[0]), t))
            quantiles = np.quantile(lengths, np.linspace(0, 1, 9)[1:-1]) if lengths is not None and len(lengths) else []
            boundaries = sorted({int(q) + 1 for q in quantiles}) or [10**9]
            return bucket_batches(data, lambda audio, t: audio[1], lengths, boundaries, batch_size)
        return data.map(lambda w, t: ((tf.cast(w, tf.float32) * scale, tf.fill(tf.shape(w)[:1], tf.shape(w)[1])), t))

    # === Transcription ===
    def transcribe(self, audio, sample_rate=None, beam_width=1, length_penalty=0.0, return_attention=False):
        """Transcribes one recording or a batch.

        Args:
            audio: a WAV file path or WAV bytes, a 1-D array (float in [-1, 1] or int16 PCM), a
                2-D array (one recording with channels, mixed to mono), or a list of these.
            sample_rate: the rate of array input in Hz (default: the model's); resampled to
                the model's rate. WAV files carry their own rate.
            beam_width: 1 for greedy decoding, more for beam search.
            length_penalty: GNMT `α` of the attention decoder's beam search.
            return_attention: if True also return, per recording, a dict with the `tokens` and
                the CTC `posteriogram (frames, characters)` (decoding with the CTC head) or the
                attention `weights (tokens, frames)` (with the attention decoder), and
                `frame_seconds`. A recording longer
                than `max_chunk_seconds` gives a dict `{"chunks": [record, ...]}`.

        Returns:
            A string for one recording, a list for a batch (and the records).
        """
        waveforms, single = audio_inputs(audio, sample_rate, self.sample_rate)
        pieces, owners = split_long(waveforms, self.sample_rate, self.max_chunk_seconds)
        result = self.generate(pieces, beam_width, None, length_penalty, return_attention) if pieces else []
        texts, records = result if return_attention and pieces else (result, [])
        joined = [" ".join(t for t, o in zip(texts, owners) if o == i and t) for i in range(len(waveforms))]
        if not return_attention:
            return joined[0] if single else joined
        grouped = [[r for r, o in zip(records, owners) if o == i] for i in range(len(waveforms))]
        records = [g[0] if len(g) == 1 else {"chunks": g} for g in grouped]
        return (joined[0], records[0]) if single else (joined, records)

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

    def export(self, path, format="tf_saved_model", beam_width=4, length_penalty=0.0, quantize=False, max_length=None):
        if format == "litert" and self.decode_with == "ctc" and beam_width > 1:
            raise ValueError(
                "The TFLite export of a CTC model decodes greedily (CTC beam search has no builtin "
                f"TFLite op): pass beam_width=1. Received: beam_width={beam_width!r}"
            )
        return super().export(path, format, beam_width, length_penalty, quantize, max_length)

    # === Config ===
    def get_config(self):
        config = super().get_config()
        encoder = self.encoder
        config.update(
            vocabulary=self.target_tokenizer.vocabulary,
            sample_rate=self.sample_rate,
            decoder=self.decoder_kind,
            ctc_weight=self.ctc_weight,
            num_mel_bins=encoder.num_mel_bins,
            frame_length_ms=encoder.frame_length_ms,
            frame_step_ms=encoder.frame_step_ms,
            subsampling=encoder.subsampling,
            filters=encoder.filters,
            encoder_units=encoder.units,
            encoder_layers=encoder.num_layers,
            units=self.units,
            embedding_dim=self.embedding_dim,
            score=self.score,
            spec_augment=encoder.spec_augment,
            dropout=self.dropout,
            max_transcript_length=self.max_target_length,
            max_chunk_seconds=self.max_chunk_seconds,
            decode_with=self.decode_with,
            seed=self.seed,
        )
        return config


def _check_transcripts(transcripts):
    texts, single = check_texts(transcripts, "transcripts")
    if single:
        raise TypeError("`transcripts` must be a list of strings, one per recording. Received: a single string")
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty:
        raise ValueError(f"`transcripts` must not contain empty transcripts. Received: an empty one at index {empty[0]}")
    return texts


def _ctc_beam_search(logits, lengths, beam_width):
    """TensorFlow's CTC prefix beam search, blank moved from id 0 to the last class as it wants."""
    shifted = tf.concat([logits[..., 1:], logits[..., :1]], axis=-1)  # blank (id 0) last
    decoded, _ = tf.nn.ctc_beam_search_decoder(
        tf.transpose(tf.nn.log_softmax(shifted), (1, 0, 2)), lengths, beam_width=beam_width, top_paths=1
    )
    best = decoded[0]
    dense = tf.sparse.to_dense(tf.SparseTensor(best.indices, best.values + 1, best.dense_shape))
    width = tf.maximum(tf.shape(dense)[1], 1)
    return tf.cast(tf.pad(dense, [[0, tf.shape(logits)[0] - tf.shape(dense)[0]], [0, width - tf.shape(dense)[1]]]), tf.int32)


@litert.register_runner("speech_to_text")
class TFLiteSpeechToText(TFLiteSequenceGenerator):
    """Runs a SpeechToText `.tflite` file: `transcribe(audio, sample_rate=None)` (see
    `SpeechToText.transcribe`; greedy decoding, one recording per interpreter call)."""

    def encoder_inputs(self, audio, sample_rate=None):
        rate = self.metadata["sample_rate"]
        waveforms, single = audio_inputs(audio, sample_rate, rate)
        return [w[None, :] for w in waveforms], single

    def transcribe(self, audio, sample_rate=None):
        arrays, single = self.encoder_inputs(audio, sample_rate)
        rate, limit = self.metadata["sample_rate"], self.metadata["max_chunk_seconds"]
        pieces, owners = split_long([a[0] for a in arrays], rate, limit)
        texts = self.run_all([p[None, :] for p in pieces])
        joined = [" ".join(t for t, o in zip(texts, owners) if o == i and t) for i in range(len(arrays))]
        return joined[0] if single else joined

    generate = transcribe
