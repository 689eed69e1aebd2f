"""`kzoo train documents`, `kzoo classify` and `kzoo evaluate documents` end to end (tiny settings)."""

import re

import numpy as np
import pytest

from kzoo import cli


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("documents")
    code = cli.main(["train", "documents", "--epochs", "1", "--limit", "300", "--units", "4",
                     "--embedding-dim", "8", "--out", str(out)])
    assert code == 0
    return out


def _probabilities(printed):
    rows = re.findall(r"^(negative|positive)\tnegative=([\d.]+) positive=([\d.]+)\t", printed, re.M)
    return [r[0] for r in rows], np.array([[float(r[1]), float(r[2])] for r in rows])


def test_train_reports_and_exports_every_format(exported, capsys):
    for name in ("document_classifier.keras", "document_classifier.tflite", "document_classifier.tflite.json",
                 "saved_model/saved_model.pb", "roc.png", "precision_recall.png", "confusion_matrix.png"):
        assert (exported / name).stat().st_size > 0, name


def test_classify_gives_the_same_answer_from_every_format(exported, capsys):
    texts = ["the soup was delicious .\nthe staff was friendly .", "the battery was useless . the screen was dim ."]
    results = {}
    for model in ("", "document_classifier.keras", "document_classifier.tflite", "saved_model"):
        assert cli.main(["classify", "--model", str(exported / model) if model else str(exported), *texts]) == 0
        printed = capsys.readouterr().out
        if model == "saved_model":  # the SavedModel does not carry class names: labels are numbers
            rows = re.findall(r"^([01])\t0=([\d.]+) 1=([\d.]+)\t", printed, re.M)
            results[model] = np.array([[float(r[1]), float(r[2])] for r in rows])
            assert len(rows) == 2
            continue
        names, results[model] = _probabilities(printed)
        assert len(names) == 2 and names == [["negative", "positive"][int(p.argmax())] for p in results[model]]
    for model, probabilities in results.items():
        np.testing.assert_allclose(probabilities, results[""], atol=2e-3, err_msg=model)  # printed to 3 decimals


def test_evaluate_prints_the_same_table_for_keras_and_tflite(exported, capsys):
    tables = []
    for model in ("document_classifier.keras", "document_classifier.tflite"):
        assert cli.main(["evaluate", "documents", "--model", str(exported / model)]) == 0
        printed = capsys.readouterr().out
        assert re.search(r"\| macro \| [\d.]+ \| [\d.]+ \| [\d.]+ \| 612 \|", printed), printed
        tables.append(printed.split(":", 1)[1])
    assert tables[0] == tables[1]


def test_bad_data_argument_is_named():
    with pytest.raises(SystemExit, match="--data must be 'embedded', 'movie-reviews', a folder or a file. Received: --data='nowhere'"):
        cli.main(["train", "documents", "--data", "nowhere"])
