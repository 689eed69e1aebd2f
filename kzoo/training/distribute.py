"""Training under `tf.distribute`: strategies by name, exact per-token losses across replicas,
sparse gradients that all-reduce, and datasets that shard by element.

Every kzoo application builds, compiles and fits inside `strategy.scope()`; this module holds
what they need for that to give the single-device step:

- `replica_sum` / `token_mean`: a loss averaged over tokens must divide by the token count of
  the *global* batch. Keras divides each replica's loss by the number of replicas and sums the
  gradients, which is the single-device step only when each replica's loss is a mean over an
  equal share of the examples; sentences of unequal length give replicas unequal token counts.
- `DistributedTrainStep`: embedding gradients are `tf.IndexedSlices` whose row count differs
  between replicas, which TensorFlow's collective all-reduce cannot pack with the dense
  gradients (it fails with "Shape mismatch in the collective"); under several replicas they are
  made dense first.
- `shard_by_data`: in-memory datasets of strings or audio have no files to shard by, so every
  worker reads the whole dataset and keeps its share of each global batch (`AutoShardPolicy.DATA`).
- `make_strategy`: "default", "mirrored" (the local devices; `local_cpu_replicas` splits the CPU
  into several logical devices, for testing) or "multi-worker" (`TF_CONFIG`, see
  `kzoo.training.workers`).
"""

import json
import os

import keras
import tensorflow as tf

__all__ = [
    "STRATEGIES",
    "DistributedTrainStep",
    "is_chief",
    "local_cpu_replicas",
    "make_strategy",
    "num_replicas",
    "replica_sum",
    "shard_by_data",
    "token_mean",
]

STRATEGIES = ("default", "mirrored", "multi-worker")


def num_replicas():
    """The number of replicas training in sync (1 outside a strategy)."""
    context = tf.distribute.get_replica_context()
    if context is not None:
        return context.num_replicas_in_sync
    return tf.distribute.get_strategy().num_replicas_in_sync


