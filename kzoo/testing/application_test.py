"""Shared checks for kzoo applications (Translator, DocumentClassifier, ...).

Each check takes the model and a function that runs it, so one helper serves every application:

- `check_keras_roundtrip`: `.keras` save and `keras.models.load_model` without `custom_objects`
  give identical outputs.
- `check_savedmodel_standalone`: a SavedModel signature, run in a fresh Python process that
  imports only tensorflow and tensorflow_text (never kzoo), gives the expected outputs.
- `agreement`: the share of outputs that agree exactly (for TFLite parity bars such as 99%).
- `run_notebook`: executes an application notebook in quick mode (`KZOO_QUICK=1`) and returns
  its printed text and its number of images.
"""

import json
import os
import re
import subprocess
import sys
import textwrap

import keras
import numpy as np

__all__ = ["check_keras_roundtrip", "check_moving_average", "check_savedmodel_standalone", "agreement", "run_notebook"]


def _same(a, b):
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return a == b


def check_keras_roundtrip(model, run, path):
    """Saves `model` to `path` (a `.keras` file), reloads it and asserts `run` gives the same output.

    Args:
        model: a built, registered kzoo model.
        run: `model -> output` (lists, strings, arrays).
        path: where to write the `.keras` file.

    Returns:
        The reloaded model.
    """
    expected = run(model)
    model.save(path)
    restored = keras.models.load_model(path)  # no custom_objects: classes must be registered
    assert type(restored) is type(model), f"reloaded as {type(restored).__name__}"
    actual = run(restored)
    assert _same(expected, actual), f".keras round trip changed the output:\n{expected}\n!=\n{actual}"
    return restored


_STANDALONE = textwrap.dedent(
    """
    import base64, json, sys
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (op kernels)
    path, signature, inputs = sys.argv[1], sys.argv[2], json.loads(sys.stdin.read())
    inputs = {k: [base64.b64decode(x) for x in v["base64"]] if isinstance(v, dict) else v for k, v in inputs.items()}
    function = tf.saved_model.load(path).signatures[signature]
    specs = function.structured_input_signature[1]
    out = function(**{k: tf.constant(v, dtype=specs[k].dtype) for k, v in inputs.items()})
    result = {k: v.numpy().tolist() for k, v in out.items()}
    result = {k: [x.decode("utf-8") if isinstance(x, bytes) else x for x in v] for k, v in result.items()}
    assert not any(m == "kzoo" or m.startswith("kzoo.") for m in sys.modules), "kzoo was imported"
    print("RESULT" + json.dumps(result))
    """
)


def check_moving_average(model, raw, momentum):
    """Asserts that `model`'s trainable weights are the exponential moving average of `raw`, the
    trained weights recorded after every step (a list of lists of arrays), computed here by hand:
    the average starts at the first step's weights, then `a <- m·a + (1 - m)·w`; and that the
    average differs from the last step's weights (so that the check can tell them apart)."""
    expected = raw[0]
    for step in raw[1:]:
        expected = [momentum * a + (1 - momentum) * w for a, w in zip(expected, step)]
    assert any(not np.allclose(a, w) for a, w in zip(expected, raw[-1])), "the average equals the last step"
    for weight, want in zip(model.trainable_weights, expected):
        np.testing.assert_allclose(weight.numpy(), want, rtol=1e-5, atol=1e-6)


def check_savedmodel_standalone(path, signature, inputs, expected, timeout=300):
    """Runs a SavedModel signature in a subprocess without kzoo and compares with `expected`.

    Args:
        path: the SavedModel folder.
        signature: the signature name, e.g. "serving_default".
        inputs: dict of input name -> JSON-serialisable list, or `{"base64": [str, ...]}` for
            a `tf.string` input of bytes (e.g. WAV files), base64-encoded.
        expected: dict of output name -> list the signature must return exactly.
    """
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH="")
    done = subprocess.run(
        [sys.executable, "-c", _STANDALONE, os.fspath(path), signature],
        input=json.dumps(inputs),  # on stdin: audio input is too long for a command line
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=os.path.dirname(os.path.abspath(os.fspath(path))),  # not the repository: kzoo not importable
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = [l for l in done.stdout.splitlines() if l.startswith("RESULT")][-1]
    result = json.loads(line[len("RESULT"):])
    for name, values in expected.items():
        assert result[name] == list(values), f"{signature}/{name}: {result[name]} != {list(values)}"
    return result


def agreement(actual, expected):
    """Share of positions where `actual[i] == expected[i]`."""
    if len(actual) != len(expected):
        raise ValueError(f"Lengths differ: len(actual)={len(actual)}, len(expected)={len(expected)}")
    return sum(a == e for a, e in zip(actual, expected)) / max(len(expected), 1)


# What a warning looks like in a notebook's output: Python's `warnings` ("file:line: XWarning:"),
# and the `tensorflow` and absl Python loggers ("WARNING:tensorflow:", "WARNING:absl:").
_WARNING_LINE = re.compile(r"^\S.*:\d+: \w*Warning: |^WARNING:(tensorflow|absl):")


def run_notebook(path, cwd, timeout=600, allow_warnings=False):
    """Executes the notebook at `path` with `KZOO_QUICK=1`, working directory `cwd`.

    Unless `allow_warnings`, fails when the output holds a Python warning or a warning of the
    `tensorflow` / absl loggers: what a user runs from a kzoo notebook must print none.

    Returns:
        `(printed text of every cell, number of PNG images shown)`.
    """
    import nbclient
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    previous = os.environ.get("KZOO_QUICK")
    os.environ["KZOO_QUICK"] = "1"  # the kernel inherits it
    try:
        nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": cwd}}).execute()
    finally:
        if previous is None:
            del os.environ["KZOO_QUICK"]
        else:
            os.environ["KZOO_QUICK"] = previous
    outputs = [o for c in notebook.cells for o in c.get("outputs", [])]
    text = "".join(o.get("text", "") for o in outputs)
    warnings = [line for line in text.splitlines() if _WARNING_LINE.match(line)]
    assert allow_warnings or not warnings, f"{os.path.basename(path)} printed warnings:\n" + "\n".join(warnings)
    return text, sum("image/png" in o.get("data", {}) for o in outputs)
