"""Samplers against hand-computed examples and a plain-Python reference beam search."""

import math

import numpy as np
import pytest

from kzoo.seq2seq import samplers
from kzoo.text import END, PAD, START, UNK

V = 7  # 0 PAD, 1 UNK, 2 START, 3 END, 4.. words


def markov(table):
    """A step function whose next-token logits depend only on the previous token."""
    table = np.asarray(table, "float32")

    def step(tokens, state, memory, memory_mask, t):
        import tensorflow as tf

        weights = tf.ones((tf.shape(tokens)[0], 1))
        return tf.gather(table, tokens), state, weights

    return step


def run(sampler, table, batch=1, max_length=4):
    memory = np.zeros((batch, 1, 1), "float32")
    tokens, weights = sampler(markov(table), [np.zeros((batch, 1), "float32")], memory, None, max_length)
    return np.asarray(tokens), np.asarray(weights)


def log_table(probabilities):
    """Logits from rows of probabilities over the words and END (other tokens impossible)."""
    table = np.full((V, V), -30.0)
    for previous, row in probabilities.items():
        for token, p in row.items():
            table[previous, token] = math.log(p)
    return table


# START: a .5, b .4, END .1 ; after a: a .36, b .34, END .3 ; after b: END .9, a .05, b .05
A, B = 4, 5
CHAIN = log_table({
    START: {A: 0.5, B: 0.4, END: 0.1},
    A: {A: 0.36, B: 0.34, END: 0.3},
    B: {END: 0.9, A: 0.05, B: 0.05},
    END: {END: 1.0}, 6: {END: 1.0}, PAD: {END: 1.0}, UNK: {END: 1.0},
})


def test_greedy_follows_the_most_likely_token_and_pads_after_end():
    tokens, weights = run(samplers.GreedySampler(), CHAIN)
    assert tokens.tolist() == [[A, A, A, A]]  # never ends within 4 steps
    table = CHAIN.copy()
    table[A] = -30.0
    table[A, END] = 0.0
    tokens, weights = run(samplers.GreedySampler(), table, batch=2)
    assert tokens.tolist() == [[A, END, PAD, PAD]] * 2
    np.testing.assert_array_equal(weights[0, :, 0], [1, 1, 0, 0])  # no step after the end


def test_beam_search_finds_the_more_likely_sequence_greedy_misses():
    # P(b END) = .4 * .9 = .36 > every continuation of a (<= .5 * .36 = .18)
    tokens, _ = run(samplers.BeamSampler(beam_width=2), CHAIN)
    assert tokens.tolist() == [[B, END, PAD, PAD]]


def test_unknown_start_and_padding_are_never_produced():
    table = np.zeros((V, V))
    table[:, UNK] = table[:, PAD] = table[:, START] = 50.0
    table[:, 6] = 10.0
    for sampler in (samplers.GreedySampler(), samplers.BeamSampler(3)):
        tokens, _ = run(sampler, table)
        assert set(tokens.ravel()) == {6}


def reference_beam(table, width, alpha, max_length):
    """Plain-Python beam search with the same definition as BeamSampler."""
    allowed = [v for v in range(V) if v not in (PAD, UNK, START)]

    def log_probs(previous):
        row = np.asarray(table[previous], "float64")[allowed]
        row = row - row.max()
        row = row - np.log(np.exp(row).sum())
        return dict(zip(allowed, row))

    def lp(length):
        return ((5.0 + length) / 6.0) ** alpha

    beams = [([], 0.0, 0, False)]  # tokens, log-prob, length, done
    for t in range(max_length):
        if all(b[3] for b in beams):
            break
        candidates = []
        for index, (tokens, score, length, done) in enumerate(beams):
            if done:
                candidates.append((score / lp(length), index, PAD, (tokens + [PAD], score, length, True)))
                continue
            previous = tokens[-1] if tokens else START
            for token, logp in log_probs(previous).items():
                new = (tokens + [token], score + logp, length + 1, token == END)
                candidates.append((new[1] / lp(length + 1), index, token, new))
        candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
        beams = [c[3] for c in candidates[:width]]
    best = max(range(len(beams)), key=lambda i: (beams[i][1] / lp(beams[i][2]), -i))
    tokens = beams[best][0]
    return tokens + [PAD] * (max_length - len(tokens))


