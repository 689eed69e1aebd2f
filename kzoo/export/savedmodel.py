"""Writing every application's SavedModel, and loading a serving signature as a Python function.

Every application's `export()` (the generation core in `kzoo.applications.task`, and the
DocumentClassifier) checks its `format` with `check_format` and writes the SavedModel with
`save_signatures`: a module holding the model's variables and lookup tables, the signatures
given as concrete functions, written atomically. The files hold only TensorFlow and
tensorflow-text ops, so they load with `tf.saved_model.load` in a process that imports
`tensorflow` (and `tensorflow_text` for the op kernels of text input) and not kzoo.
"""

import os

import tensorflow as tf

from kzoo.export.atomic import atomic_path

__all__ = ["EXPORT_FORMATS", "check_format", "load_saved_model", "load_signature", "save_signatures"]

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


def load_saved_model(path):
    """`tf.saved_model.load(path)`, tensorflow-text's ops registered, with errors that name `path`.

    Args:
        path: a SavedModel folder (holding `saved_model.pb` and `variables/`).

    Returns:
        The loaded object; its `.signatures` are what `load_signature` serves.

    Raises:
        FileNotFoundError: no folder at `path`, or no `saved_model.pb` in it.
        ValueError: `saved_model.pb` or the variables are truncated or corrupt.

    Examples:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> tf.saved_model.save(tf.Module(), folder)
        >>> type(load_saved_model(folder)).__name__
        '_UserObject'
        >>> _ = open(os.path.join(folder, "saved_model.pb"), "wb").write(b"cut")
        >>> load_saved_model(folder)
        Traceback (most recent call last):
        ...
        ValueError: Could not load the SavedModel '...': ...
    """
    import tensorflow_text  # noqa: F401  (registers the tensorflow-text op kernels)

    path = os.fspath(path)
    graph = os.path.join(path, "saved_model.pb")
    if not os.path.isfile(graph):
        raise FileNotFoundError(
            f"No SavedModel at {path!r}: expected a folder holding saved_model.pb (what "
            "`export(folder)` writes)."
        )
    try:
        return tf.saved_model.load(path)
    except Exception as error:  # OSError, ValueError, IndexError, tf.errors.OpError: bad bytes
        cause = str(error).partition("\n")[0]  # one line: the CLI prints this message alone
        raise ValueError(
            f"Could not load the SavedModel {path!r}: its saved_model.pb or variables/ are truncated "
            f"or corrupt; export the model again ({type(error).__name__}: {cause})"
        ) from error


def load_signature(path, name="serving_default"):
    """A SavedModel's signature as a Python function `inputs -> list of str` (its one output).

    Args:
        path: a SavedModel folder written by a kzoo application's `export(folder)`.
        name: the signature ("serving_default", or "beam" for the generating applications).

    Raises:
        FileNotFoundError: no SavedModel at `path` (see `load_saved_model`).
        ValueError: a truncated or corrupt SavedModel, a signature it does not have, or one with
            several inputs.

    Examples:
        >>> load_signature("no/such/folder")
        Traceback (most recent call last):
        ...
        FileNotFoundError: No SavedModel at 'no/such/folder': ...
    """
    signatures = load_saved_model(path).signatures
    if name not in signatures:
        raise ValueError(
            f"The SavedModel {os.fspath(path)!r} has no signature {name!r}; it has {sorted(signatures)}. "
            f"Received: name={name!r}"
        )
    function = signatures[name]
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
