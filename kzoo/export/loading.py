"""Loading a `.keras` file of a kzoo model with Keras' `safe_mode`, and errors that name the file.

Every kzoo class is registered for Keras serialization and rebuilds from its config, so a kzoo
model never needs `safe_mode=False` (which would let the file run Python code: Lambda layers,
pickled functions). `load_model` registers the classes, loads with `safe_mode=True`, and turns
Keras' errors for a missing, truncated or corrupt file into one that names it.
"""

import json
import os
import zipfile
import zlib

import keras

__all__ = ["load_model"]


def load_model(path, expected=None):
    """Loads a `.keras` file written by `model.save(path)`, with Keras' `safe_mode=True`.

    kzoo's classes are registered first (`import kzoo.applications`), so no `custom_objects`
    are needed, and nothing in the file runs as Python code.

    Args:
        path: a `.keras` file.
        expected: a class, or a tuple of classes, the model must be an instance of (e.g.
            `kzoo.applications.Translator`); None accepts any Keras model.

    Returns:
        The model.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: `path` is not a `.keras` file, is truncated or corrupt, names a class that
            neither Keras nor kzoo registers, holds code that `safe_mode` refuses, or holds a
            model that is not `expected`. The message names the file; the error from Keras is
            chained.

    Examples:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "tiny.keras")
        >>> keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(path)
        >>> type(load_model(path)).__name__
        'Sequential'
        >>> data = open(path, "rb").read()
        >>> _ = open(path, "wb").write(data[: len(data) // 2])  # a copy cut short
        >>> load_model(path)
        Traceback (most recent call last):
        ...
        ValueError: Could not load '...tiny.keras': not a valid .keras archive (truncated or corrupt?). ...
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Could not load {path!r}: no such file.")
    if not path.endswith(".keras"):
        raise ValueError(
            f"Could not load {path!r}: expected a `.keras` file (Keras' zip format, what "
            f"`model.save('name.keras')` writes). Received: path={path!r}"
        )
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"Could not load {path!r}: not a valid .keras archive (truncated or corrupt?). Save the "
            "model again with `model.save(path)`."
        )
    import kzoo.applications  # noqa: F401  (registers every kzoo class)

    try:
        model = keras.models.load_model(path, safe_mode=True)
    except Exception as error:  # whatever Keras raised, reported with the file name and chained
        cause = str(error).partition("\n")[0]  # one line: the CLI prints this message alone
        raise ValueError(f"Could not load {path!r}: {_reason(error)} ({type(error).__name__}: {cause})") from error
    if expected is not None and not isinstance(model, expected):
        names = " or ".join(c.__name__ for c in (expected if isinstance(expected, tuple) else (expected,)))
        raise ValueError(f"Could not load {path!r} as a {names}: it holds a {type(model).__name__}.")
    return model


def _reason(error):
    """What a Keras loading error means for the user."""
    if isinstance(error, (zipfile.BadZipFile, zlib.error, EOFError, KeyError, json.JSONDecodeError, OSError)):
        return "the archive's contents are truncated or corrupt; save the model again"
    if isinstance(error, TypeError) and "Could not locate" in str(error):
        return "it names a class that neither Keras nor kzoo registers (import the code that defines it first)"
    if "safe_mode" in str(error):
        return "it holds Python code (a Lambda layer or a lambda) that `safe_mode` refuses to run"
    return "Keras could not rebuild the model from it"
