"""Samplers: decode a sequence in graph, one `step` at a time, for the whole batch at once.

A sampler is given a step function `step(tokens, state, memory, memory_mask, t) -> (logits,
state, weights)` (an `AttentionDecoder.step`), runs a `while` loop to `max_length` or until every
sequence has produced the end token, and returns the tokens and the attention weights of each
output position. Greedy and random sampling override one hook, `next_token(logits)`; beam search
overrides the loop. Samplers are looked up by name with `get`.

Outputs are collected in preallocated tensors (not `TensorArray`s) so that the loop converts to
TFLite with builtin ops only (see DESIGN.md).

References:
    Wu et al. (2016), "Google's Neural Machine Translation System" (beam search length penalty
    `lp(Y) = ((5 + |Y|) / 6)^α`). Sutskever, Vinyals, Le (2014) (left-to-right beam search).
"""

import keras
import tensorflow as tf
from keras import ops

__all__ = ["Sampler", "GreedySampler", "RandomSampler", "BeamSampler", "get"]

_NEG = -1.0e9  # finite "minus infinity" for log-probabilities: inf - inf would give NaN
PAD = 0  # the padding id written after a sequence's end (kzoo's tokenizers use 0 for padding)
# Defaults: the reserved ids of kzoo's tokenizers ([PAD] 0, [UNK] 1, [START] 2, [END] 3).
_DEFAULT_IDS = {"start_id": 2, "end_id": 3, "banned_ids": (0, 1, 2)}


def _forbid(logits, banned_ids):
    """Logits with the `banned_ids` (padding, `[UNK]`, `[START]`) made impossible."""
    vocab = ops.shape(logits)[-1]
    banned = ops.zeros((vocab,), "bool")
    for token in banned_ids:
        banned = ops.logical_or(banned, ops.arange(vocab) == token)
    return ops.where(banned, ops.cast(_NEG, logits.dtype), logits)


def _set_column(buffer, t, values):
    """`buffer[:, ..., t] = values` along axis 1 without a scatter: `buffer (B, L, ...)`."""
    length = ops.shape(buffer)[1]
    hit = ops.arange(length) == t  # (L,)
    hit = ops.reshape(hit, (1, -1) + (1,) * (len(buffer.shape) - 2))
    return ops.where(hit, ops.expand_dims(values, 1), buffer)


@keras.saving.register_keras_serializable(package="kzoo")
class Sampler:
    """Base sampler: the decoding loop; subclasses choose the next token with `next_token`.

    Args:
        start_id: the token fed at the first step.
        end_id: the token that ends a sequence.
        banned_ids: tokens never output (padding, unknown, start).

    Call arguments:
        step: the step function.
        state: the flat initial state list, each `(batch_size, ...)`.
        memory: `(batch_size, S, D)`; memory_mask: boolean `(batch_size, S)` or None.
        max_length: number of output positions (an int or scalar tensor).

    Returns:
        `(tokens, weights)`: int32 `(batch_size, max_length)` ending in `[END]` then 0 padding,
        and float32 `(batch_size, max_length, S)` attention weights (zeros without attention).
    """

    def __init__(self, start_id=_DEFAULT_IDS["start_id"], end_id=_DEFAULT_IDS["end_id"], banned_ids=_DEFAULT_IDS["banned_ids"]):
        for name, value in (("start_id", start_id), ("end_id", end_id)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"`{name}` must be an int >= 0. Received: {name}={value!r}")
        self.start_id, self.end_id = start_id, end_id
        self.banned_ids = tuple(int(i) for i in banned_ids)

    def next_token(self, logits):
        """The next tokens `(batch_size,)` int32 from logits `(batch_size, V)`."""
        raise NotImplementedError

    def __call__(self, step, state, memory, memory_mask, max_length):
        batch = ops.shape(memory)[0]
        source_length = ops.shape(memory)[1]
        tokens = ops.zeros((batch, max_length), "int32")
        weights = ops.zeros((batch, max_length, source_length), "float32")
        previous = ops.full((batch,), self.start_id, "int32")
        done = ops.zeros((batch,), "bool")

        def cond(t, previous, done, state, tokens, weights):
            return ops.logical_and(t < max_length, ops.logical_not(ops.all(done)))

        def body(t, previous, done, state, tokens, weights):
            logits, state, step_weights = step(previous, state, memory, memory_mask, t)
            token = self.next_token(_forbid(ops.cast(logits, "float32"), self.banned_ids))
            token = ops.where(done, PAD, token)
            tokens = _set_column(tokens, t, token)
            if step_weights is not None:
                weights = _set_column(weights, t, ops.cast(step_weights, "float32"))
            done = ops.logical_or(done, token == self.end_id)
            return t + 1, token, done, list(state), tokens, weights

        loop = (ops.convert_to_tensor(0), previous, done, list(state), tokens, weights)
        _, _, _, _, tokens, weights = ops.while_loop(cond, body, loop)
        return tokens, weights

    def get_config(self):
        return {"start_id": self.start_id, "end_id": self.end_id, "banned_ids": list(self.banned_ids)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="kzoo")