@pytest.mark.parametrize(
    "width,alpha,seed,length",
    [(2, 0.0, 0, 6), (3, 0.0, 1, 6), (3, 1.0, 2, 6), (4, 2.0, 3, 6), (5, 0.6, 4, 6), (3, 0.0, 5, 15), (4, 0.8, 6, 15)],
)
def test_beam_search_matches_reference_implementation(width, alpha, seed, length):
    """The reference searches until every beam has ended; the sampler may stop earlier."""
    table = np.random.default_rng(seed).normal(scale=2.0, size=(V, V)).astype("float32")
    tokens, _ = run(samplers.BeamSampler(width, alpha), table, max_length=length)
    assert tokens[0].tolist() == reference_beam(table, width, alpha, length)


def test_beam_width_one_is_exactly_greedy():
    rng = np.random.default_rng(7)
    for _ in range(5):
        table = rng.normal(size=(V, V)).astype("float32")
        greedy, _ = run(samplers.GreedySampler(), table, batch=3, max_length=6)
        beam, _ = run(samplers.BeamSampler(1), table, batch=3, max_length=6)
        np.testing.assert_array_equal(greedy, beam)


def test_get_and_errors():
    assert isinstance(samplers.get("greedy"), samplers.GreedySampler)
    assert samplers.get("beam", beam_width=3).beam_width == 3
    with pytest.raises(ValueError, match="Unknown sampler"):
        samplers.get("nucleus")
    with pytest.raises(ValueError, match="beam_width"):
        samplers.BeamSampler(0)
    with pytest.raises(ValueError, match="length_penalty"):
        samplers.BeamSampler(2, -1.0)


def test_random_sampler_is_seeded():
    table = np.zeros((V, V), "float32")
    a, _ = run(samplers.RandomSampler(seed=3), table, batch=4, max_length=6)
    b, _ = run(samplers.RandomSampler(seed=3), table, batch=4, max_length=6)
    np.testing.assert_array_equal(a, b)
    assert len(set(a[a > 0].ravel())) > 1


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_beam_search_stops_once_no_growing_beam_can_win(alpha):
    """START -> END (.9) or A (.1); A -> A (.99): the ended beam outranks anything the rambling
    A-beam can reach, so the search stops after one step instead of running to `max_length`."""
    import tensorflow as tf

    table = log_table({START: {END: 0.9, A: 0.1}, A: {A: 0.99, END: 0.01}})
    calls = tf.Variable(0)
    step = markov(table)

    def counting_step(*args):
        calls.assign_add(1)
        return step(*args)

    memory = np.zeros((1, 1, 1), "float32")
    tokens, _ = samplers.BeamSampler(2, alpha)(counting_step, [np.zeros((1, 1), "float32")], memory, None, 20)
    assert np.asarray(tokens)[0].tolist() == [END] + [PAD] * 19
    assert int(calls.numpy()) == 1
    assert reference_beam(table, 2, alpha, 20) == np.asarray(tokens)[0].tolist()


def test_samplers_take_their_start_and_end_ids():
    """A sampler decodes with the ids it is given, not the text tokenizer's."""
    from kzoo.seq2seq.samplers import BeamSampler, GreedySampler

    seen = []

    def step(tokens, state, memory, memory_mask, t):
        seen.append(np.asarray(tokens).tolist())
        logits = np.full((1, 6), -5.0, "float32")
        logits[0, 5 if t == 0 else 4] = 5.0  # 5 first, then 4 (the end id below)
        return logits, state, None

    memory = np.zeros((1, 2, 3), "float32")
    tokens, _ = GreedySampler(start_id=1, end_id=4, banned_ids=(0,))(step, [], memory, None, 6)
    assert seen[0] == [1]
    assert np.asarray(tokens).tolist() == [[5, 4, 0, 0, 0, 0]]
    config = BeamSampler(3, 0.5, start_id=1, end_id=4).get_config()
    assert BeamSampler.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="end_id"):
        GreedySampler(end_id=-1)
