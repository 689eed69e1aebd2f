"""Translator export: SavedModel (strings in/out, loadable without kzoo) and TFLite parity."""

import json
import os

import keras
import pytest
import sacrebleu

from kzoo.applications import Translator
from kzoo.data import load_embedded, make_pairs_dataset
from kzoo.export import load_signature, load_tflite
from kzoo.testing.application_test import agreement, check_savedmodel_standalone

SIZE = 3000


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    sources, targets = load_embedded("train", size=SIZE)
    translator = Translator(units=64, embedding_dim=32, max_target_length=40, shortlist=(20, 5))  # a shortlist that restricts
    translator.adapt(sources, targets)
    translator.compile()
    translator.fit(make_pairs_dataset(sources, targets, batch_size=32, seed=0), epochs=3, verbose=0)
    return translator


@pytest.fixture(scope="module")
def test_sources():
    return load_embedded("test", size=SIZE)


@pytest.fixture(scope="module")
def saved_model(trained, tmp_path_factory, test_sources):
    trained.translate(test_sources[0][:2])  # export after translate() (cached tf.functions) must work
    return trained.export(str(tmp_path_factory.mktemp("export") / "saved_model"), beam_width=3)


def test_saved_model_serves_strings_without_kzoo(trained, saved_model, test_sources):
    texts = test_sources[0][:12] + ["", "zzz qqq", "!"]
    check_savedmodel_standalone(saved_model, "serving_default", {"texts": texts}, {"translations": trained.translate(texts)})
    check_savedmodel_standalone(
        saved_model, "beam", {"texts": texts[:6]}, {"translations": trained.translate(texts[:6], beam_width=3)}
    )


def test_saved_model_matches_translate_on_the_test_set(trained, saved_model, test_sources):
    sources = test_sources[0]
    assert load_signature(saved_model)(sources) == trained.translate(sources)


def test_tflite_translates_like_translate(trained, test_sources, tmp_path):
    sources, targets = test_sources
    path = trained.export(str(tmp_path / "t.tflite"), format="litert", beam_width=1)
    metadata = json.load(open(path + ".json"))
    assert metadata["kind"] == "translator"
    runner = load_tflite(path)
    expected = trained.translate(sources)
    assert agreement(runner.translate(sources), expected) >= 0.99
    assert runner.translate(sources[0]) == expected[0]
    assert runner.translate(["", "!!"]) == trained.translate(["", "!!"])

    quantized = load_tflite(trained.export(str(tmp_path / "q.tflite"), format="litert", beam_width=1, quantize=True))
    assert os.path.getsize(tmp_path / "q.tflite") < 0.5 * os.path.getsize(path)
    bleu = sacrebleu.corpus_bleu(expected, [targets]).score
    bleu_q = sacrebleu.corpus_bleu(quantized.translate(sources), [targets]).score
    assert abs(bleu - bleu_q) < 5.0, (bleu, bleu_q)


def test_tflite_beam_search_loop(trained, test_sources, tmp_path):
    sources = test_sources[0][:20]
    runner = load_tflite(trained.export(str(tmp_path / "b.tflite"), format="litert", beam_width=3))
    assert agreement(runner.translate(sources), trained.translate(sources, beam_width=3)) >= 0.95


def test_export_rejects_unknown_format(trained, tmp_path):
    with pytest.raises(ValueError, match="`format` must be"):
        trained.export(str(tmp_path / "x"), format="onnx")
