"""Audio: WAV input and output, input checks, resampling, splitting long recordings, the speech encoder."""

from kzoo.audio.batches import audio_inputs, pad_waveforms, split_long
from kzoo.audio.speech_encoder import SpeechEncoder
from kzoo.audio.waveforms import check_audio, read_wav, resample, split_at_silences, write_wav

__all__ = [
    "audio_inputs",
    "check_audio",
    "pad_waveforms",
    "read_wav",
    "resample",
    "SpeechEncoder",
    "split_at_silences",
    "split_long",
    "write_wav",
]
