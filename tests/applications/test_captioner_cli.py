"""`kzoo train captioner`, `kzoo caption` and `kzoo evaluate captioner` end to end (tiny settings)."""

import re

import pytest
import tensorflow as tf

from kzoo import cli
from kzoo.data import load_scenes


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("captioner")
    assert cli.main(["train", "captioner", "--epochs", "1", "--images", "200", "--units", "16", "--out", str(out)]) == 0
    return out


def test_train_reports_both_splits_and_exports(exported, capsys):
    for name in ("captioner.keras", "captioner.tflite", "captioner.tflite.json", "saved_model/saved_model.pb", "attention.png"):
        assert (exported / name).stat().st_size > 0, name


def test_caption_gives_the_same_text_from_every_format(exported, tmp_path, capsys):
    images = load_scenes("test_seen", num_images=2)["images"]
    paths = []
    for i, image in enumerate(images):
        paths.append(str(tmp_path / f"{i}.png"))
        (tmp_path / f"{i}.png").write_bytes(tf.io.encode_png(image).numpy())
    results = {}
    for model in ("", "captioner.keras", "captioner.tflite", "saved_model"):
        assert cli.main(["caption", "--model", str(exported / model) if model else str(exported), *paths]) == 0
        results[model] = re.findall(r"^\S+\.png\t(.*)$", capsys.readouterr().out, re.M)
    assert len(results[""]) == 2
    assert results[""] == results["captioner.keras"] == results["captioner.tflite"] == results["saved_model"]


def test_evaluate_prints_bleu_1_to_4_and_cider(exported, capsys):
    assert cli.main(["evaluate", "captioner", "--model", str(exported)]) == 0
    printed = capsys.readouterr().out
    scores = r"BLEU-1 [\d.]+, BLEU-2 [\d.]+, BLEU-3 [\d.]+, BLEU-4 [\d.]+, CIDEr-D [\d.]+"
    assert re.search(rf"test_seen: {scores}", printed)
    assert re.search(rf"test_novel: {scores}", printed)
