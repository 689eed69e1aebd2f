import json
import os

import numpy as np
import pytest
import tensorflow as tf

from kzoo.export import atomic_path, convert, interpreter, load_tflite, register_runner, run, write_metadata


def test_atomic_path_keeps_the_old_file_on_error(tmp_path):
    target = tmp_path / "model.bin"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            open(tmp, "w").write("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    with atomic_path(target) as tmp:
        open(tmp, "w").write("new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["model.bin"]


def test_frozen_while_loop_converts_with_builtin_ops(tmp_path):
    weight = tf.Variable([[2.0]])

    @tf.function
    def count(x):  # x (1, 1): multiply by the variable 3 times inside a WHILE loop
        def body(i, y):
            return i + 1, tf.matmul(y, weight)

        return tf.while_loop(lambda i, y: i < 3, body, (0, x))[1]

    path = str(tmp_path / "loop.tflite")
    convert(count, [tf.TensorSpec([1, 1], tf.float32)], path)
    (out,) = run(interpreter(path), np.array([[1.5]], "float32"))
    np.testing.assert_allclose(out, [[12.0]])


def test_load_tflite_dispatches_on_the_sidecar_kind(tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(b"")

    @register_runner("kzoo-test-kind")
    class Runner:
        def __init__(self, path, metadata):
            self.metadata = metadata

    write_metadata(str(path), "kzoo-test-kind", answer=42)
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # sha256 of b""
    assert json.load(open(str(path) + ".json")) == {"kind": "kzoo-test-kind", "answer": 42, "sha256": empty}
    assert load_tflite(path).metadata["answer"] == 42
    write_metadata(str(path), "nope")
    with pytest.raises(ValueError, match="kind='nope'"):
        load_tflite(path)
    with pytest.raises(FileNotFoundError, match="path"):
        load_tflite(tmp_path / "missing.tflite")


def test_convert_logs_no_trackable_obj_advice(caplog):
    """The converter's "Please consider providing the trackable_obj argument" is ours to silence
    (kzoo takes the path it advises against on purpose); the verbosity is restored afterwards."""
    from absl import logging as absl_logging

    @tf.function
    def double(x):
        return 2.0 * x

    before = absl_logging.get_verbosity()
    with caplog.at_level("INFO"):
        convert(double, [tf.TensorSpec([1, 3], tf.float32)])
    assert "trackable_obj" not in caplog.text
    assert absl_logging.get_verbosity() == before


@pytest.mark.parametrize("quantize", ["float16", "int8"])
def test_quantized_conversion_is_smaller_and_close(quantize):
    weight = tf.Variable(np.random.default_rng(0).normal(size=(64, 64)).astype("float32"))

    @tf.function
    def project(x):
        return tf.matmul(x, weight)

    spec = [tf.TensorSpec([1, 64], tf.float32)]
    full, small = convert(project, spec), convert(project, spec, quantize=quantize)
    assert len(small) < (0.6 if quantize == "float16" else 0.35) * len(full)
    x = np.random.default_rng(1).normal(size=(1, 64)).astype("float32")
    expected = x @ weight.numpy()
    (actual,) = run(interpreter(model_content=small), x)
    # float16 weights: ~3 significant digits; int8 weights: ~2.
    np.testing.assert_allclose(actual, expected, rtol=0, atol=(0.05 if quantize == "float16" else 0.5))
    with pytest.raises(ValueError, match=r"`quantize` must be one of \(False, True, 'int8', 'float16'\). Received: quantize='int4'"):
        convert(project, spec, quantize="int4")


def test_load_tflite_refuses_a_file_that_does_not_match_its_checksum(tmp_path):
    """A flipped byte in the weights loads silently in the interpreter: the sidecar's SHA-256 catches it."""
    path = tmp_path / "m.tflite"
    path.write_bytes(bytes(range(256)) * 4)

    @register_runner("kzoo-checksum-kind")
    class Runner:
        def __init__(self, path, metadata):
            self.metadata = metadata

    write_metadata(str(path), "kzoo-checksum-kind")
    assert load_tflite(path).metadata["kind"] == "kzoo-checksum-kind"
    data = bytearray(path.read_bytes())
    data[700] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"m\.tflite.*SHA-256"):
        load_tflite(path)
