"""Loading a kzoo SavedModel's serving signature as a plain Python function.

SavedModels of the generating applications are written by their `export()` (the shared core,
`kzoo.applications.task`); they hold only TensorFlow and tensorflow-text ops, so they load with
`tf.saved_model.load` in a process that imports `tensorflow` (and `tensorflow_text` for the op
kernels of text input) and not kzoo.
"""

import tensorflow as tf

__all__ = ["load_signature"]


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
