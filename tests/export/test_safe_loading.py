"""Every application's `.keras` file loads with Keras' `safe_mode=True` and gives the same output;
kzoo's sources hold nothing that would need `safe_mode=False` (Lambda layers, pickle, marshal)."""

import ast
import pathlib

import keras
import numpy as np
import pytest

import kzoo
from kzoo.applications import Captioner, DocumentClassifier, SpeechToText, Translator
from kzoo.export import load_model

IMAGES = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3)).astype("uint8")
AUDIO = [np.random.default_rng(1).normal(0, 0.1, 4000).astype("float32")]


def scrambled(model):
    """`model` with large random weights: an untrained tiny model decodes only the end token, so
    its output would not tell two sets of weights apart."""
    rng = np.random.default_rng(0)
    weights = model.get_weights()
    model.set_weights([rng.normal(0, 2.0, w.shape).astype(w.dtype) if w.dtype.kind == "f" else w for w in weights])
    return model


def translator():
    model = Translator(units=8, embedding_dim=4, max_target_length=6, seed=0)
    model.adapt(["hola mundo .", "adios amigo ."], ["hello world .", "bye friend ."])
    return model, lambda m: m.translate(["hola mundo .", "adios ."])


def captioner():
    model = Captioner(image_size=(16, 16), units=8, embedding_dim=4, filters=4, blocks=1, max_caption_length=6, seed=0)
    model.adapt(["a red circle .", "a blue square ."])
    return model, lambda m: m.caption(IMAGES)


def speech_to_text():
    model = SpeechToText(sample_rate=8000, num_mel_bins=8, filters=4, encoder_units=8, encoder_layers=1, units=8,
                         embedding_dim=4, spec_augment=False, seed=0)
    model.adapt(["ab", "ba c"])
    return model, lambda m: m.transcribe(AUDIO)


def document_classifier():
    model = DocumentClassifier(embedding_dim=8, units=4, max_sentences=4, max_words=6, seed=0, class_names=["a", "b"])
    model.adapt(["the food was great .", "the food was awful ."], min_count=1)
    return model, lambda m: m.predict(["the food was great .", "awful"])


@pytest.mark.parametrize("build", [translator, captioner, speech_to_text, document_classifier],
                         ids=lambda build: build.__name__)
def test_keras_file_loads_in_safe_mode_with_the_same_output(build, tmp_path):
    model, run = build()
    expected = run(scrambled(model))
    path = tmp_path / f"{build.__name__}.keras"
    model.save(path)
    restored = keras.models.load_model(path, safe_mode=True)
    assert type(restored) is type(model)
    for before, after in zip(model.get_weights(), restored.get_weights(), strict=True):
        np.testing.assert_array_equal(after, before)
    np.testing.assert_equal(run(restored), expected)
    assert type(load_model(path, expected=type(model))) is type(model)


def test_load_model_refuses_a_lambda_layer_and_names_the_file(tmp_path):
    path = tmp_path / "lambda.keras"
    keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda x: 2 * x)]).save(path)
    with pytest.raises(ValueError, match="safe_mode") as info:
        load_model(path)
    assert str(path) in str(info.value)


# Modules that unpickle or unmarshal code, the layer that holds a Python function, and the switch
# that lifts `safe_mode` for the whole process.
UNSAFE_NAMES = ("pickle", "marshal", "dill", "cloudpickle", "Lambda", "enable_unsafe_deserialization")


def _unsafe(node):
    """What in kzoo's code would need `safe_mode=False` or run pickled code, else None."""
    if isinstance(node, ast.keyword) and isinstance(node.value, ast.Constant):
        if (node.arg, node.value.value) in (("safe_mode", False), ("allow_pickle", True)):
            return f"{node.arg}={node.value.value}"
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        names = [node.module or ""] + [alias.name for alias in node.names]
    else:
        names = [getattr(node, "attr", getattr(node, "id", ""))]
    hits = [n for n in names if n.split(".")[0] in UNSAFE_NAMES]
    return hits[0] if hits else None


def test_kzoo_code_needs_no_unsafe_loading():
    root = pathlib.Path(kzoo.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            what = _unsafe(node)
            if what:
                found.append(f"{path.relative_to(root)}:{node.lineno}: {what}")
    assert not found, found
