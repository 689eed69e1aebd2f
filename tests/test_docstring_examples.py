"""The `Example:` sections of public docstrings run and print what they claim."""

import doctest
import importlib

import pytest

MODULES = [
    "kzoo.layers.checks",
    "kzoo.layers.scores",
    "kzoo.layers.attention",
    "kzoo.layers.hard_attention",
    "kzoo.layers.local_attention",
    "kzoo.layers.multi_head_attention",
    "kzoo.layers.attention_pooling",
    "kzoo.layers.hierarchical_attention",
    "kzoo.layers.spatial_attention",
    "kzoo.plot.attention",
    "kzoo.export.atomic",
    "kzoo.metrics.cider",
    "kzoo.data.scenes",
    "kzoo.data.coco",
    "kzoo.data.flickr8k",
    "kzoo.vision.images",
    "kzoo.vision.encoders",
    "kzoo.seq2seq.bridge",
    "kzoo.plot.captions",
    "kzoo.applications.evaluation",
    "kzoo.applications.captioner",
    "kzoo.audio.waveforms",
    "kzoo.audio.speech_encoder",
    "kzoo.layers.log_mel_spectrogram",
    "kzoo.layers.spec_augment",
    "kzoo.layers.utterance_normalization",
    "kzoo.text.character_tokenizer",
    "kzoo.seq2seq.ctc",
    "kzoo.plot.speech",
    "kzoo.applications.speech_to_text",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
