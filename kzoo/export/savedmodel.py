"""Writing every application's SavedModel, and loading a serving signature as a Python function.

Every application's `export()` (the generation core in `kzoo.applications.task`, and the
DocumentClassifier) checks its `format` with `check_format` and writes the SavedModel with
`save_signatures`: a module holding the model's variables and lookup tables, the signatures
given as concrete functions, written atomically. The files hold only TensorFlow and
tensorflow-text ops, so they load with `tf.saved_model.load` in a process that imports
`tensorflow` (and `tensorflow_text` for the op kernels of text input) and not kzoo.
"""

import tensorflow as tf

from kzoo.export.atomic import atomic_path

__all__ = ["EXPORT_FORMATS", "check_format", "load_signature", "save_signatures"]

EXPORT_FORMATS = ("tf_saved_model", "litert")


def check_format(format):
    """`format` if it is one of `EXPORT_FORMATS`; `ValueError` naming it otherwise."""
    if format not in EXPORT_FORMATS:
        raise ValueError(f"`format` must be 'tf_saved_model' or 'litert'. Received: format={format!r}")
    return format


def save_signatures(model, path, signatures):
    """Writes a SavedModel at `path` that serves `signatures` (name -> concrete function).

    The model is attached to the saved module so that its variables and lookup tables (a
    tokenizer's vocabulary) are saved with the functions that use them. The folder is written
    under a temporary name and renamed into place (`atomic_path`).

    Returns:
        `path`.
    """
    module = tf.Module()
    module.model = model
    with atomic_path(path) as tmp:
        tf.saved_model.save(module, tmp, signatures=signatures)
    return path


def load_signature(path, name="serving_default"):
    """A SavedModel's signature as a Python function `inputs -> list of str` (its one output)."""
    import tensorflow_text  # noqa: F401  (registers the tensorflow-text op kernels)

    function = tf.saved_model.load(path).signatures[name]
    specs = function.structured_input_signature[1]
    if len(specs) != 1:
        raise ValueError(
            f"`load_signature` serves signatures with one input; {name!r} takes {sorted(specs)}. "
            f"Call `tf.saved_model.load(path).signatures[{name!r}]` with those inputs instead."
        )
    ((input_name, spec),) = specs.items()

    def call(inputs):
        out = function(**{input_name: tf.constant(list(inputs), dtype=spec.dtype)})
        (texts,) = out.values()
        return [t.decode("utf-8") for t in texts.numpy()]

    return call
