"""Recurrent encoder: token embedding + a stack of (bidirectional) LSTM or GRU layers.

References:
    Sutskever, Vinyals, Le (2014), "Sequence to Sequence Learning with Neural Networks".
    Bahdanau, Cho, Bengio (2015), "Neural Machine Translation by Jointly Learning to Align and
    Translate" (bidirectional encoder).
"""

import keras
from keras import ops

from kzoo.layers.checks import check_positive_int

__all__ = ["RNNEncoder"]

_CELLS = ("lstm", "gru")


def check_cell(cell):
    if cell not in _CELLS:
        raise ValueError(f"`cell` must be one of {_CELLS}. Received: cell={cell!r}")
    return cell


@keras.saving.register_keras_serializable(package="kzoo")
class RNNEncoder(keras.layers.Layer):
    """Embeds token ids and runs `num_layers` recurrent layers; id 0 is padding and masked.

    Args:
        vocabulary_size: number of source tokens.
        embedding_dim: size of the token embeddings.
        units: units of each recurrent layer (per direction).
        cell: "lstm" or "gru".
        bidirectional: whether each layer reads both directions (outputs and states are the
            concatenation of the two directions, so their size is `2 * units`).
        num_layers: number of stacked recurrent layers.
        dropout: dropout between layers, in [0, 1).

    Call arguments:
        ids: int `(batch_size, S)`, 0 = padding.

    Returns:
        `(outputs, mask, states)`: `outputs (batch_size, S, D)`, boolean `mask (batch_size, S)`,
        and `states`, one list per layer of its final states (`[h, c]` for LSTM, `[h]` for GRU),
        each `(batch_size, D)`, with `D = units * (2 if bidirectional else 1)`.

    Examples:
        >>> import numpy as np
        >>> enc = RNNEncoder(vocabulary_size=10, embedding_dim=4, units=3, bidirectional=True)
        >>> out, mask, states = enc(np.array([[4, 5, 0]]))
        >>> tuple(out.shape), [tuple(s.shape) for s in states[0]]
        ((1, 3, 6), [(1, 6), (1, 6)])
    """

    def __init__(
        self,
        vocabulary_size,
        embedding_dim=128,
        units=256,
        cell="lstm",
        bidirectional=False,
        num_layers=1,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = check_positive_int("vocabulary_size", vocabulary_size)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self.units = check_positive_int("units", units)
        self.cell = check_cell(cell)
        self.bidirectional = bool(bidirectional)
        self.num_layers = check_positive_int("num_layers", num_layers)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout!r}")
        self.dropout = float(dropout)
        self.output_dim = units * (2 if self.bidirectional else 1)
        self.embedding = keras.layers.Embedding(vocabulary_size, embedding_dim, name="embedding")
        rnn_class = keras.layers.LSTM if cell == "lstm" else keras.layers.GRU
        self.rnns = []
        for i in range(num_layers):
            rnn = rnn_class(units, return_sequences=True, return_state=True, name=f"{cell}_{i}")
            if self.bidirectional:
                rnn = keras.layers.Bidirectional(rnn, name=f"bidirectional_{i}")
            self.rnns.append(rnn)
        self.drop = keras.layers.Dropout(self.dropout)

    def call(self, ids, training=None):
        mask = ops.not_equal(ids, 0)  # (B, S)
        x = self.embedding(ids)  # (B, S, E)
        states = []
        for i, rnn in enumerate(self.rnns):
            if i > 0:
                x = self.drop(x, training=training)
            x, *final = rnn(x, mask=mask, training=training)
            per_direction = len(final) // (2 if self.bidirectional else 1)
            if self.bidirectional:  # [h_fw, (c_fw), h_bw, (c_bw)] -> [concat h, (concat c)]
                final = [
                    ops.concatenate([final[j], final[j + per_direction]], axis=-1)
                    for j in range(per_direction)
                ]
            states.append(list(final))
        return x, mask, states

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            embedding_dim=self.embedding_dim,
            units=self.units,
            cell=self.cell,
            bidirectional=self.bidirectional,
            num_layers=self.num_layers,
            dropout=self.dropout,
        )
        return config
