"""Conversion of Keras models and `tf.function`s to TFLite (LiteRT), and running the result.

Facts measured on TF 2.21 / Keras 3.15 (see DESIGN.md): a loop that reads resource variables
inside a WHILE op fails at run time in the interpreter unless the variables are frozen to
constants first (`convert_variables_to_constants_v2`), and TensorList ops need a fixed batch size.
`convert` therefore always freezes.
"""

import hashlib
import json
import os
import re

import numpy as np
import tensorflow as tf
from absl import logging as absl_logging
from tensorflow.python.framework import convert_to_constants

from kzoo.export.atomic import atomic_path

__all__ = ["convert", "interpreter", "run", "load_tflite", "register_runner", "write_metadata"]

_RUNNERS = {}
QUANTIZATIONS = (False, True, "int8", "float16")


def convert(function, input_signature=None, path=None, builtin_only=True, quantize=False):
    """Converts a Keras model or a `tf.function` to a TFLite flatbuffer, variables frozen.

    Args:
        function: a `keras.Model`, a `tf.function`, or a concrete function.
        input_signature: list of `tf.TensorSpec`; required unless `function` is concrete or a
            model with static input shapes.
        path: where to write the `.tflite` file (atomically); None returns the bytes only.
        builtin_only: if True, only TFLite builtin ops are allowed and the conversion fails
            otherwise; if False, Select TF ops may be used as a fallback.
        quantize: False (float32 weights), True or "int8" (dynamic-range quantization: int8
            weights, about a quarter of the size) or "float16" (float16 weights, half the size,
            computed in float32: a smaller file for models int8 breaks).

    Returns:
        The flatbuffer bytes.
    """
    concrete = _concrete(function, input_signature)
    # Every lookup table created eagerly (a tokenizer's) leaves a None in the global graph's
    # "table_initializer" collection, which function graphs inherit; freezing then warns that
    # it cannot serialise them. They initialise nothing here: drop them.
    initializers = concrete.graph.get_collection_ref("table_initializer")
    initializers[:] = [op for op in initializers if op is not None]
    frozen = convert_to_constants.convert_variables_to_constants_v2(concrete)
    # Without `trackable_obj` the converter takes its older path, which keeps the dynamic
    # dimensions the interpreter is resized to (with an empty trackable, inputs of unknown length
    # were fixed at 1 and resizing failed). It logs a warning advising otherwise: silenced here.
    verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.ERROR)
    try:
        converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    finally:
        absl_logging.set_verbosity(verbosity)
    ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if not builtin_only:
        ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
        converter.allow_custom_ops = True
    converter.target_spec.supported_ops = ops
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"`quantize` must be one of {QUANTIZATIONS}. Received: quantize={quantize!r}")
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    flatbuffer = converter.convert()
    if path is not None:
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                f.write(flatbuffer)
    return flatbuffer


def _concrete(function, input_signature):
    if hasattr(function, "structured_input_signature") and hasattr(function, "graph"):
        return function
    if input_signature is None:
        inputs = getattr(function, "inputs", None)
        if not inputs:
            raise ValueError(
                "`input_signature` is required for a function without known inputs. "
                f"Received: input_signature=None for {type(function).__name__}"
            )
        input_signature = [tf.TensorSpec(t.shape, t.dtype) for t in inputs]
    if not isinstance(function, tf.types.experimental.PolymorphicFunction):
        model = function
        function = tf.function(lambda *args: model(list(args) if len(args) > 1 else args[0]))
    return function.get_concrete_function(*input_signature)


def interpreter(model_path=None, model_content=None, tf_text_ops=False):
    """A ready (tensors allocated) interpreter for a `.tflite` file or flatbuffer bytes.

    Uses LiteRT's `ai_edge_litert` interpreter; with `tf_text_ops=True` uses
    `tf.lite.Interpreter`, the only one that takes tensorflow-text's kernel registrar.
    """
    if tf_text_ops:
        import tensorflow_text

        interp = tf.lite.Interpreter(
            model_path=model_path,
            model_content=model_content,
            custom_op_registerers=tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS,
        )
    else:
        from ai_edge_litert.interpreter import Interpreter

        interp = Interpreter(model_path=model_path, model_content=model_content)
    interp.allocate_tensors()
    return interp


def _position(detail):
    """Order of a tensor in the converted function: `args_3` -> 3, `Identity_2` -> 2, `Identity` -> 0."""
    match = re.search(r"(?:_(\d+))?(?::\d+)?$", detail["name"])
    return int(match.group(1) or 0), detail["index"]


