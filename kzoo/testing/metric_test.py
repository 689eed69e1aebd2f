"""One call that checks the contract every kzoo metric keeps (in the spirit of Keras' TestCase).

`check_metric(metric, y_true, y_pred, ...)` asserts, against the metric's own one-batch result:
config round trip, `reset_state`, batch-split and order invariance, and, for float predictions,
`compile`/`fit`/`evaluate` plus `.keras` save/load of the compiled model without custom_objects.
"""

import os
import tempfile

import keras
import numpy as np

__all__ = ["check_metric"]


@keras.saving.register_keras_serializable(package="kzoo_testing")
class ZeroLoss(keras.losses.Loss):
    """A loss that is always 0: lets `fit` run a model whose only purpose is its metrics."""

    def call(self, y_true, y_pred):
        flat = keras.ops.reshape(y_pred, (keras.ops.shape(y_pred)[0], -1))
        return keras.ops.mean(flat * 0.0, axis=-1)  # zero, yet connected: gradients exist


def _result(metric):
    value = metric.result()
    return keras.tree.map_structure(lambda t: np.asarray(keras.ops.convert_to_numpy(t)), value)


def _assert_close(actual, expected, atol, what):
    for a, e in zip(keras.tree.flatten(actual), keras.tree.flatten(expected)):
        np.testing.assert_allclose(a, e, atol=atol, rtol=0, equal_nan=True, err_msg=what)


def _take(x, index):
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return [x[i] for i in index]
    return np.asarray(x)[index]


def _identity_model(y_pred):
    """A compiled-model stand-in whose output is its input: Dense with identity kernel, lr 0."""
    features = y_pred.shape[-1] if y_pred.ndim > 1 else 1
    inputs = keras.Input(shape=y_pred.shape[1:] if y_pred.ndim > 1 else (1,))
    outputs = keras.layers.Dense(features, kernel_initializer="identity", bias_initializer="zeros")(inputs)
    if y_pred.ndim == 1:
        outputs = keras.layers.Reshape(())(outputs)
    return keras.Model(inputs, outputs)


def check_metric(
    metric, y_true, y_pred, sample_weight=None, expected=None, atol=1e-9, seed=0, run_model=True
):
    """Checks a metric's contract; returns its one-batch result.

    Args:
        metric: a fresh `keras.metrics.Metric`.
        y_true: one data set (arrays, or lists for sequence metrics).
        y_pred: one data set (arrays, or lists for sequence metrics).
        sample_weight: one data set (arrays, or lists for sequence metrics).
        expected: optional reference value (scikit-learn, sacrebleu, ...) the result must match.
        atol: absolute tolerance of every comparison.
        seed: seed of the random batch split.
        run_model: also check compile/fit/evaluate and `.keras` save/load (float `y_pred` only).

    Returns:
        The result on the whole data in one batch.
    """
    metric.update_state(y_true, y_pred, sample_weight=sample_weight)
    whole = _result(metric)
    if expected is not None:
        _assert_close(whole, expected, atol, "result differs from the reference")

    metric.reset_state()
    metric.update_state(y_true, y_pred, sample_weight=sample_weight)
    _assert_close(_result(metric), whole, atol, "result after reset_state differs")

    clone = type(metric).from_config(metric.get_config())
    assert clone.get_config() == metric.get_config(), "get_config/from_config is not a round trip"

    n = len(y_true)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    cuts = np.sort(rng.choice(np.arange(1, n), size=min(3, max(n - 1, 0)), replace=False)) if n > 1 else []
    for part in np.split(order, cuts):
        clone.update_state(_take(y_true, part), _take(y_pred, part), sample_weight=_take(sample_weight, part))
    clone.update_state(_take(y_true, []), _take(y_pred, []), sample_weight=_take(sample_weight, []))
    _assert_close(_result(clone), whole, atol, "result depends on batch split or order")

    y_pred_array = np.asarray(y_pred) if not isinstance(y_pred, list) else None
    if run_model and y_pred_array is not None and y_pred_array.dtype.kind == "f":
        _check_in_model(metric, np.asarray(y_true), y_pred_array.astype("float32"), sample_weight, whole, atol)
    return whole


def _check_in_model(metric, y_true, y_pred, sample_weight, whole, atol):
    model = _identity_model(y_pred)
    fresh = type(metric).from_config(metric.get_config())
    # Keras passes sample_weight only to `weighted_metrics`.
    slot = "metrics" if sample_weight is None else "weighted_metrics"
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=ZeroLoss(), **{slot: [fresh]})
    kwargs = {} if sample_weight is None else {"sample_weight": np.asarray(sample_weight)}
    history = model.fit(y_pred, y_true, batch_size=7, epochs=1, shuffle=False, verbose=0, **kwargs)
    logged = [v for k, v in history.history.items() if k != "loss"]
    _assert_close(np.asarray(logged[0][-1]), whole, max(atol, 1e-6), "fit() logs a different value")
    logs = model.evaluate(y_pred, y_true, batch_size=5, verbose=0, return_dict=True, **kwargs)
    value = [v for k, v in logs.items() if k != "loss"][0]
    _assert_close(np.asarray(value), whole, max(atol, 1e-6), "evaluate() gives a different value")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
    loaded_logs = loaded.evaluate(y_pred, y_true, batch_size=9, verbose=0, return_dict=True, **kwargs)
    value = [v for k, v in loaded_logs.items() if k != "loss"][0]
    _assert_close(np.asarray(value), whole, max(atol, 1e-6), "the loaded .keras model differs")