def replica_sum(value):
    """`value` summed over the replicas in sync, from inside a replica (itself otherwise).

    Examples:
        >>> float(replica_sum(tf.constant(3.0)))  # one replica
        3.0
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def token_mean(total, count):
    """This replica's share of a mean over the tokens of the whole global batch.

    `total` is the sum of this replica's per-token losses and `count` its number of tokens. The
    result is `total · R / Σ count` over the `R` replicas: after Keras divides each replica's
    loss by `R` and sums the gradients, the step is that of `Σ total / Σ count`, the
    single-device mean. With one replica it is `total / count`.

    Examples:
        >>> float(token_mean(tf.constant(6.0), tf.constant(4.0)))
        1.5
    """
    count = replica_sum(tf.stop_gradient(tf.cast(count, total.dtype)))
    return total * tf.cast(num_replicas(), total.dtype) / tf.maximum(count, 1.0)


def dense_gradients(gradients):
    """Gradients with every `tf.IndexedSlices` made dense, when several replicas all-reduce them."""
    if num_replicas() == 1:
        return gradients
    return [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in gradients]


class DistributedTrainStep:
    """Mixin for a `keras.Model`: Keras' training and test steps, made safe for several replicas.

    With one replica they are Keras' own. With several: sparse gradients are made dense before
    the all-reduce (see the module docstring), and the step's collective operations run in one
    fixed order on every replica: the loss (whose token count is all-reduced), then the metrics
    (kzoo's exact AUC all-gathers its batch), then the gradients' all-reduce. Collectives without
    a data dependency between them may otherwise start in a different order on each replica,
    which TensorFlow reports as "Shape mismatch in the collective instance".

    A model with a training step of its own ends it with `self.finish_train_step(...)`.
    """

    def train_step(self, data):
        if num_replicas() == 1:
            return super().train_step(data)
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        return self.finish_train_step(tape, loss, x, y, y_pred, sample_weight)

    def test_step(self, data):
        if num_replicas() == 1:
            return super().test_step(data)
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
        return multi_worker_logs(self._track_loss_and_metrics(x, y, y_pred, sample_weight, loss))

    def _track_loss_and_metrics(self, x, y, y_pred, sample_weight, loss):
        # Keras' loss is this replica's share (divided by the replica count); the tracker
        # averages the undivided values, as Keras' own steps do.
        with tf.control_dependencies([loss]):
            batch = tf.shape(tf.nest.flatten(x)[0])[0]
            self._loss_tracker.update_state(loss * num_replicas(), sample_weight=batch)
            return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras builds a model created under a strategy from the first batch averaged over the
        # replicas ("MEAN"), which fails under MultiWorkerMirroredStrategy for integer and
        # string batches; the first replica's own batch has the same shapes.
        if iterator is not None and self._distribute_strategy is not None:
            strategy = self._distribute_strategy
            for _, _, batches in iterator:
                data_batch = tf.nest.map_structure(
                    lambda v: strategy.experimental_local_results(v)[0]
                    if isinstance(v, tf.distribute.DistributedValues)
                    else v,
                    next(batches),
                )
                break
            iterator = None
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def finish_train_step(self, tape, loss, x, y, y_pred, sample_weight=None):
        """The rest of a training step once `loss` (this replica's share, as Keras' losses
        give it) is recorded on `tape`: the loss tracker and metrics, then one optimizer step.

        Returns:
            The step's logs.
        """
        logs = self._track_loss_and_metrics(x, y, y_pred, sample_weight, loss)
        with tf.control_dependencies(tf.nest.flatten(logs)):
            with tape:
                scaled = self.optimizer.scale_loss(loss)
            gradients = dense_gradients(tape.gradient(scaled, self.trainable_weights))
            self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return multi_worker_logs(logs)


def multi_worker_logs(logs):
    """A step's logs as Keras can average them over workers: each scalar as shape `(1,)`.

    Under `MultiWorkerMirroredStrategy`, Keras 3 averages every log value with
    `strategy.reduce("MEAN", value, axis=0)`, which fails on scalars ("Invalid reduction
    dimension 0 for input with 0 dimensions", tensorflow/tensorflow#72388). The epoch's final
    logs are read from the metrics themselves, across workers, and stay exact.
    """
    if not isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        return logs
    return tf.nest.map_structure(lambda v: tf.reshape(v, [1]) if v.shape.rank == 0 else v, logs)


def shard_by_data(dataset):
    """`dataset` with `AutoShardPolicy.DATA`: each worker keeps its share of every batch.

    Examples:
        >>> dataset = shard_by_data(tf.data.Dataset.range(4).batch(2))
        >>> dataset.options().experimental_distribute.auto_shard_policy.name
        'DATA'
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def local_cpu_replicas(count):
    """Splits the CPU into `count` logical devices, so that `MirroredStrategy` on one machine
    without accelerators trains `count` replicas. Must run before TensorFlow starts its runtime
    (before any tensor is created).

    Raises:
        RuntimeError: when TensorFlow's runtime has already started with another device count.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"`count` must be a positive int. Received: count={count!r}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError as error:
        if len(tf.config.list_logical_devices("CPU")) != count:
            raise RuntimeError(
                f"Cannot split the CPU into {count} devices: TensorFlow has already started with "
                f"{len(tf.config.list_logical_devices('CPU'))}. Call `local_cpu_replicas` first."
            ) from error
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def make_strategy(name="default"):
    """A `tf.distribute.Strategy` by name.

    Args:
        name: "default" (the current strategy, one device), "mirrored" (`MirroredStrategy`
            over the local accelerators, else the logical CPU devices) or "multi-worker"
            (`MultiWorkerMirroredStrategy`, its cluster read from the `TF_CONFIG` environment
            variable; ring all-reduce, which works on CPUs).

    Examples:
        >>> make_strategy("default").num_replicas_in_sync
        1
    """
    if name not in STRATEGIES:
        raise ValueError(f"`strategy` must be one of {', '.join(STRATEGIES)}. Received: strategy={name!r}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or [
            d.name for d in tf.config.list_logical_devices("CPU")
        ]
        return tf.distribute.MirroredStrategy(devices)
    if "TF_CONFIG" not in os.environ:
        raise ValueError(
            "The multi-worker strategy reads its cluster from the TF_CONFIG environment variable, which "
            "is not set (see `kzoo.training.workers` to start local workers)."
        )
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING
    )
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def is_chief():
    """Whether this process is the one that writes files: the only process, or the chief (task
    0 of "worker" without a "chief" task, else the "chief") of a `TF_CONFIG` cluster.

    Examples:
        >>> is_chief()  # no TF_CONFIG here
        True
    """
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = config.get("task") or {}
    if not task:
        return True
    kind, index = task.get("type"), int(task.get("index", 0))
    if "chief" in config.get("cluster", {}):
        return kind == "chief"
    return kind == "worker" and index == 0