class GreedySampler(Sampler):
    """Picks the most likely token at every step.

    Examples:
        >>> import numpy as np
        >>> GreedySampler().next_token(np.array([[0.0, 0.0, 0.0, 1.0, 5.0]])).numpy().tolist()
        [4]
    """

    def next_token(self, logits):
        # tf.math.argmax, not keras.ops.argmax: Keras' version bit-twiddles -0.0 with
        # BitwiseAnd, an op TFLite lacks.
        return tf.math.argmax(logits, axis=-1, output_type=tf.int32)


@keras.saving.register_keras_serializable(package="kzoo")
class RandomSampler(Sampler):
    """Samples the next token from `softmax(logits / temperature)`.

    Args:
        temperature: float > 0; lower is closer to greedy.
        seed: seed of the sampling.
    """

    def __init__(self, temperature=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(temperature, (int, float)) or temperature <= 0:
            raise ValueError(f"`temperature` must be a float > 0. Received: temperature={temperature!r}")
        self.temperature = float(temperature)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def next_token(self, logits):
        sample = keras.random.categorical(logits / self.temperature, 1, seed=self.seed_generator)
        return ops.cast(sample[:, 0], "int32")

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature, "seed": self.seed}


@keras.saving.register_keras_serializable(package="kzoo")
class BeamSampler(Sampler):
    """Beam search: keeps the `beam_width` best partial translations at every step.

    Candidates are ranked by `log P(Y) / lp(Y)` with the GNMT length penalty
    `lp(Y) = ((5 + |Y|) / 6)^α` (Wu et al. 2016); `α = 0` ranks by log-probability. A beam that has
    produced `[END]` keeps its score and length and competes with the growing ones. An example is
    finished as soon as its best ended beam outranks anything a growing beam could still reach
    (log-probabilities only fall as a beam grows, and with `α > 0` its rank is at best
    `log P / lp(max_length)`), and the loop stops when every example is finished: the result is
    the one of searching to the end, without the steps spent on beams that cannot win. With
    `beam_width=1` the result is exactly the greedy one.

    Args:
        beam_width: number of beams, an int >= 1.
        length_penalty: `α >= 0` (GNMT uses 0.6 to 1.0).
    """

    def __init__(self, beam_width=4, length_penalty=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(beam_width, bool) or not isinstance(beam_width, int) or beam_width < 1:
            raise ValueError(f"`beam_width` must be an int >= 1. Received: beam_width={beam_width!r}")
        if not isinstance(length_penalty, (int, float)) or length_penalty < 0:
            raise ValueError(
                f"`length_penalty` must be a float >= 0. Received: length_penalty={length_penalty!r}"
            )
        self.beam_width = beam_width
        self.length_penalty = float(length_penalty)

    def _penalty(self, length):
        return ops.power((5.0 + ops.cast(length, "float32")) / 6.0, self.length_penalty)

    def __call__(self, step, state, memory, memory_mask, max_length):
        k = self.beam_width
        batch = ops.shape(memory)[0]
        source_length = ops.shape(memory)[1]

        def tile(x):  # (B, ...) -> (B * K, ...), beams of one example adjacent
            return ops.repeat(x, k, axis=0)

        memory = tile(memory)
        memory_mask = None if memory_mask is None else tile(memory_mask)
        state = [tile(s) for s in state]
        first = ops.concatenate([ops.zeros((1,)), ops.full((k - 1,), _NEG)])
        scores = ops.zeros((batch, k)) + first[None, :]  # (B, K) only beam 0 alive at t=0
        lengths = ops.zeros((batch, k), "int32")
        done = ops.zeros((batch, k), "bool")
        tokens = ops.zeros((batch, k, max_length), "int32")
        weights = ops.zeros((batch, k, max_length, source_length), "float32")
        previous = ops.full((batch * k,), self.start_id, "int32")
        finished = ops.zeros((batch,), "bool")
        best_reachable = self._penalty(max_length)

        def cond(t, previous, scores, lengths, done, finished, state, tokens, weights):
            return ops.logical_and(t < max_length, ops.logical_not(ops.all(finished)))

        def body(t, previous, scores, lengths, done, finished, state, tokens, weights):
            logits, state, step_weights = step(previous, state, memory, memory_mask, t)
            logits = _forbid(ops.cast(logits, "float32"), self.banned_ids)  # (B*K, V)
            vocab = logits.shape[-1]
            candidates = k if vocab is None else min(k, vocab)
            pad_only = ops.where(ops.arange(candidates) == 0, 0.0, _NEG)[None, None, :]
            # The K best continuations of each beam hold the K best of all: the ranking within a
            # beam is the logits' (one log-normaliser, one length penalty per beam), so only
            # K*K candidates per example are scored, not K*V.
            top_logits, top_tokens = ops.top_k(logits, candidates)  # (B*K, C)
            log_probs = top_logits - ops.logsumexp(logits, axis=-1, keepdims=True)
            log_probs = ops.reshape(log_probs, (batch, k, candidates))  # (B, K, C)
            top_tokens = ops.reshape(top_tokens, (batch, k, candidates))
            # An ended beam has exactly one continuation, padding, at no cost.
            log_probs = ops.where(done[:, :, None], pad_only, log_probs)
            top_tokens = ops.where(done[:, :, None], PAD, top_tokens)
            total = scores[:, :, None] + log_probs  # (B, K, C)
            new_lengths = lengths + ops.cast(ops.logical_not(done), "int32")  # (B, K)
            ranked = total / self._penalty(new_lengths)[:, :, None]
            _, best = ops.top_k(ops.reshape(ranked, (batch, k * candidates)), k)  # (B, K)
            beam = best // candidates  # (B, K) which old beam each new beam extends
            token = ops.cast(ops.take_along_axis(ops.reshape(top_tokens, (batch, k * candidates)), best, axis=1), "int32")
            scores = ops.take_along_axis(ops.reshape(total, (batch, k * candidates)), best, axis=1)
            lengths = ops.take_along_axis(new_lengths, beam, axis=1)
            was_done = ops.take_along_axis(done, beam, axis=1)
            done = ops.logical_or(was_done, token == self.end_id)
            best_ended = ops.max(ops.where(done, scores / self._penalty(lengths), 2 * _NEG), axis=1)
            best_growing = ops.max(ops.where(done, 2 * _NEG, scores / best_reachable), axis=1)
            finished = best_ended > best_growing  # (B,); no growing beam left also counts
            flat = ops.reshape(beam + ops.arange(batch)[:, None] * k, (-1,))  # (B*K,)
            state = [ops.take(s, flat, axis=0) for s in state]
            tokens = _set_column(ops.take(ops.reshape(tokens, (batch * k, max_length)), flat, axis=0), t,
                                 ops.reshape(token, (-1,)))
            tokens = ops.reshape(tokens, (batch, k, max_length))
            if step_weights is not None:  # without attention the buffer stays zeros: no reordering
                weights = ops.take(ops.reshape(weights, (batch * k, max_length, source_length)), flat, axis=0)
                moved = ops.take(ops.cast(step_weights, "float32"), flat, axis=0)
                weights = ops.reshape(_set_column(weights, t, moved), (batch, k, max_length, source_length))
            return t + 1, ops.reshape(token, (-1,)), scores, lengths, done, finished, state, tokens, weights

        loop = (ops.convert_to_tensor(0), previous, scores, lengths, done, finished, list(state), tokens, weights)
        _, _, scores, lengths, _, _, _, tokens, weights = ops.while_loop(cond, body, loop)
        best = tf.math.argmax(scores / self._penalty(lengths), axis=-1, output_type=tf.int32)[:, None]  # (B, 1)
        tokens = ops.take_along_axis(tokens, best[:, :, None], axis=1)[:, 0]  # (B, L)
        weights = ops.take_along_axis(weights, best[:, :, None, None], axis=1)[:, 0]  # (B, L, S)
        return tokens, weights

    def get_config(self):
        return {**super().get_config(), "beam_width": self.beam_width, "length_penalty": self.length_penalty}


_SAMPLERS = {"greedy": GreedySampler, "random": RandomSampler, "beam": BeamSampler}


def get(name, **kwargs):
    """A sampler by name ("greedy", "random", "beam") with its arguments, or a `Sampler` as is."""
    if isinstance(name, Sampler):
        return name
    if name not in _SAMPLERS:
        raise ValueError(f"Unknown sampler: expected one of {sorted(_SAMPLERS)}. Received: name={name!r}")
    return _SAMPLERS[name](**kwargs)
