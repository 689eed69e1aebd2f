"""AttentionDecoder: the fast all-steps path equals the step loop; scheduled sampling feeds predictions."""

import keras
import numpy as np
import pytest

from kzoo.seq2seq import AttentionDecoder, RNNEncoder

V = 11


def inputs(batch=3, steps=5, source=6, seed=0):
    rng = np.random.default_rng(seed)
    target = rng.integers(4, V, size=(batch, steps)).astype("int32")
    target[0, 3:] = 0  # padding
    memory = rng.normal(size=(batch, source, 8)).astype("float32")
    mask = np.ones((batch, source), bool)
    mask[1, 4:] = False
    return target, memory, mask


@pytest.mark.parametrize("attention", [None, "global", "local-m", "local-p"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_all_steps_at_once_equals_the_step_loop(attention, cell):
    keras.utils.set_random_seed(0)
    decoder = AttentionDecoder(V, embedding_dim=4, units=8, cell=cell, attention=attention, window=2)
    target, memory, mask = inputs()
    fast = decoder(target, memory, mask, training=False)
    looped = decoder(target, memory, mask, sampling_probability=0.0, training=True)  # step loop, no dropout
    real = target != 0
    np.testing.assert_allclose(np.asarray(fast)[real], np.asarray(looped)[real], atol=1e-5)


def test_step_by_step_reproduces_teacher_forced_logits():
    keras.utils.set_random_seed(1)
    decoder = AttentionDecoder(V, embedding_dim=4, units=8, attention="global", input_feeding=True)
    target, memory, mask = inputs()
    logits = np.asarray(decoder(target, memory, mask))
    state = decoder.initial_state(None, 3)
    for t in range(target.shape[1]):
        step_logits, state, weights = decoder.step(target[:, t], state, memory, mask, t)
        np.testing.assert_allclose(np.asarray(step_logits)[target[:, t] != 0], logits[:, t][target[:, t] != 0], atol=1e-5)
        np.testing.assert_allclose(np.asarray(weights)[1, 4:], 0.0)  # masked memory gets no weight


def test_scheduled_sampling_feeds_reference_or_own_prediction_with_probability_p():
    keras.utils.set_random_seed(2)
    decoder = AttentionDecoder(V, embedding_dim=4, units=8, seed=5)
    target, memory, mask = inputs(batch=64, steps=12)
    target[0, 3:] = 5
    kwargs = dict(training=True, return_details=True)
    _, details = decoder(target, memory, mask, sampling_probability=0.0, **kwargs)
    np.testing.assert_array_equal(details["fed_tokens"], target)  # p = 0: teacher forcing
    logits, details = decoder(target, memory, mask, sampling_probability=1.0, **kwargs)
    fed = np.asarray(details["fed_tokens"])
    predictions = np.asarray(logits).argmax(-1)
    np.testing.assert_array_equal(fed[:, 0], target[:, 0])  # the first input is always [START]
    np.testing.assert_array_equal(fed[:, 1:], predictions[:, :-1])  # p = 1: own previous prediction
    logits, details = decoder(target, memory, mask, sampling_probability=0.5, **kwargs)
    fed = np.asarray(details["fed_tokens"])[:, 1:]
    own = fed == np.asarray(logits).argmax(-1)[:, :-1]
    reference = fed == target[:, 1:]
    assert np.all(own | reference)
    share = (own & ~reference).sum() / (~(own & reference)).sum()
    assert 0.4 < share < 0.6, share


def test_encoder_masks_padding_and_concatenates_directions():
    keras.utils.set_random_seed(3)
    encoder = RNNEncoder(V, embedding_dim=4, units=3, bidirectional=True, num_layers=2)
    ids = np.array([[5, 6, 7, 0, 0], [5, 6, 7, 8, 9]], "int32")
    outputs, mask, states = encoder(ids)
    assert outputs.shape == (2, 5, 6) and len(states) == 2 and states[1][0].shape == (2, 6)
    np.testing.assert_array_equal(mask, ids != 0)
    alone, _, alone_states = encoder(ids[:1, :3])
    np.testing.assert_allclose(outputs[0, :3], alone[0], atol=1e-5)  # padding changes nothing
    np.testing.assert_allclose(states[1][0][0], alone_states[1][0][0], atol=1e-5)


def test_decoder_errors_and_config():
    with pytest.raises(ValueError, match="attention"):
        AttentionDecoder(V, attention="sparse")
    with pytest.raises(ValueError, match="input_feeding"):
        AttentionDecoder(V, attention=None, input_feeding=True)
    with pytest.raises(ValueError, match="cell"):
        AttentionDecoder(V, cell="rnn")
    decoder = AttentionDecoder(V, units=8, attention="local-p", window=3)
    clone = AttentionDecoder.from_config(decoder.get_config())
    assert clone.attention.mode == "predictive" and clone.attention.window == 3


def test_attentional_vector_is_the_state_plus_the_attention_term():
    """`h̃ = h + tanh(W_c [c; h])`, checked against NumPy with the layer's own weights."""
    keras.utils.set_random_seed(4)
    decoder = AttentionDecoder(V, embedding_dim=4, units=8, attention="global", score="dot")
    target, memory, mask = inputs()
    memory = memory[:, :, :8]
    state = decoder.initial_state(None, 3)
    logits, new_state, weights = decoder.step(target[:, 0], state, memory, mask, 0)
    h = np.asarray(new_state[0])  # the LSTM output (B, U)
    scores = np.einsum("bu,bsu->bs", h, memory)
    scores = np.where(mask, scores, -np.inf)
    alpha = np.exp(scores - scores.max(-1, keepdims=True))
    alpha /= alpha.sum(-1, keepdims=True)
    np.testing.assert_allclose(np.asarray(weights), alpha, atol=1e-5)
    context = np.einsum("bs,bsu->bu", alpha, memory)
    attentional = h + np.tanh(np.concatenate([context, h], -1) @ np.asarray(decoder.combine.kernel))
    kernel, bias = (np.asarray(w) for w in decoder.output_layer.weights)
    np.testing.assert_allclose(np.asarray(logits), attentional @ kernel + bias, atol=1e-4)


def test_decoder_calls_any_attention_layer_through_one_hook():
    import kzoo

    local = kzoo.layers.LocalAttention(window=1, mode="monotonic")
    query = np.zeros((2, 3, 4), "float32")
    positions = np.asarray(local.decoding_arguments(query, 5)["positions"])
    np.testing.assert_array_equal(positions, [[5, 6, 7], [5, 6, 7]])
    assert kzoo.layers.Attention().decoding_arguments(query, 5) == {}
    assert kzoo.layers.LocalAttention(mode="predictive").decoding_arguments(query, 5) == {}
