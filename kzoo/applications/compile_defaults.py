"""Saving an application's own `compile()` arguments with the model.

Keras saves a compiled model's optimizer, loss and metrics objects and calls `compile()` with
them on load; an application whose `compile()` takes its own arguments (a learning rate, a
sampled softmax, metrics built from the model's settings) saves those arguments instead, so that
`keras.models.load_model` restores the same compilation, with no warning.
"""

import keras

__all__ = ["CompileDefaultsMixin"]


class CompileDefaultsMixin:
    """For a `keras.Model` whose `compile()` records `self._default_compile` (a dict of its own
    arguments, or None when the caller passed Keras objects that Keras saves itself)."""

    def get_compile_config(self):
        if getattr(self, "_default_compile", None) is not None:
            return {"kzoo_defaults": self._default_compile}
        return super().get_compile_config()

    def compile_from_config(self, config):
        if "kzoo_defaults" in config:
            self.compile(**config["kzoo_defaults"])
        else:
            self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)
