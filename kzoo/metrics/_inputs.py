"""Input checks and canonical forms shared by kzoo's classification and ranking metrics.

Every metric turns `(y_true, y_pred, sample_weight)` plus the Keras mask into one of three
canonical forms, all flattened over batch and time axes:

- binary:     labels `(N,)` in {0, 1}, scores `(N,)`, weights `(N,)`
- multiclass: labels `(N,)` in [0, C), scores `(N, C)`, weights `(N,)`
- multilabel: labels `(N, L)` in {0, 1}, scores `(N, L)`, weights `(N, L)`

Weights are float64; a position that is masked or equal to `ignore_index` gets weight 0, which
counts exactly like removing it.
"""

import keras
import tensorflow as tf

TASKS = ("binary", "multiclass", "multilabel")
AVERAGES = ("micro", "macro", "weighted", "none")

# Messages of checks, shared with metrics that fold these checks into cheaper ones.
NAN_SCORES = "y_pred contains NaN scores."
NOT_PROBABILITIES = "y_pred must hold probabilities in [0, 1]; for logits pass `from_logits=True`."
SHAPE_MISMATCH = "For task='{task}', y_true and y_pred must have the same shape."
NOT_ZERO_ONE = "For task='{task}', y_true must hold 0 and 1."


def check_choice(name, value, choices):
    """Raises a ValueError naming `name` unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(f"Argument `{name}` must be one of {choices}. Received: {name}={value!r}")
    return value


def check_task(task, num_classes):
    """Validates `task` and `num_classes` (the number of labels for "multilabel")."""
    check_choice("task", task, TASKS)
    if task == "binary":
        if num_classes not in (None, 1, 2):
            raise ValueError(
                "A binary task has one score per sample; leave `num_classes` as None. "
                f"Received: num_classes={num_classes!r}"
            )
        return 1
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
        raise ValueError(
            f'task="{task}" needs `num_classes` (or `num_labels`), an integer >= 2. '
            f"Received: num_classes={num_classes!r}"
        )
    return num_classes


def label_range_message(task, num_classes, ignore_index=None):
    """The message of the label range check of `format_inputs`."""
    high = num_classes if task == "multiclass" else 2
    return (
        f"Labels must lie in [0, {high}) for task='{task}'"
        + (f" with num_classes={num_classes}." if task == "multiclass" else ".")
        + (" Set `ignore_index` to leave a padding label out." if ignore_index is None else "")
    )


def _received(x):
    """A short printable form of a tensor for error messages."""
    try:
        values = keras.ops.convert_to_numpy(x).reshape(-1)
    except Exception:  # a symbolic tensor in graph mode: its shape is all we can name
        return f"<tensor of shape {tuple(x.shape)}>"
    text = str(values[:8].tolist())
    return text[:-1] + ", ...]" if values.size > 8 else text


def ensure(condition, message, received, pending=None):
    """Raises `ValueError(message + Received: ...)` when `condition` is not all True.

    Eagerly the check is a Python `if`. In a graph (`fit`, `evaluate`, `tf.function`) it is a
    `tf.debugging.Assert` whose InvalidArgumentError carries the same message; with a `pending`
    list the check is appended there instead, for one `assert_all` (one Assert op per batch
    rather than one per check: each costs a metric update measurable time).
    """
    condition = tf.reduce_all(condition)
    if tf.executing_eagerly():
        if not bool(condition):
            raise ValueError(f"{message} Received: {received()}")
    elif pending is not None:
        pending.append((condition, message))
    else:
        tf.debugging.Assert(condition, [message])


def assert_all(pending):
    """One graph Assert for the `(condition, message)` pairs of `ensure`; the error lists the
    messages of the failed checks."""
    if not pending:
        return
    conditions = tf.stack([condition for condition, _ in pending])
    failed = [tf.where(condition, "", message) for condition, message in pending]
    tf.debugging.Assert(tf.reduce_all(conditions), failed)


def _static_rank(x):
    return len(x.shape)


def _broadcast_weight(weight, target_shape_tensor, target_rank, name="sample_weight"):
    """Broadcasts a sample weight or mask of rank <= target rank to the target shape."""
    weight = tf.convert_to_tensor(weight)
    while _static_rank(weight) > target_rank and weight.shape[-1] == 1:
        weight = tf.squeeze(weight, -1)
    if _static_rank(weight) > target_rank:
        raise ValueError(
            f"`{name}` must have the shape of the labels or a prefix of it. "
            f"Received: {name}.shape={tuple(weight.shape)} for labels of rank {target_rank}"
        )
    while _static_rank(weight) < target_rank:
        weight = tf.expand_dims(weight, -1)
    return tf.broadcast_to(weight, target_shape_tensor)


def _squeeze_last(x):
    if _static_rank(x) > 1 and x.shape[-1] == 1:
        return tf.squeeze(x, -1)
    return x


def _first_argmax(x):
    """Index of the first maximum along the last axis (np.argmax's tie rule)."""
    is_max = tf.equal(x, tf.reduce_max(x, axis=-1, keepdims=True))
    size = tf.shape(x)[-1]
    index = tf.range(size)
    return tf.reduce_min(tf.where(is_max, index, size), axis=-1)


def format_inputs(
    y_true, y_pred, sample_weight, task, num_classes, ignore_index=None, from_logits=True
):
    """Checks inputs and returns `(labels, scores, weights)` in the task's canonical form.

    Args:
        y_true: labels: sparse integers or one-hot for "multiclass"; 0/1 for the others.
        y_pred: scores (probabilities or logits; no transformation is applied here).
        sample_weight: None or non-negative weights broadcastable from the label shape.
        task: "binary", "multiclass" or "multilabel".
        num_classes: the number of classes (labels); 1 for "binary".
        ignore_index: a label value whose positions are left out, or None.
        from_logits: if False, scores must be probabilities in [0, 1] (logits passed without
            `from_logits=True` are an error, not a guess).

    Returns:
        `labels` int32, `scores` in their float dtype (float64 kept), `weights` float64.
    """
    pending = []  # graph-mode checks, asserted together at the end
    mask = getattr(y_pred, "_keras_mask", None)  # set by Keras layers with supports_masking
    y_pred = tf.convert_to_tensor(y_pred)
    if not y_pred.dtype.is_floating:
        y_pred = tf.cast(y_pred, "float32")
    y_true = tf.convert_to_tensor(y_true)
    if y_true.dtype == tf.string or y_pred.dtype == tf.string:
        raise TypeError(f"Labels and scores must be numeric. Received: y_true.dtype={y_true.dtype}")

    if task == "multiclass":
        if y_pred.shape[-1] != num_classes:
            raise ValueError(
                f"y_pred must have a last axis of size num_classes={num_classes}. "
                f"Received: y_pred.shape={tuple(y_pred.shape)}"
            )
        one_hot_rows = None
        if _static_rank(y_true) == _static_rank(y_pred) and y_true.shape[-1] == num_classes:
            one_hot_rows = tf.reduce_any(tf.not_equal(y_true, 0), axis=-1)  # all-zero rows: padding
            y_true = _first_argmax(y_true)
        else:
            if _static_rank(y_true) == _static_rank(y_pred):
                y_true = _squeeze_last(y_true)
            if _static_rank(y_true) != _static_rank(y_pred) - 1:
                raise ValueError(
                    "For task='multiclass', y_true must be sparse labels of shape y_pred.shape[:-1] "
                    f"or one-hot of shape y_pred.shape. Received: y_true.shape={tuple(y_true.shape)}, "
                    f"y_pred.shape={tuple(y_pred.shape)}"
                )
        label_shape = tf.shape(y_pred)[:-1]
        ensure(
            tf.reduce_all(tf.equal(tf.shape(y_true), label_shape)),
            "y_true and y_pred have mismatched shapes.",
            lambda: f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}",
            pending=pending,
        )
        y_true = tf.cast(y_true, "int32")
        weights = tf.ones(label_shape, "float64")
        if one_hot_rows is not None:
            weights = weights * tf.cast(one_hot_rows, "float64")
    else:
        y_true = _squeeze_last(y_true) if task == "binary" else y_true
        y_pred = _squeeze_last(y_pred) if task == "binary" else y_pred
        if task == "multilabel" and y_pred.shape[-1] != num_classes:
            raise ValueError(
                f"y_pred must have a last axis of size num_labels={num_classes}. "
                f"Received: y_pred.shape={tuple(y_pred.shape)}"
            )
        if y_true.shape.is_fully_defined() and y_pred.shape.is_fully_defined():
            if tuple(y_true.shape) != tuple(y_pred.shape):
                raise ValueError(
                    f"For task='{task}', y_true and y_pred must have the same shape. "
                    f"Received: y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
                )
        else:
            ensure(
                tf.reduce_all(tf.equal(tf.shape(y_true), tf.shape(y_pred))),
                SHAPE_MISMATCH.format(task=task),
                lambda: f"y_true.shape={tuple(y_true.shape)}",
                pending=pending,
            )
        if y_true.dtype.is_floating or y_true.dtype == tf.bool:
            y_true_float = tf.cast(y_true, "float64")
            ensure(
                tf.equal(y_true_float, tf.round(y_true_float)),
                NOT_ZERO_ONE.format(task=task),
                lambda: f"y_true={_received(y_true)}",
                pending=pending,
            )
        y_true = tf.cast(y_true, "int32")
        label_shape = tf.shape(y_pred)
        weights = tf.ones(label_shape, "float64")

    rank = _static_rank(y_true)
    if ignore_index is not None:
        weights = tf.where(tf.equal(y_true, ignore_index), tf.zeros_like(weights), weights)
        y_true = tf.where(tf.equal(y_true, ignore_index), tf.zeros_like(y_true), y_true)
    if mask is not None:
        mask = _broadcast_weight(mask, label_shape, rank, name="mask")
        weights = weights * tf.cast(mask, "float64")
    if sample_weight is not None:
        sample_weight = tf.cast(tf.convert_to_tensor(sample_weight), "float64")
        ensure(
            tf.logical_and(sample_weight >= 0, tf.math.is_finite(sample_weight)),
            "sample_weight must be finite and non-negative.",
            lambda: f"sample_weight={_received(sample_weight)}",
            pending=pending,
        )
        weights = weights * _broadcast_weight(sample_weight, label_shape, rank)

    high = num_classes if task == "multiclass" else 2
    ensure(
        tf.logical_or(tf.equal(weights, 0), tf.logical_and(y_true >= 0, y_true < high)),
        label_range_message(task, num_classes, ignore_index),
        lambda: f"y_true={_received(tf.boolean_mask(y_true, (weights > 0) & ((y_true < 0) | (y_true >= high))))}",
        pending=pending,
    )
    ensure(
        tf.logical_not(tf.math.is_nan(y_pred)),
        NAN_SCORES,
        lambda: f"y_pred={_received(y_pred)}",
        pending=pending,
    )
    if not from_logits:
        ensure(
            tf.logical_and(y_pred >= 0, y_pred <= 1),
            NOT_PROBABILITIES,
            lambda: f"y_pred={_received(tf.boolean_mask(y_pred, (y_pred < 0) | (y_pred > 1)))}",
            pending=pending,
        )
    assert_all(pending)
    y_true = tf.where(weights > 0, y_true, tf.zeros_like(y_true))

    if task == "multiclass":
        return (
            tf.reshape(y_true, [-1]),
            tf.reshape(y_pred, [-1, num_classes]),
            tf.reshape(weights, [-1]),
        )
    if task == "multilabel":
        return (
            tf.reshape(y_true, [-1, num_classes]),
            tf.reshape(y_pred, [-1, num_classes]),
            tf.reshape(weights, [-1, num_classes]),
        )
    return tf.reshape(y_true, [-1]), tf.reshape(y_pred, [-1]), tf.reshape(weights, [-1])
