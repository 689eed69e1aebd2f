"""SpeechToText: a log-mel BiLSTM encoder with a CTC head, an attention decoder, or both.

Audio (WAV files or bytes, arrays at any rate, resampled inside `transcribe`) -> the
`SpeechEncoder` (log-mel frames, SpecAugment, strided convolutions, BiLSTMs) -> memory `(B, S, D)`
-> a CTC head (`decoder="ctc"`), the shared attention decoder (`"attention"`) or both (`"joint"`,
the default). Everything but the audio front end is the shared core (`kzoo.applications.task`)
with the CTC head, loss and decoding of `kzoo.applications.ctc_attention_generator` (references).
"""

import keras
import numpy as np
import tensorflow as tf

from kzoo.applications.ctc_attention_generator import DECODERS, CTCAttentionGenerator
from kzoo.applications.speech_data import check_transcripts, speech_batches, speech_dataset
from kzoo.applications.task import check_return_attention
from kzoo.applications.tflite_speech_to_text import TFLiteSpeechToText
from kzoo.audio.batches import audio_inputs, decode_wav_batch, join_pieces, pad_waveforms, split_long
from kzoo.audio.speech_encoder import CONTEXTS, SpeechEncoder
from kzoo.data.pipeline import unpack_text_dataset
from kzoo.metrics.sequence import CharErrorRate, WordErrorRate
from kzoo.seq2seq import schedules
from kzoo.seq2seq.bridge import MeanBridge
from kzoo.text.character_language_model import CharacterLanguageModel
from kzoo.text.character_tokenizer import CharacterTokenizer

__all__ = ["SpeechToText", "TFLiteSpeechToText"]


