"""A model built from kzoo attention layers converts to TFLite with builtin ops only and matches."""

import keras
import numpy as np

import kzoo
from kzoo.export import convert, interpreter, run


def test_general_local_and_hierarchical_attention_convert_with_builtin_ops(tmp_path):
    layers = kzoo.layers
    query = keras.Input((5, 8), batch_size=1)
    value = keras.Input((6, 8), batch_size=1)
    value_mask = keras.Input((6,), batch_size=1, dtype="bool")
    words = keras.Input((3, 4, 8), batch_size=1)
    word_mask = keras.Input((3, 4), batch_size=1, dtype="bool")
    attended = layers.Attention(score="general")([query, value], mask=[None, value_mask])
    local_m = layers.LocalAttention(window=1, mode="monotonic")([attended, value], mask=[None, value_mask])
    local_p = layers.LocalAttention(window=2, mode="predictive")([local_m, value], mask=[None, value_mask])
    document = layers.HierarchicalAttention(units=4)(words, mask=word_mask)
    model = keras.Model([query, value, value_mask, words, word_mask], [local_p, document])

    rng = np.random.default_rng(0)
    feed = [
        rng.normal(size=(1, 5, 8)).astype("float32"),
        rng.normal(size=(1, 6, 8)).astype("float32"),
        np.array([[1, 1, 1, 1, 0, 0]], bool),
        rng.normal(size=(1, 3, 4, 8)).astype("float32"),
        np.ones((1, 3, 4), bool),
    ]
    feed[4][0, 2, 1:] = False
    path = tmp_path / "attention.tflite"
    convert(model, path=path, builtin_only=True)  # raises if any op needs Select TF ops
    outputs = run(interpreter(str(path)), *feed)
    expected = model(feed)
    assert len(outputs) == 2
    for got, want in zip(outputs, expected):
        np.testing.assert_allclose(got, np.asarray(want), atol=1e-5)
