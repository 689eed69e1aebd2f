"""TFLiteSpeechToText: runs a SpeechToText exported to TFLite."""

from kzoo.applications.task import TFLiteSequenceGenerator
from kzoo.audio.batches import audio_inputs, join_pieces, split_long
from kzoo.export import litert

__all__ = ["TFLiteSpeechToText"]


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
        joined = join_pieces(texts, owners, len(arrays))
        return joined[0] if single else joined

    generate = transcribe