def run(interp, *inputs):
    """Runs a single-function interpreter on `inputs` (in argument order); returns a list.

    Inputs and outputs are matched by the names the converter gives a concrete function's
    tensors (`args_0, args_1, ...` and `Identity, Identity_1, ...`), not by tensor index, which
    follows graph order.
    """
    details = sorted(interp.get_input_details(), key=_position)
    if len(details) != len(inputs):
        raise ValueError(
            f"The model takes {len(details)} inputs "
            f"({[d['name'] for d in details]}). Received: {len(inputs)} inputs"
        )
    for detail, value in zip(details, inputs):
        value = np.asarray(value, dtype=detail["dtype"])
        if tuple(detail["shape"]) != value.shape:
            interp.resize_tensor_input(detail["index"], value.shape)
            interp.allocate_tensors()
        interp.set_tensor(detail["index"], value)
    interp.invoke()
    outputs = sorted(interp.get_output_details(), key=_position)
    return [interp.get_tensor(d["index"]) for d in outputs]


def register_runner(kind):
    """Class decorator: `load_tflite` builds objects of this class for files of `kind`.

    The class is constructed as `cls(tflite_path, metadata_dict)`.
    """

    def decorate(cls):
        _RUNNERS[kind] = cls
        return cls

    return decorate


def _metadata_path(path):
    return os.fspath(path) + ".json"


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_metadata(path, kind, **fields):
    """Writes the JSON sidecar `PATH.json` that tells `load_tflite` how to run `PATH`, with the
    SHA-256 of `PATH`: a `.tflite` has no checksum of its own, so damaged weights would load
    silently, and the two files are renamed into place one after the other."""
    with atomic_path(_metadata_path(path)) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"kind": kind, **fields, "sha256": _sha256(path)}, f, ensure_ascii=False, indent=1)


def load_tflite(path):
    """Loads an exported `.tflite` file with the runner of its kind (e.g. `.translate(texts)`).

    Args:
        path: a `.tflite` file written by a kzoo application's `export(..., format="litert")`;
            its sidecar `PATH.json` names the kind.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the sidecar is missing, is not JSON or names an unknown kind, the file does
            not match the sidecar's SHA-256, or either file is truncated or corrupt (the
            message names both files).

    Examples:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "model.tflite")
        >>> _ = open(path, "wb").write(b"TFL3 cut short")
        >>> write_metadata(path, "translator")
        >>> load_tflite(path)
        Traceback (most recent call last):
        ...
        ValueError: Could not load '...model.tflite' with its metadata file '...model.tflite.json': ...
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No TFLite file at `path`. Received: path={path!r}")
    meta_path = _metadata_path(path)
    if not os.path.isfile(meta_path):
        raise ValueError(
            f"`path` has no kzoo metadata file beside it (expected {meta_path!r}); was it "
            f"written by a kzoo application's export(..., format='litert')? Received: path={path!r}"
        )
    try:
        with open(meta_path, encoding="utf-8") as f:
            metadata = json.load(f)
    except ValueError as error:  # json.JSONDecodeError, UnicodeDecodeError: one line each
        raise ValueError(
            f"Could not load {path!r}: its metadata file {meta_path!r} is not valid JSON (truncated or "
            f"corrupt?); export the model again ({type(error).__name__}: {error})"
        ) from error
    if not isinstance(metadata, dict):
        raise ValueError(
            f"Could not load {path!r}: its metadata file {meta_path!r} must hold a JSON object with a "
            f"'kind'. Received: {type(metadata).__name__}"
        )
    if "sha256" in metadata and metadata["sha256"] != _sha256(path):
        raise ValueError(
            f"Could not load {path!r}: its contents do not match the SHA-256 in {meta_path!r} (damaged, "
            "or not the file exported with it); export the model again"
        )
    kind = metadata.get("kind")
    if kind not in _RUNNERS:
        import kzoo.applications  # noqa: F401  (registers the runners)
    if kind not in _RUNNERS:
        raise ValueError(
            f"Unknown exported model kind in {meta_path!r}: expected one of {sorted(_RUNNERS)}. "
            f"Received: kind={kind!r}"
        )
    try:
        return _RUNNERS[kind](path, metadata)
    except (KeyError, TypeError, ValueError, RuntimeError) as error:  # what bad bytes or fields raise
        cause = str(error).partition("\n")[0]  # one line: the CLI prints this message alone
        raise ValueError(
            f"Could not load {path!r} with its metadata file {meta_path!r}: one of them is truncated or "
            f"corrupt; export the model again ({type(error).__name__}: {cause})"
        ) from error
