"""`kzoo train speech`, `kzoo transcribe` and `kzoo evaluate speech` end to end (tiny settings)."""

import re

import pytest

from kzoo import cli
from kzoo.audio import write_wav
from kzoo.data import load_spoken_digits
from kzoo.export import load_model
from kzoo.text import CharacterLanguageModel


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("speech")
    args = ["train", "speech", "--decoder", "ctc", "--epochs", "1", "--utterances", "64", "--out", str(out)]
    assert cli.main(args) == 0
    return out


def test_train_reports_error_rates_and_exports(exported):
    for name in ("speech_to_text.keras", "speech_to_text.tflite", "speech_to_text.tflite.json",
                 "saved_model/saved_model.pb", "posteriogram.png"):
        assert (exported / name).stat().st_size > 0, name
    # The model's language model is that of the training transcripts (the embedded digits' first 64).
    language_model = load_model(str(exported / "speech_to_text.keras")).language_model
    expected = CharacterLanguageModel(order=4).fit(load_spoken_digits("train", num_utterances=64, seed=0)["transcripts"])
    assert language_model.get_config() == expected.get_config()


def wav_files(folder, count, seed):
    """Paths of `count` held-out embedded digit recordings written as WAV files in `folder`."""
    data = load_spoken_digits("test", num_utterances=count, seed=seed)
    paths = [str(folder / f"{i}.wav") for i in range(count)]
    for path, audio in zip(paths, data["audio"]):
        write_wav(path, audio, data["sample_rate"])
    return paths


def test_transcribe_gives_the_same_text_from_every_format(exported, tmp_path, capsys):
    paths = wav_files(tmp_path, 2, seed=5)
    results = {}
    # Without a language model the .keras model and the .tflite file decode greedily, as the SavedModel does.
    none = ["--language-model", "none"]
    for model, options in (("", none), ("speech_to_text.keras", none), ("speech_to_text.tflite", none), ("saved_model", [])):
        assert cli.main(["transcribe", "--model", str(exported / model) if model else str(exported), *options, *paths]) == 0
        results[model] = re.findall(r"^\S+\.wav\t(.*)$", capsys.readouterr().out, re.M)
    assert len(results[""]) == 2
    assert results[""] == results["speech_to_text.keras"] == results["speech_to_text.tflite"] == results["saved_model"]
    # By default the .keras model and the .tflite file decode as `transcribe` does: with the model's language model.
    expected = load_model(str(exported / "speech_to_text.keras")).transcribe(paths)
    for model in (exported, exported / "speech_to_text.tflite"):
        assert cli.main(["transcribe", "--model", str(model), *paths]) == 0
        assert re.findall(r"^\S+\.wav\t(.*)$", capsys.readouterr().out, re.M) == expected


def test_evaluate_prints_wer_and_cer(exported, capsys):
    assert cli.main(["evaluate", "speech", "--model", str(exported)]) == 0
    assert re.search(r"held-out speakers \(beam 8 \+ language model\): WER [\d.]+%, CER [\d.]+%", capsys.readouterr().out)
    assert cli.main(["evaluate", "speech", "--model", str(exported / "speech_to_text.tflite")]) == 0
    assert re.search(r"held-out speakers \(beam 8 \+ language model\): WER [\d.]+%, CER [\d.]+%", capsys.readouterr().out)
    assert cli.main(["evaluate", "speech", "--model", str(exported / "speech_to_text.tflite"), "--language-model", "none"]) == 0
    assert re.search(r"held-out speakers \(beam 1\): WER [\d.]+%, CER [\d.]+%", capsys.readouterr().out)


def test_language_model_decoding_is_transcribe_with_the_model(exported, tmp_path, capsys):
    paths = wav_files(tmp_path, 3, seed=6)
    lm_path = str(tmp_path / "digits.json")
    CharacterLanguageModel(order=3).fit(["one two", "three"]).save(lm_path)
    assert cli.main(["transcribe", "--model", str(exported), "--language-model", lm_path, "--lm-weight", "0.8", *paths]) == 0
    printed = re.findall(r"^\S+\.wav\t(.*)$", capsys.readouterr().out, re.M)
    model = load_model(str(exported / "speech_to_text.keras"))
    assert printed == model.transcribe(paths, beam_width=8, language_model=CharacterLanguageModel.load(lm_path), lm_weight=0.8)
    assert cli.main(["transcribe", "--model", str(exported / "speech_to_text.tflite"), "--language-model", lm_path,
                     "--lm-weight", "0.8", *paths]) == 0
    assert re.findall(r"^\S+\.wav\t(.*)$", capsys.readouterr().out, re.M) == printed
    assert cli.main(["evaluate", "speech", "--model", str(exported), "--language-model", lm_path]) == 0
    assert re.search(r"held-out speakers \(beam 8 \+ language model\): WER [\d.]+%", capsys.readouterr().out)
    for argv, message in (
        (["--model", str(exported / "speech_to_text.tflite"), "--language-model", "none", "--beam-width", "4"],
         "decodes greedily in its graph"),
        (["--model", str(exported), "--language-model", str(tmp_path / "none.json")], "none.json"),
        (["--model", str(exported), "--language-model", lm_path, "--lm-weight", "-1"], "lm_weight=-1.0"),
        (["--model", str(exported), "--language-model", "none", "--lm-weight", "1"], "decodes without one"),
        (["--model", str(exported / "saved_model"), "--lm-weight", "1"], "export folder, a .keras or a .tflite file"),
    ):
        with pytest.raises(SystemExit, match=message):
            cli.main(["transcribe", *argv, paths[0]])


def test_train_on_a_folder_of_fsdd_recordings_prints_the_model_error_rates(tmp_path, capsys):
    """`--data PATH`: a folder of `{digit}_{speaker}_{take}.wav` files (here isolated embedded
    digits of three voices) gives connected digit strings; the WER and CER that `train` prints
    are those of the exported model on the held-out voice's strings."""
    from kzoo.applications.evaluation import score_texts
    from kzoo.commands.speech import load_data

    digits = load_spoken_digits("train", num_utterances=150, min_words=1, max_words=1, seed=3)
    folder = tmp_path / "recordings"
    folder.mkdir()
    takes = {}
    for audio, (digit,) in zip(digits["audio"], digits["digits"]):
        take = takes[digit] = takes.get(digit, -1) + 1  # every voice gets every digit (each appears >= 3 times)
        write_wav(str(folder / f"{digit}_{'abc'[take % 3]}voice_{take}.wav"), audio, digits["sample_rate"])
    assert len(takes) == 10 and min(takes.values()) >= 2
    out = tmp_path / "out"
    assert cli.main(["train", "speech", "--data", str(tmp_path), "--decoder", "ctc", "--epochs", "1",
                     "--utterances", "32", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"data: \S+, 32 training utterances", printed)
    _, test_set = load_data(str(tmp_path), 32, 200, seed=0)
    model = load_model(str(out / "speech_to_text.keras"))
    for label, hypotheses in (("greedy, as the SavedModel and TFLite files decode", model.transcribe(test_set["audio"], language_model=False)),
                              ("the default: beam 8 \\+ the model's language model", model.transcribe(test_set["audio"]))):
        scores = score_texts(hypotheses, test_set["transcripts"], metrics=("wer", "cer"))
        line = re.search(rf"held-out speakers \({label}\): WER ([\d.]+)%, CER ([\d.]+)% \((\d+) utterances\)", printed)
        assert line, printed
        assert line.groups() == (f"{100 * scores['wer']:.1f}", f"{100 * scores['cer']:.1f}", str(len(test_set["audio"])))
