"""`run_layer_test`: the checks every kzoo layer must pass, in one call.

In the spirit of Keras' `TestCase.run_layer_test`: config round trip, serialization without
`custom_objects`, eager and symbolic output shapes, masking, `.keras` save/load with identical
outputs, a `fit` step, `jit_compile=True` and mixed precision.
"""

import os
import tempfile

import keras
import numpy as np
import tensorflow as tf

__all__ = ["run_layer_test"]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _to_numpy(x):
    return [np.asarray(t) for t in _as_list(x)]


def _call(layer, inputs, masks, call_kwargs):
    kwargs = dict(call_kwargs)
    if masks is not None:
        kwargs["mask"] = masks
    return layer(inputs, **kwargs)


def _assert_shapes(outputs, expected, symbolic=False):
    outputs, expected = _as_list(outputs), _as_list(expected) if isinstance(expected, list) else [expected]
    if isinstance(expected[0], int) or expected[0] is None:
        expected = [tuple(expected)]
    assert len(outputs) == len(expected), f"{len(outputs)} outputs, expected {len(expected)}"
    for out, shape in zip(outputs, expected):
        shape = (None, *tuple(shape)[1:]) if symbolic else tuple(shape)
        assert tuple(out.shape) == shape, f"output shape {tuple(out.shape)} != expected {shape}"


def _assert_close(actual, expected, atol, what):
    for a, e in zip(_to_numpy(actual), _to_numpy(expected)):
        np.testing.assert_allclose(a, e, atol=atol, rtol=atol, err_msg=what)


