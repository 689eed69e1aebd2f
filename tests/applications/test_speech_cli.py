"""`kzoo train speech`, `kzoo transcribe` and `kzoo evaluate speech` end to end (tiny settings)."""

import re

import pytest

from kzoo import cli
from kzoo.audio import write_wav
from kzoo.data import load_spoken_digits


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("speech")
    args = ["train", "speech", "--decoder", "ctc", "--epochs", "1", "--utterances", "64", "--out", str(out)]
    assert cli.main(args) == 0
    return out


def test_train_reports_error_rates_and_exports(exported, capsys):
    for name in ("speech_to_text.keras", "speech_to_text.tflite", "speech_to_text.tflite.json",
                 "saved_model/saved_model.pb", "posteriogram.png"):
        assert (exported / name).stat().st_size > 0, name


def test_transcribe_gives_the_same_text_from_every_format(exported, tmp_path, capsys):
    data = load_spoken_digits("test", num_utterances=2, seed=5)
    paths = []
    for i, audio in enumerate(data["audio"]):
        paths.append(str(tmp_path / f"{i}.wav"))
        write_wav(paths[-1], audio, data["sample_rate"])
    results = {}
    for model in ("", "speech_to_text.keras", "speech_to_text.tflite", "saved_model"):
        assert cli.main(["transcribe", "--model", str(exported / model) if model else str(exported), *paths]) == 0
        results[model] = re.findall(r"^\S+\.wav\t(.*)$", capsys.readouterr().out, re.M)
    assert len(results[""]) == 2
    assert results[""] == results["speech_to_text.keras"] == results["speech_to_text.tflite"] == results["saved_model"]


def test_evaluate_prints_wer_and_cer(exported, capsys):
    assert cli.main(["evaluate", "speech", "--model", str(exported)]) == 0
    assert re.search(r"held-out speakers \(beam 1\): WER [\d.]+%, CER [\d.]+%", capsys.readouterr().out)
