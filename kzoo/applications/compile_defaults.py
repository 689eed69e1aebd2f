"""Saving an application's own `compile()` arguments with the model.

Keras saves a compiled model's optimizer, loss and metrics objects and calls `compile()` with
them on load; an application whose `compile()` takes its own arguments (a learning rate, a
sampled softmax, metrics built from the model's settings) saves those arguments instead, so that
`keras.models.load_model` restores the same compilation, with no warning.

The applications' default optimizer is built here too (`default_adam`), with its optional
moving average of the weights (`ema_momentum`), and `ema_callbacks` makes `fit` use that average.
"""

import keras

__all__ = ["CompileDefaultsMixin", "check_ema_momentum", "default_adam", "ema_callbacks"]

def check_ema_momentum(ema_momentum, optimizer):
    """Raises a clear error unless `ema_momentum` is None or in (0, 1) with the default optimizer."""
    if ema_momentum is not None and (
        isinstance(ema_momentum, bool) or not isinstance(ema_momentum, (int, float)) or not 0 < ema_momentum < 1
    ):
        raise ValueError(f"`ema_momentum` must be None or a number in (0, 1). Received: ema_momentum={ema_momentum!r}")
    if ema_momentum is not None and optimizer != "adam":
        raise ValueError(
            "`ema_momentum` configures the default optimizer; for another optimizer pass `use_ema=True, "
            f"ema_momentum=...` to it instead. Received: optimizer={optimizer!r}, ema_momentum={ema_momentum!r}"
        )


def default_adam(learning_rate, ema_momentum=None):
    """The applications' default optimizer: Adam with the gradient norm clipped at 5 (RNN
    gradients spike), keeping a moving average of the weights when `ema_momentum` is given."""
    return keras.optimizers.Adam(
        learning_rate, clipnorm=5.0, use_ema=ema_momentum is not None, ema_momentum=ema_momentum or 0.99
    )


def ema_callbacks(model, callbacks):
    """`callbacks` (a list) with `SwapEMAWeights(swap_on_epoch=True)` first when the model's
    optimizer keeps a moving average of the weights and the list has none: validation then scores
    the average, the callbacks after it see (and may restore) the average at each epoch's end, and
    the model ends training with it."""
    callbacks = list(callbacks)
    if getattr(model.optimizer, "use_ema", False) and not any(
        isinstance(c, keras.callbacks.SwapEMAWeights) for c in callbacks
    ):
        callbacks.insert(0, keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    return callbacks


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
