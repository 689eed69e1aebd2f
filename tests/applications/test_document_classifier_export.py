"""DocumentClassifier export: .keras round trip, SavedModel without kzoo, TFLite parity to 1e-5."""

import json
import os

import numpy as np
import pytest

from kzoo.applications import ARCHITECTURES, DocumentClassifier, TFLiteDocumentClassifier
from kzoo.export import load_tflite
from kzoo.testing.application_test import check_keras_roundtrip, check_savedmodel_standalone

DOCUMENTS = [
    "The soup was cold. The staff was rude!\nWe will not come back.",
    "a wonderful evening , the pasta was perfect .",
    "",
    "great",
    "\n".join(f"sentence number {i} was fine ." for i in range(12)),  # truncated to max_sentences
    "word " * 30,  # truncated to max_words
    b"invalid \xff bytes were here .",
]


def adapted(architecture, **kwargs):
    config = dict(architecture=architecture, embedding_dim=8, units=4, filters=4, kernel_sizes=(2, 3),
                  max_sentences=4, max_words=6, seed=0, class_names=["negative", "positive"])
    config.update(kwargs)
    model = DocumentClassifier(**config)
    model.adapt([d for d in DOCUMENTS if isinstance(d, str)], min_count=1)
    return model


# One of each encoder and pooling path by default; the remaining three are the same code paths
# (about 15 s each on 2 busy cores), checked with `-m slow`.
_SLOW = pytest.mark.slow


@pytest.mark.parametrize(
    "architecture",
    [a if a in ("han", "bigru_attention", "cnn_max") else pytest.param(a, marks=_SLOW) for a in sorted(ARCHITECTURES)],
)
def test_tflite_and_keras_round_trip(architecture, tmp_path):
    model = adapted(architecture)
    expected = model.predict(DOCUMENTS)
    path = str(tmp_path / "model.tflite")
    assert model.export(path, format="litert") == path
    with open(path + ".json", encoding="utf-8") as f:
        assert json.load(f)["kind"] == "document_classifier"
    runner = load_tflite(path)
    assert isinstance(runner, TFLiteDocumentClassifier)
    np.testing.assert_allclose(runner.predict(DOCUMENTS), expected, atol=1e-5)
    assert runner.predict([]).shape == (0, 2)
    restored = check_keras_roundtrip(model, lambda m: m.predict(DOCUMENTS).tolist(), str(tmp_path / "model.keras"))
    assert restored.document_tokenizer.vocabulary == model.document_tokenizer.vocabulary
    assert restored.architecture == architecture and restored.class_names == ["negative", "positive"]


def test_keras_round_trip_keeps_label_features_truncation_and_word_dropout(tmp_path):
    texts = [d for d in DOCUMENTS if isinstance(d, str)]
    model = DocumentClassifier(embedding_dim=8, units=4, max_sentences=4, max_words=6, truncate="tail",
                               word_dropout=0.2, label_features=True, seed=0)
    model.adapt(texts, [0, 1, 0, 1, 0, 1], min_count=1, embeddings="skipgram")
    restored = check_keras_roundtrip(model, lambda m: m.predict(DOCUMENTS).tolist(), str(tmp_path / "model.keras"))
    assert (restored.truncate, restored.word_dropout, restored.label_features) == ("tail", 0.2, True)
    np.testing.assert_array_equal(restored.label_embedding.embeddings.numpy(), model.label_embedding.embeddings.numpy())
    assert np.any(model.label_embedding.embeddings.numpy() != 0)
    path = str(tmp_path / "model.tflite")
    model.export(path, format="litert")
    np.testing.assert_allclose(load_tflite(path).predict(DOCUMENTS), model.predict(DOCUMENTS), atol=1e-5)


def test_savedmodel_runs_without_kzoo_and_matches_predict(tmp_path):
    model = adapted("han")
    texts = [d.decode("utf-8", "replace") if isinstance(d, bytes) else d for d in DOCUMENTS]
    expected = model.predict(texts)
    path = str(tmp_path / "saved")
    model.export(path)
    assert os.path.isfile(os.path.join(path, "saved_model.pb"))
    result = check_savedmodel_standalone(
        path, "serving_default", {"texts": texts}, {"labels": expected.argmax(-1).tolist()}
    )
    np.testing.assert_allclose(np.array(result["probabilities"]), expected, atol=1e-5)


def test_quantized_tflite_stays_close(tmp_path):
    model = adapted("bigru_attention")
    path = str(tmp_path / "q.tflite")
    model.export(path, format="litert", quantize=True)
    np.testing.assert_allclose(load_tflite(path).predict(DOCUMENTS), model.predict(DOCUMENTS), atol=0.05)


def test_export_errors(tmp_path):
    model = adapted("cnn_max")
    with pytest.raises(ValueError, match="`format` must be 'tf_saved_model' or 'litert'. Received: format='onnx'"):
        model.export(str(tmp_path / "m"), format="onnx")
    with pytest.raises(ValueError, match="call `adapt"):
        DocumentClassifier().export(str(tmp_path / "m"))
