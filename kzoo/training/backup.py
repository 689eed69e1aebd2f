"""`BackupAndRestore`: training that survives a kill, resuming from the last finished epoch.

Keras' `keras.callbacks.BackupAndRestore` has the idea; this one also keeps its promise when the
process dies at the worst moment, and under several workers:

- Atomic: the weights are written to a temporary file and renamed to `epoch-NNNNN.weights.h5`,
  then `state.json` (the epoch) is written the same way. A kill at any instant leaves a complete
  previous backup, never a torn file or weights that disagree with the epoch number.
- One writer: under `MultiWorkerMirroredStrategy` only the chief writes; every worker restores
  from the chief's folder (on a cluster, a shared filesystem).
- Same data order: a resumed run starts the dataset's shuffling where the killed run would
  have been (a `tf.data` shuffle draws a new order per iterator; kzoo's `fit` hands the dataset
  to this callback, which creates and drops as many iterators as the killed run had created). With deterministic ops
  (`tf.config.experimental.enable_op_determinism()`), the resumed run's final weights equal an
  uninterrupted run's.

A kill loses at most the epoch in progress (set `steps_per_epoch` for shorter epochs). The
backup holds the model's and the optimizer's variables (Keras' `save_weights`), and is deleted
when `fit` finishes unless `keep=True`.
"""

import glob
import json
import os
import re

import keras

from kzoo.export.atomic import atomic_path
from kzoo.training.distribute import is_chief

__all__ = ["BackupAndRestore", "resume_data_order"]

_STATE = "state.json"
_WEIGHTS = re.compile(r"epoch-(\d+)\.weights\.h5$")


@keras.saving.register_keras_serializable(package="kzoo")
class BackupAndRestore(keras.callbacks.Callback):
    """Backs up the training state after every epoch and restores it when `fit` starts again.

    Args:
        backup_dir: a folder for this training run only.
        keep: keep the backup when `fit` ends (default: delete it, so that the next `fit` with
            the same folder starts afresh).
        verbose: print a line when a backup is restored.

    Examples:
        >>> import numpy as np, tempfile
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> folder = tempfile.mkdtemp()
        >>> _ = model.fit(np.ones((4, 2)), np.ones(4), epochs=2, verbose=0,
        ...               callbacks=[BackupAndRestore(folder, keep=True)])
        >>> BackupAndRestore(folder).last_epoch()
        2
    """

    def __init__(self, backup_dir, keep=False, verbose=True):
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not os.fspath(backup_dir):
            raise ValueError(f"`backup_dir` must be a folder path. Received: backup_dir={backup_dir!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.keep = keep
        self.verbose = verbose
        self.training_data = None  # set by kzoo's `fit`: the dataset whose shuffling resumes

    def last_epoch(self):
        """The number of finished epochs in the backup (0 without one)."""
        path = os.path.join(self.backup_dir, _STATE)
        try:
            with open(path) as f:
                epoch = int(json.load(f)["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0
        return epoch if os.path.isfile(self._weights_path(epoch)) else 0

    def _weights_path(self, epoch):
        return os.path.join(self.backup_dir, f"epoch-{epoch:05d}.weights.h5")

    def on_train_begin(self, logs=None):
        epoch = self.last_epoch()
        if not epoch:
            return
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        try:
            self.model.load_weights(self._weights_path(epoch))
        except Exception as error:
            raise ValueError(
                f"Could not restore the backup {self._weights_path(epoch)!r} (from another model, or "
                f"damaged?). Delete the folder {self.backup_dir!r} to start afresh."
            ) from error
        self.model._initial_epoch = epoch  # Keras' own BackupAndRestore resumes the same way
        for _ in range(self._iterators_before(epoch)):  # each one draws the next shuffle order
            iter(self.training_data)
        if self.verbose and is_chief():
            print(f"Resuming from the backup of epoch {epoch} in {self.backup_dir}", flush=True)

    def _iterators_before(self, epoch):
        """How many iterators of the dataset `fit` created before epoch `epoch` (Keras 3): two
        per epoch when the dataset's length is known (one for the epoch, one made at its end
        and dropped), one when it is not. With `steps_per_epoch`, one iterator runs on across
        epochs and its position cannot be restored: the resumed run draws a new order."""
        if self.training_data is None:
            return 0
        cardinality = int(self.training_data.cardinality())
        steps = (self.params or {}).get("steps")
        if cardinality > 0 and steps == cardinality:
            return 2 * epoch
        if cardinality == -2 and steps is None:  # tf.data.UNKNOWN_CARDINALITY
            return epoch
        return 0

    def on_epoch_end(self, epoch, logs=None):
        if not is_chief():
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        path = self._weights_path(epoch + 1)
        with atomic_path(path) as tmp:
            self.model.save_weights(tmp)
        with atomic_path(os.path.join(self.backup_dir, _STATE)) as tmp:
            with open(tmp, "w") as f:
                json.dump({"epoch": epoch + 1}, f)
        for old in glob.glob(os.path.join(self.backup_dir, "epoch-*.weights.h5")):
            if old != path and _WEIGHTS.search(old):
                os.remove(old)

    def on_train_end(self, logs=None):
        if self.keep or not is_chief() or not os.path.isdir(self.backup_dir):
            return
        for name in os.listdir(self.backup_dir):
            if name == _STATE or _WEIGHTS.search(name):
                os.remove(os.path.join(self.backup_dir, name))
        try:
            os.rmdir(self.backup_dir)
        except OSError:
            pass  # other files: not ours to delete

    def get_config(self):
        return {"backup_dir": self.backup_dir, "keep": self.keep, "verbose": self.verbose}


def resume_data_order(callbacks, dataset):
    """Hands `dataset` (what `fit` iterates) to the `BackupAndRestore` among `callbacks`, so
    that a resumed run continues its shuffle order; kzoo's `fit` methods call this."""
    for callback in callbacks or ():
        if isinstance(callback, BackupAndRestore):
            callback.training_data = dataset
