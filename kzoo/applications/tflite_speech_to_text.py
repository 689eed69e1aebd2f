"""TFLiteSpeechToText: runs a SpeechToText exported to TFLite."""

from kzoo.applications.ctc_fusion import fused_transcript, label_scorer, resolve_fusion
from kzoo.applications.task import TFLiteSequenceGenerator
from kzoo.audio.batches import audio_inputs, join_pieces, split_long
from kzoo.export import litert
from kzoo.text.character_language_model import CharacterLanguageModel

__all__ = ["TFLiteSpeechToText"]


@litert.register_runner("speech_to_text")
class TFLiteSpeechToText(TFLiteSequenceGenerator):
    """Runs a SpeechToText `.tflite` file: `transcribe(audio, ...)`, one recording per
    interpreter call.

    The file decodes greedily in its graph. A model that transcribes with its CTC head also
    returns the CTC posteriors, and its sidecar carries the model's language model
    (`language_model`): then `transcribe` decodes as `SpeechToText.transcribe` does by default,
    by prefix beam search fused with it (`kzoo.applications.ctc_fusion`), in Python beside the
    interpreter. Files exported before that decode greedily.
    """

    def __init__(self, path, metadata):
        super().__init__(path, metadata)
        config = metadata.get("language_model")
        self.language_model = None if config is None else CharacterLanguageModel.from_config(config)
        self.has_posteriors = len(self.interpreter.get_output_details()) > 1

    def encoder_inputs(self, audio, sample_rate=None):
        rate = self.metadata["sample_rate"]
        waveforms, single = audio_inputs(audio, sample_rate, rate)
        return [w[None, :] for w in waveforms], single

    @property
    def decode_with(self):
        """"ctc" for a file with the CTC posteriors among its outputs, else "attention"."""
        return "ctc" if self.has_posteriors else "attention"

    @property
    def default_language_model(self):
        return self.language_model if self.has_posteriors else None

    def fusion(self, language_model, lexicon, beam_width, lm_weight, length_bonus):
        """Resolves the decoding options as `SpeechToText.fusion` does; without a language model
        only greedy decoding (`beam_width` None or 1), the file's own."""
        settings = resolve_fusion(self.default_language_model, self.decode_with, language_model, lexicon, beam_width,
                                  lm_weight, length_bonus)
        if settings[0] is None and settings[1] != 1:
            raise ValueError(
                "Without a language model the TFLite file decodes greedily in its graph: pass beam_width=None or 1 "
                f"(or a language model to fuse). Received: beam_width={beam_width!r}"
            )
        return settings

    def transcribe(self, audio, sample_rate=None, beam_width=None, language_model=None, lm_weight=None, length_bonus=None):
        """Transcribes one recording or a batch (see `SpeechToText.transcribe` for `audio`,
        `sample_rate`, `language_model`, `lm_weight` and `length_bonus`).

        `beam_width` is the prefix beam of decoding with a language model (default 8); without
        one the file decodes greedily, so only None or 1 are accepted.
        """
        language_model, beam_width, lm_weight, length_bonus = self.fusion(language_model, None, beam_width, lm_weight, length_bonus)
        arrays, single = self.encoder_inputs(audio, sample_rate)
        rate, limit = self.metadata["sample_rate"], self.metadata["max_chunk_seconds"]
        pieces, owners = split_long([a[0] for a in arrays], rate, limit)
        if language_model is None:
            texts = self.run_all([p[None, :] for p in pieces])
        else:
            scorer = label_scorer(language_model, self.target_tokenizer.vocabulary)
            texts = []
            for piece in pieces:
                posteriors = litert.run(self.interpreter, piece[None, :])[1][0]
                best = fused_transcript(posteriors, scorer, beam_width, lm_weight, length_bonus)
                texts.append(self.target_tokenizer.decode(best))
        joined = join_pieces(texts, owners, len(arrays))
        return joined[0] if single else joined

    generate = transcribe
