"""Bridge: the decoder's initial state from the encoder's memory, when widths or kinds differ.

Show, Attend and Tell (Xu et al. 2015, eq. 5) initialises the LSTM's memory and hidden state from
the mean annotation vector through two MLPs: `c_0 = f_c(mean_i a_i)`, `h_0 = f_h(mean_i a_i)`.
`MeanBridge` does that for every decoder layer and state (the mean over the unmasked memory
positions), so an encoder that gives no final states (a CNN, an audio encoder of another width)
still starts the decoder from what it saw.
"""

import keras
from keras import ops

from kzoo.layers.checks import check_positive_int

__all__ = ["MeanBridge"]


@keras.saving.register_keras_serializable(package="kzoo")
class MeanBridge(keras.layers.Layer):
    """Masked mean of the memory -> `tanh(W·mean + b)` per decoder layer and state.

    Args:
        units: size of each decoder state.
        num_layers: decoder layers.
        states_per_layer: 2 for LSTM (`h`, `c`), 1 for GRU.

    Call arguments:
        memory: `(batch_size, S, D)`; mask: boolean `(batch_size, S)` or None.

    Returns:
        A list per layer of `states_per_layer` tensors `(batch_size, units)`.

    Examples:
        >>> import numpy as np
        >>> states = MeanBridge(units=3)(np.ones((2, 5, 4), "float32"))
        >>> [tuple(s.shape) for s in states[0]]
        [(2, 3), (2, 3)]
    """

    def __init__(self, units, num_layers=1, states_per_layer=2, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # the mask is read explicitly; the states carry none
        self.units = check_positive_int("units", units)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.states_per_layer = check_positive_int("states_per_layer", states_per_layer)
        self.projections = [
            keras.layers.Dense(units, activation="tanh", name=f"init_{i}_{j}")
            for i in range(num_layers)
            for j in range(states_per_layer)
        ]

    def compute_mask(self, memory, mask=None):
        return None

    def call(self, memory, mask=None):
        if mask is None:
            mean = ops.mean(memory, axis=1)  # (B, D)
        else:
            weights = ops.cast(mask, memory.dtype)[:, :, None]  # (B, S, 1)
            mean = ops.sum(memory * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
        n = self.states_per_layer
        return [[self.projections[i * n + j](mean) for j in range(n)] for i in range(self.num_layers)]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "num_layers": self.num_layers,
            "states_per_layer": self.states_per_layer,
        }
