"""Word embeddings started from pretrained vectors: the one code path every application uses.

`DocumentClassifier.adapt(..., embeddings=...)`, `Translator.adapt(..., source_embeddings=...,
target_embeddings=...)` and `Captioner.adapt(..., embeddings=...)` all come here:

- `load_pretrained` reads the user's option (a name such as "glove-6b-50d", a vectors file, a
  `kzoo.text.WordVectors`, a `(words, matrix)` pair, or a ready matrix) before any layer exists,
  so a bad option fails before `adapt` has changed the model; `pretrained_matrix` then turns it
  into the starting matrix of an embedding layer over a kzoo vocabulary, and prints how much of
  the vocabulary the vectors cover.
- `initialize_embeddings` copies it into the layers and applies `embedding_trainable`: True (fine-
  tune from the start), False (frozen), or an int N (frozen for the first N epochs of `fit`, then
  fine-tuned: Howard & Ruder 2018 unfreeze gradually for the same reason, so that the first,
  random-headed updates do not wash out the pretrained vectors).
- `FreezeEmbeddings` is the callback that keeps the layers at their starting values for those N
  epochs; the applications' `fit` adds it (`embedding_callbacks`).

Freezing for N epochs restores the matrix after every batch instead of switching the layer's
`trainable` flag: Keras builds the optimizer for the variables that are trainable when training
starts and cannot take a new one in the middle of `fit`.
"""

import numbers
import sys

import keras
import numpy as np

from kzoo.text.pretrained_vectors import load_word_vectors
from kzoo.text.tokenizer import count_tokens

__all__ = [
    "FreezeEmbeddings",
    "check_embedding_trainable",
    "embedding_callbacks",
    "initialize_embeddings",
    "load_pretrained",
    "pretrained_matrix",
    "start_embedding",
]


