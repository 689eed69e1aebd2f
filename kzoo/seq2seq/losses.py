"""Masked token-level losses and accuracy for sequence outputs: padding (id 0) does not count.

References:
    Jean, Cho, Memisevic, Bengio (2015), "On Using Very Large Target Vocabulary for Neural
    Machine Translation" (sampled softmax for NMT). Bengio & Senécal (2008), "Adaptive Importance
    Sampling to Accelerate Training of a Neural Probabilistic Language Model".
"""

import keras
import tensorflow as tf
from keras import ops

from kzoo.training.distribute import num_replicas, token_mean

__all__ = ["MaskedSparseCrossEntropy", "MaskedTokenAccuracy", "sampled_softmax_loss"]


def sampled_softmax_loss(labels, features, kernel, bias, num_sampled, pad_id=0, seed=None, sampled_values=None):
    """Mean sampled-softmax cross-entropy over the non-padding tokens (a training-time estimate
    of the full softmax loss that projects only `num_sampled` + batch-size vocabulary rows).

    Per step, `num_sampled` negative ids are drawn for the whole batch from a log-uniform
    (Zipfian) proposal, which suits vocabularies ranked by frequency (as `kzoo.text.Tokenizer`
    word vocabularies are); each token's softmax runs over its own label and the negatives, with
    the proposal's log-probability subtracted (importance sampling, Bengio & Senécal 2008;
    Jean et al. 2015) and accidental hits of the label removed. The gradient reaches only the
    output rows it touched. Use the full softmax (`MaskedSparseCrossEntropy`) to evaluate.

    Args:
        labels: int `(batch_size, T)` target ids.
        features: float `(batch_size, T, units)`, the output layer's inputs.
        kernel: `(units, vocabulary_size)` output weights; bias: `(vocabulary_size,)`.
        num_sampled: negative ids per step, at most `vocabulary_size`.
        pad_id: the label that is ignored.
        seed: op seed of the sampler.
        sampled_values: optional `(sampled_ids (num_sampled,), true_expected_count (N, 1),
            sampled_expected_count (num_sampled,))` for the N non-padding tokens in row-major
            order, instead of drawing (as `tf.nn.sampled_softmax_loss` takes them).

    Returns:
        A float32 scalar. Under `tf.distribute` with `R` replicas, this replica's share, as
        Keras' own losses give it: its tokens' summed loss over the global batch's token count
        (so that the gradients summed over the replicas are those of the global mean).
    """
    labels = tf.cast(labels, tf.int64)
    valid = tf.not_equal(labels, pad_id)
    token_labels = tf.boolean_mask(labels, valid)[:, None]  # (N, 1)
    token_features = tf.cast(tf.boolean_mask(features, valid), "float32")  # (N, U)
    losses = tf.nn.sampled_softmax_loss(
        weights=tf.transpose(tf.cast(kernel, "float32")),
        biases=tf.cast(bias, "float32"),
        labels=token_labels,
        inputs=token_features,
        num_sampled=num_sampled,
        num_classes=kernel.shape[-1],
        sampled_values=sampled_values,
        seed=seed,
    )
    # Under `tf.distribute`, this replica's share of the mean over the global batch's tokens,
    # divided by the replica count as Keras divides its own losses (see `token_mean`).
    return token_mean(tf.reduce_sum(losses), tf.size(losses)) / tf.cast(num_replicas(), "float32")


@keras.saving.register_keras_serializable(package="kzoo")
class MaskedSparseCrossEntropy(keras.losses.Loss):
    """Mean cross-entropy over the non-padding tokens, from logits, with optional label smoothing.

    With smoothing `s` the target distribution is `(1 - s)·onehot + s / V` (Szegedy et al. 2016).

    Args:
        label_smoothing: `s` in [0, 1).
        pad_id: the label that is ignored.

    Examples:
        >>> import numpy as np
        >>> loss = MaskedSparseCrossEntropy()
        >>> round(float(loss(np.array([[1, 0]]), np.array([[[0.0, 0.0], [5.0, -5.0]]]))), 4)
        0.6931
    """

    def __init__(self, label_smoothing=0.0, pad_id=0, name="masked_sparse_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"`label_smoothing` must be in [0, 1). Received: label_smoothing={label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)
        self.pad_id = pad_id

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        log_probs = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)  # (B, T, V)
        nll = -ops.squeeze(ops.take_along_axis(log_probs, y_true[..., None], axis=-1), -1)
        if self.label_smoothing > 0:
            nll = (1.0 - self.label_smoothing) * nll - self.label_smoothing * ops.mean(log_probs, axis=-1)
        mask = ops.cast(ops.not_equal(y_true, self.pad_id), "float32")
        # One value per sequence: the sum over its tokens times the batch size, divided by the
        # token count, so that Keras' mean over the batch is the per-token mean. Under
        # `tf.distribute` the count is the global batch's (`token_mean`): replicas holding
        # sentences of unequal length then still take the single-device step.
        batch = ops.cast(ops.shape(y_true)[0], "float32")
        return token_mean(ops.sum(nll * mask, axis=-1) * batch, ops.sum(mask))

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing, "pad_id": self.pad_id}


@keras.saving.register_keras_serializable(package="kzoo")
class MaskedTokenAccuracy(keras.metrics.Metric):
    """Fraction of non-padding tokens whose argmax prediction is right.

    Examples:
        >>> import numpy as np
        >>> m = MaskedTokenAccuracy()
        >>> m.update_state(np.array([[1, 2, 0]]), np.eye(3)[[[1, 0, 2]]])
        >>> float(m.result())
        0.5
    """

    def __init__(self, pad_id=0, name="token_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.pad_id = pad_id
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        mask = ops.not_equal(y_true, self.pad_id)
        right = ops.logical_and(mask, ops.equal(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), y_true))
        self.correct.assign_add(ops.sum(ops.cast(right, "float32")))
        self.total.assign_add(ops.sum(ops.cast(mask, "float32")))

    def result(self):
        return self.correct / ops.maximum(self.total, 1.0)

    def reset_state(self):
        self.correct.assign(0.0)
        self.total.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id}