def run_layer_test(
    layer_cls,
    init_kwargs,
    inputs,
    expected_output_shape,
    mask=None,
    call_kwargs=None,
    run_training=True,
    run_jit=True,
    run_mixed_precision=True,
    mixed_precision_atol=2e-2,
):
    """Runs every generic check on a layer; raises AssertionError on the first failure.

    Args:
        layer_cls: the layer class.
        init_kwargs: constructor arguments.
        inputs: a NumPy array or a list of arrays (the layer's `inputs`).
        expected_output_shape: a shape tuple, or a list of them for several outputs.
        mask: None, a boolean array, or a list aligned with `inputs` (entries may be None),
            passed as `mask=`. Inputs at masked positions are then perturbed, and every output
            must stay the same.
        call_kwargs: further call arguments (e.g. `return_attention_scores=True`).
        run_training: fit one step and check that every trainable weight changes.
        run_jit: compare `jit_compile=True` output to eager output.
        run_mixed_precision: run under "mixed_float16" with the same weights; outputs finite
            and within `mixed_precision_atol` of float32.

    Returns:
        The built layer and its eager outputs (a list).
    """
    call_kwargs = dict(call_kwargs or {})
    inputs_np = [np.asarray(x) for x in _as_list(inputs)]
    inputs_arg = inputs_np if isinstance(inputs, (list, tuple)) else inputs_np[0]
    masks_np = None
    if mask is not None:
        masks_np = [None if m is None else np.asarray(m, bool) for m in _as_list(mask)]
    masks_arg = masks_np if isinstance(mask, (list, tuple)) or masks_np is None else masks_np[0]

    # === Config round trip and registered serialization ===
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    assert layer_cls.from_config(config).get_config() == config, "from_config(get_config()) differs"
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is layer_cls, f"deserialized to {type(restored)} without custom_objects"

    # === Eager call and shapes ===
    eager = _to_numpy(_call(layer, inputs_arg, masks_arg, call_kwargs))
    _assert_shapes(eager, expected_output_shape)
    for out in eager:
        assert np.all(np.isfinite(out)), "eager output has NaN or inf"

    # === Masking: values at masked positions must not matter ===
    if masks_np is not None:
        rng = np.random.default_rng(0)
        perturbed = []
        for x, m in zip(inputs_np, masks_np + [None] * (len(inputs_np) - len(masks_np))):
            x = x.copy()
            if m is not None and np.issubdtype(x.dtype, np.floating):
                noise = rng.normal(scale=10.0, size=x.shape).astype(x.dtype)
                x = np.where(m.reshape(m.shape + (1,) * (x.ndim - m.ndim)), x, noise)
            perturbed.append(x)
        if len(masks_np) == 2 and len(inputs_np) == 3 and masks_np[1] is not None:
            m = masks_np[1][..., None]  # the value mask also masks the key
            perturbed[2] = np.where(m, perturbed[2], rng.normal(scale=10.0, size=perturbed[2].shape))
            perturbed[2] = perturbed[2].astype(inputs_np[2].dtype)
        perturbed_arg = perturbed if isinstance(inputs, (list, tuple)) else perturbed[0]
        again = _call(layer, perturbed_arg, masks_arg, call_kwargs)
        _assert_close(again, eager, 1e-5, "output changed when masked inputs changed")

    # === Functional model: symbolic shapes, same numbers ===
    sym_inputs = [keras.Input(x.shape[1:], dtype=str(x.dtype)) for x in inputs_np]
    sym_masks = None
    model_inputs = list(sym_inputs)
    feed = list(inputs_np)
    if masks_np is not None:
        sym_masks = [None if m is None else keras.Input(m.shape[1:], dtype="bool") for m in masks_np]
        model_inputs += [m for m in sym_masks if m is not None]
        feed += [m for m in masks_np if m is not None]
    sym_arg = sym_inputs if isinstance(inputs, (list, tuple)) else sym_inputs[0]
    sym_mask_arg = sym_masks if isinstance(mask, (list, tuple)) or sym_masks is None else sym_masks[0]
    fresh = layer_cls.from_config(config)
    sym_out = _call(fresh, sym_arg, sym_mask_arg, call_kwargs)
    _assert_shapes(sym_out, expected_output_shape, symbolic=True)
    model = keras.Model(model_inputs, sym_out)
    fresh.set_weights(layer.get_weights())
    _assert_close(model(feed), eager, 1e-5, "functional model output differs from eager layer")

    # === .keras save / load without custom_objects ===
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
    _assert_close(loaded(feed), model(feed), 1e-6, "output changed after .keras save/load")

    # === jit_compile ===
    if run_jit:
        jitted = tf.function(lambda *xs: model(list(xs)), jit_compile=True)
        _assert_close(jitted(*feed), eager, 1e-5, "jit_compile=True output differs")

    # === fit: one step moves every trainable weight ===
    if run_training and layer.trainable_weights:
        first = _as_list(sym_out)[0]
        train_model = keras.Model(model_inputs, first)
        train_model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        before = [np.array(w) for w in fresh.trainable_weights]
        target = np.random.default_rng(1).normal(size=eager[0].shape).astype("float32")
        history = train_model.fit(feed, target, epochs=1, batch_size=len(inputs_np[0]), verbose=0)
        assert np.isfinite(history.history["loss"][0]), "loss is not finite"
        unchanged = [
            w.path for w, b in zip(fresh.trainable_weights, before) if np.array_equal(np.array(w), b)
        ]
        assert not unchanged, f"weights not updated by fit: {unchanged}"

    # === mixed precision ===
    if run_mixed_precision:
        mixed = layer_cls.from_config({**config, "dtype": "mixed_float16"})
        _call(mixed, inputs_arg, masks_arg, call_kwargs)  # build
        mixed.set_weights(layer.get_weights())
        out = _to_numpy(_call(mixed, inputs_arg, masks_arg, call_kwargs))
        for o in out:
            assert np.all(np.isfinite(o.astype("float32"))), "mixed_float16 output not finite"
        for o, e in zip(out, eager):
            np.testing.assert_allclose(
                o.astype("float32"), e, atol=mixed_precision_atol, rtol=mixed_precision_atol,
                err_msg="mixed_float16 output far from float32",
            )
    return layer, eager