def check_embedding_trainable(value, argument="embedding_trainable"):
    """True, False or an int >= 0 (epochs frozen before fine-tuning); `ValueError` otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral) and value >= 0:
        return int(value)
    raise ValueError(
        f"`{argument}` must be True (fine-tune), False (frozen) or an int >= 0 (epochs frozen, then "
        f"fine-tuned). Received: {argument}={value!r}"
    )


def load_pretrained(embeddings, embedding_dim, argument="embeddings"):
    """Reads the user's `embeddings` option before any layer is built, so a bad one fails early.

    Args:
        embeddings: None; a float array `(vocabulary_size, embedding_dim)` in the vocabulary's
            order; or anything `kzoo.text.load_word_vectors` takes (a name like "glove-6b-50d",
            a vectors file, a `WordVectors`, a `(words, matrix)` pair).
        embedding_dim: the layer's width; pretrained vectors must have exactly this many
            dimensions.
        argument: the argument's name in error messages.

    Returns:
        None, a float32 array, or a `kzoo.text.WordVectors`.
    """
    if embeddings is None:
        return None
    if isinstance(embeddings, np.ndarray) or (hasattr(embeddings, "shape") and hasattr(embeddings, "dtype")):
        matrix = np.asarray(embeddings, "float32")
        if matrix.ndim != 2 or matrix.shape[1] != embedding_dim:
            raise ValueError(
                f"`{argument}` as an array must have shape (vocabulary_size, embedding_dim={embedding_dim}). "
                f"Received: {argument} with shape {matrix.shape}"
            )
        return matrix
    try:
        vectors = load_word_vectors(embeddings)
    except (ValueError, FileNotFoundError) as error:
        raise type(error)(f"`{argument}`: {error}") from error
    if vectors.dim != embedding_dim:
        raise ValueError(
            f"`{argument}` has {vectors.dim}-dimensional vectors but the embedding is {embedding_dim} wide: "
            f"pass `embedding_dim={vectors.dim}` to the model. Received: {argument}={vectors.source!r}"
        )
    return vectors


def pretrained_matrix(loaded, vocabulary, argument="embeddings", seed=0, counts=None, verbose=True):
    """The starting matrix `(len(vocabulary), dim)` of an embedding layer, or None.

    Args:
        loaded: what `load_pretrained` returned.
        vocabulary: the kzoo vocabulary (list of strings, id order).
        argument: the argument's name in messages.
        seed: seed of the random rows of words the vectors lack (and of the reserved tokens).
        counts: optional occurrences of each vocabulary id, for the token share of the coverage.
        verbose: print the coverage to stderr.

    Returns:
        A float32 matrix, or None when `loaded` is None.
    """
    if loaded is None:
        return None
    if isinstance(loaded, np.ndarray):
        if len(loaded) != len(vocabulary):
            raise ValueError(
                f"`{argument}` as an array must have one row per vocabulary entry ({len(vocabulary)}). "
                f"Received: {argument} with shape {loaded.shape}"
            )
        return loaded
    if verbose:
        print(f"{argument}: {loaded.coverage(vocabulary, counts)}", file=sys.stderr, flush=True)
    return loaded.vectors_for(vocabulary, seed=seed)


def initialize_embeddings(pairs, trainable=True):
    """Copies pretrained matrices into embedding layers and applies `embedding_trainable`.

    Args:
        pairs: `(keras.layers.Embedding, matrix or None)` pairs; only layers given a matrix
            (pretrained vectors) are affected.
        trainable: True, False or an int N (see the module docstring).

    Returns:
        A `FreezeEmbeddings` callback when `trainable` is an int > 0 and some layer got a matrix
        (the application keeps it as `embedding_schedule` and its `fit` adds it), else None.
    """
    trainable = check_embedding_trainable(trainable)
    layers = []
    for layer, matrix in pairs:
        if matrix is None:
            continue
        layer.embeddings.assign(matrix)
        layer.trainable = trainable is not False
        layers.append(layer)
    if not layers or isinstance(trainable, bool) or trainable == 0:
        return None
    return FreezeEmbeddings(layers, trainable)


def start_embedding(layer, loaded, tokenizer, texts=None, argument="embeddings", seed=0):
    """`(layer, matrix)` for `initialize_embeddings`: the pretrained matrix over `tokenizer`'s
    vocabulary, with the coverage printed (its token share counted on `texts` when given)."""
    if loaded is None:
        return layer, None
    counts = count_tokens(texts, tokenizer.split) if texts is not None and not isinstance(loaded, np.ndarray) else None
    return layer, pretrained_matrix(loaded, tokenizer.vocabulary, argument, seed=seed, counts=counts)


def embedding_callbacks(model, callbacks):
    """`callbacks` (a list or None) plus the model's `FreezeEmbeddings`, if it has one."""
    callbacks = list(callbacks or [])
    schedule = getattr(model, "embedding_schedule", None)
    if schedule is not None and not any(c is schedule for c in callbacks):
        callbacks.append(schedule)
    return callbacks


class FreezeEmbeddings(keras.callbacks.Callback):
    """Keeps embedding layers at their values from the start of `fit` for the first `epochs` epochs.

    The layers stay trainable (so the optimizer knows their variables); their matrices are put
    back after every batch until epoch `epochs` begins, and from then on they train. The count
    runs over the epochs of every `fit` call together, so `fit(epochs=1)` twice freezes as long
    as `fit(epochs=2)` once.

    Args:
        layers: the `keras.layers.Embedding` layers to hold.
        epochs: how many epochs they stay frozen.
    """

    def __init__(self, layers, epochs):
        super().__init__()
        self.layers = list(layers)
        self.epochs = check_embedding_trainable(epochs, "epochs")
        self.epochs_seen = 0
        self._saved = None

    @property
    def frozen(self):
        return self.epochs_seen < self.epochs

    def on_epoch_begin(self, epoch, logs=None):
        if self.frozen and self._saved is None:
            self._saved = [layer.embeddings.numpy() for layer in self.layers]
        if not self.frozen and self._saved is not None:
            self._saved = None
            print(f"Embeddings fine-tuned from now on (frozen for the first {self.epochs} epochs).", file=sys.stderr, flush=True)

    def on_train_batch_end(self, batch, logs=None):
        if self.frozen and self._saved is not None:
            optimizer = getattr(self.model, "optimizer", None)
            for layer, matrix in zip(self.layers, self._saved):
                layer.embeddings.assign(matrix)
                if getattr(optimizer, "use_ema", False):  # the weights' moving average holds them too
                    index = optimizer._get_variable_index(layer.embeddings)
                    optimizer._model_variables_moving_average[index].assign(matrix)

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_seen += 1