@keras.saving.register_keras_serializable(package="kzoo")
class SpeechToText(CTCAttentionGenerator):
    """Speech recognition over characters with CTC, attention or both, trained with `fit`.

    Args:
        vocabulary: character list (see `kzoo.text.CharacterTokenizer`), or None for `adapt()`.
        sample_rate: the model's audio rate in Hz (`transcribe` resamples other rates to it).
        decoder: "ctc", "attention" or "joint" (see the module docstring).
        ctc_weight: weight of the CTC loss in joint training, in (0, 1).
        num_mel_bins, frame_length_ms, frame_step_ms: the log-mel front end.
        subsampling: 1, 2 or 4, the encoder's reduction of the frame rate.
        filters: channels of the encoder's convolutions.
        conv_layers: 3x3 convolutions (stride 1) over time and frequency before the subsampling
            ones (0 by default; see `kzoo.audio.speech_encoder.SpeechEncoder`).
        encoder_units, encoder_layers: BiLSTM units per direction and layers (with the "conv"
            context: blocks of `2·encoder_units` channels).
        frequency_pooling: a max-pool of 2 mel bands after each of the `conv_layers`
            convolutions (invariance to small formant shifts between voices).
        encoder_context: "bilstm" (default) or "conv": residual 1-D convolutions over time
            instead of the BiLSTMs (Wav2Letter-style, cheaper per step on a CPU; see
            `kzoo.audio.speech_encoder`).
        context_kernel: frames each convolution of the "conv" context reads (odd, >= 3).
        units, embedding_dim: the attention decoder's LSTM units and character embedding size.
        score: the attention score ("concat" is Bahdanau's additive score, as in LAS).
        spec_augment: SpecAugment masks in training.
        speed_perturbation: None or `(low, high)`: each training utterance resampled by its own
            factor in that range (`kzoo.layers.SpeedPerturbation`; Ko et al. 2015 used 0.9-1.1).
        frequency_warp: None or `(low, high)`: each training utterance's log-mel features warped
            along the frequency axis by its own factor in that range (`kzoo.layers.FrequencyWarp`,
            vocal tract length perturbation; Jaitly and Hinton 2013 used 0.9-1.1).
        dropout: dropout between encoder layers and before the decoder's output layer.
        max_transcript_length: most characters the attention decoder generates.
        max_chunk_seconds: `transcribe` cuts longer recordings at silences into pieces of at
            most this length, transcribes each and joins the texts with a space.
        decode_with: "ctc" or "attention", the head that transcribes (and is exported) for a
            joint model; default "ctc" for ctc and joint models, "attention" for attention ones
            (assign `model.decode_with` to change it).
        seed: seed of SpecAugment and dropout.
        language_model_order: the order of the character language model
            (`kzoo.text.CharacterLanguageModel`) that `adapt` fits on the training transcripts
            and `transcribe` fuses into CTC decoding by default; None for no language model
            (then `transcribe` decodes greedily by default).
        language_model: a fitted `kzoo.text.CharacterLanguageModel` (or its config) to start
            with instead, e.g. one fitted on more text than the transcripts. It is also the
            attribute `model.language_model`, which can be assigned; saved with the model.

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
        speed_perturbation=None,
        frequency_warp=None,
        conv_layers=0,
        encoder_context="bilstm",
        context_kernel=5,
        frequency_pooling=False,
        language_model_order=4,
        language_model=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if decoder not in DECODERS:
            raise ValueError(f"`decoder` must be one of {DECODERS}. Received: decoder={decoder!r}")
        if isinstance(ctc_weight, bool) or not isinstance(ctc_weight, (int, float)) or not 0 < ctc_weight < 1:
            raise ValueError(f"`ctc_weight` must be a float in (0, 1). Received: ctc_weight={ctc_weight!r}")
        if encoder_context not in CONTEXTS:
            raise ValueError(f"`encoder_context` must be one of {CONTEXTS}. Received: encoder_context={encoder_context!r}")
        if not isinstance(max_chunk_seconds, (int, float)) or max_chunk_seconds < 1:
            raise ValueError(f"`max_chunk_seconds` must be a number >= 1. Received: max_chunk_seconds={max_chunk_seconds!r}")
        self.sample_rate, self.decoder_kind, self.ctc_weight, self.seed = sample_rate, decoder, float(ctc_weight), seed
        self.units, self.embedding_dim, self.score, self.dropout = units, embedding_dim, score, dropout
        self.max_target_length, self.max_chunk_seconds = max_transcript_length, float(max_chunk_seconds)
        self.decode_with = decode_with
        if language_model_order is not None and (
            isinstance(language_model_order, bool) or not isinstance(language_model_order, int) or language_model_order < 1
        ):
            raise ValueError(f"`language_model_order` must be None or an int >= 1. Received: language_model_order={language_model_order!r}")
        self.language_model_order = language_model_order
        if isinstance(language_model, dict):
            language_model = CharacterLanguageModel.from_config(language_model)
        if language_model is not None and not isinstance(language_model, CharacterLanguageModel):
            raise ValueError(
                "`language_model` must be None, a kzoo.text.CharacterLanguageModel or its config. "
                f"Received: language_model={type(language_model).__name__}"
            )
        self.language_model = language_model
        self.scheduled_sampling = schedules.get(None)
        self.encoder = SpeechEncoder(
            sample_rate, num_mel_bins, frame_length_ms, frame_step_ms, subsampling, filters,
            encoder_units, encoder_layers, spec_augment, dropout, seed, speed_perturbation, frequency_warp,
            conv_layers=conv_layers, context=encoder_context, context_kernel=context_kernel,
            frequency_pooling=frequency_pooling, name="encoder",
        )
        self.bridge = MeanBridge(units, name="bridge") if decoder != "ctc" else None
        self.target_tokenizer = CharacterTokenizer(vocabulary, max_length=max_transcript_length + 1, name="target_tokenizer")
        # Error rates of every training and evaluation batch: on the CTC head's greedy
        # transcripts (ctc, joint) or on the attention decoder's teacher-forced predictions.
        self.wer = WordErrorRate(name="wer")
        self.cer = CharErrorRate(name="cer")
        if vocabulary is not None:
            self._make_layers()

    def adapt(self, transcripts, min_count=1):
        """Builds the character vocabulary from training transcripts (strings or a Dataset of
        strings), and fits the character language model of order `language_model_order` on them
        (unless the model was given a `language_model`)."""
        if hasattr(self, "decoder"):
            raise ValueError("`adapt()` can only be called once, before training.")
        if not isinstance(transcripts, tf.data.Dataset):
            transcripts = check_transcripts(transcripts)
        self.target_tokenizer.adapt(transcripts, min_count=min_count)
        if self.language_model is None and self.language_model_order is not None:
            texts = transcripts if isinstance(transcripts, list) else unpack_text_dataset(transcripts)[0]
            self.language_model = CharacterLanguageModel(self.language_model_order).fit(texts)
        self._make_layers()
        self.build()

    def build(self, input_shape=None):
        self._require_layers()
        audio = (tf.zeros((1, self.sample_rate // 2)), tf.constant([self.sample_rate // 2]))
        self.call((audio, tf.constant([[2, 4]], "int32")))
        self.built = True

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
        own = self.default_language_model
        return {
            "sample_rate": self.sample_rate,
            "max_chunk_seconds": self.max_chunk_seconds,
            "decode_with": self.decode_with,
            "language_model": None if own is None else own.get_config(),
        }

    def serving_signatures(self):
        return {
            "serving_default": (tf.TensorSpec([None], tf.string, name="audio"), self.decode_wav_bytes),
            "waveforms": (self.raw_input_spec, self.preprocess),
        }

    def decode_wav_bytes(self, data):
        """WAV file bytes `(B,)` (16-bit PCM at the model's rate) -> `(waveforms, lengths)`, in graph."""
        return decode_wav_batch(data, self.sample_rate)

    def attention_record(self, audio, tokens, weights):
        waveform, length = audio
        chars, end = self.output_tokens(tokens)
        frames = int(self.encoder.num_output_frames(np.array([length], np.int32))[0])
        seconds = frames and float(length) / self.sample_rate / frames
        if self.decode_with == "ctc":
            return {"tokens": chars, "posteriogram": weights[:frames], "frame_seconds": seconds}
        return {"tokens": chars, "weights": weights[:end, :frames], "frame_seconds": seconds}

    def make_dataset(self, audio, transcripts, batch_size=32, shuffle=True):
        """Batches from lists of waveforms and transcripts (`kzoo.applications.speech_data.speech_dataset`)."""
        return speech_dataset(audio, transcripts, batch_size, shuffle, self.seed)

    raw_batches = staticmethod(speech_batches)  # the datasets `fit` takes -> batches

    # === Transcription ===
    def transcribe(self, audio, sample_rate=None, beam_width=None, length_penalty=0.0, return_attention=False, lexicon=None,
                   attention_weight=0.0, language_model=None, lm_weight=None, length_bonus=None):
        """Transcribes one recording or a batch.

        By default a model with a language model (`adapt` fits one on the training transcripts)
        and the CTC head decodes by prefix beam search of 8 prefixes fused with it; otherwise,
        and with `language_model=False`, greedily (as the SavedModel and TFLite exports do).

        Args:
            audio: a WAV file path or WAV bytes, a 1-D array (float in [-1, 1] or int16 PCM), a
                2-D array (one recording with channels, mixed to mono), or a list of these.
            sample_rate: the rate of array input in Hz (default: the model's); resampled to
                the model's rate. WAV files carry their own rate.
            beam_width: 1 for greedy decoding, more for beam search (default: 8 with a language
                model, else 1).
            length_penalty: GNMT `α` of the attention decoder's beam search.
            return_attention: if True also return, per recording, a dict with the `tokens` and
                the CTC `posteriogram (frames, characters)` (decoding with the CTC head) or the
                attention `weights (tokens, frames)` (with the attention decoder), and
                `frame_seconds`. A recording longer than `max_chunk_seconds` gives a dict
                `{"chunks": [record, ...]}`.
            lexicon: a list of words, to transcribe only these (`kzoo.seq2seq.ctc_lexicon`).
            attention_weight: with a lexicon, a joint model's weight `w` in [0, 1) of the
                attention decoder in the joint score `(1 − w) · log p_ctc + w · log p_attention`
                (Watanabe et al. 2017) of the word sequences searched from the best CTC path
                (`CTCAttentionGenerator.lexicon_transcripts`); 0 keeps the best CTC path.
            language_model: None for the model's own (`model.language_model`, where there is one,
                the CTC head transcribes and no `lexicon` is given), False for none, or a
                `kzoo.text.CharacterLanguageModel` fitted on text: the CTC head is decoded by
                prefix beam search of `beam_width` prefixes (1 is greedy in the fused score)
                fused with it (`kzoo.seq2seq.ctc_prefix_beam_search`), the open-vocabulary
                counterpart of `lexicon`.
            lm_weight: the language model's weight `α` in the fused score
                `log p_ctc + α · log p_lm + β · characters` (default 0.5; an error without a
                language model).
            length_bonus: `β`, the score added per character (default 0.5).

        Returns:
            A string for one recording, a list for a batch (and the records).
        """
        return_attention = check_return_attention(return_attention)
        waveforms, single = audio_inputs(audio, sample_rate, self.sample_rate)
        pieces, owners = split_long(waveforms, self.sample_rate, self.max_chunk_seconds)
        language_model, beam_width, lm_weight, length_bonus = self.fusion(language_model, lexicon, beam_width, lm_weight, length_bonus)
        fuse = language_model is not None
        constrain = lexicon is not None and self.lexicon_labels(lexicon, beam_width)
        attention_weight = self.check_attention_weight(attention_weight, lexicon)
        keep = return_attention or lexicon is not None or fuse
        result = self.generate(pieces, 1 if fuse else beam_width, None, length_penalty, keep) if pieces else []
        texts, records = result if keep and pieces else (result, [])
        texts = self.lexicon_transcripts(records, constrain, pieces, attention_weight) if constrain else texts
        if fuse:
            texts = self.language_model_transcripts(records, language_model, beam_width, lm_weight, length_bonus)
        joined = join_pieces(texts, owners, len(waveforms))
        if not return_attention:
            return joined[0] if single else joined
        grouped = [[r for r, o in zip(records, owners) if o == i] for i in range(len(waveforms))]
        records = [g[0] if len(g) == 1 else {"chunks": g} for g in grouped]
        return (joined[0], records[0]) if single else (joined, records)

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
            conv_layers=encoder.conv_layers,
            encoder_units=encoder.units,
            encoder_layers=encoder.num_layers,
            encoder_context=encoder.context,
            context_kernel=encoder.context_kernel,
            frequency_pooling=encoder.frequency_pooling,
            units=self.units,
            embedding_dim=self.embedding_dim,
            score=self.score,
            spec_augment=encoder.spec_augment,
            speed_perturbation=encoder.speed_perturbation,
            frequency_warp=encoder.frequency_warp,
            dropout=self.dropout,
            max_transcript_length=self.max_target_length,
            max_chunk_seconds=self.max_chunk_seconds,
            decode_with=self.decode_with,
            seed=self.seed,
            language_model_order=self.language_model_order,
            language_model=None if self.language_model is None else self.language_model.get_config(),
        )
        return config
