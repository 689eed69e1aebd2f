"""Lexicon-constrained CTC decoding against brute force: every word sequence scored by its own
best CTC path (a plain Viterbi over the label sequence with blanks, written here); the word-edit
search against edit distances and its local-maximum guarantee."""

import itertools

import numpy as np
import pytest

from kzoo.seq2seq.ctc_lexicon import ctc_lexicon_decode, word_edit_search

BLANK, A, B, SPACE = 0, 1, 2, 3


def best_path_score(log_probs, labels, blank=BLANK):
    """Log-probability of the best CTC path reading exactly `labels` (Graves et al. 2006, with max)."""
    expanded = [blank]
    for label in labels:
        expanded += [label, blank]
    frames, states = len(log_probs), len(expanded)
    score = np.full(states, -np.inf)
    score[0] = log_probs[0, expanded[0]]
    if states > 1:
        score[1] = log_probs[0, expanded[1]]
    for t in range(1, frames):
        new = np.full(states, -np.inf)
        for s in range(states):
            options = [score[s]]
            if s >= 1:
                options.append(score[s - 1])
            if s >= 2 and expanded[s] != blank and expanded[s] != expanded[s - 2]:
                options.append(score[s - 2])
            new[s] = max(options) + log_probs[t, expanded[s]]
        score = new
    return max(score[-1], score[-2] if states > 1 else -np.inf)


def brute_force(log_probs, words, separator, most_words):
    best, best_score = [], -np.inf
    counts = range(1, most_words + 1) if separator is not None else [1]
    for count in counts:
        for sequence in itertools.product(range(len(words)), repeat=count):
            labels = []
            for i, k in enumerate(sequence):
                labels += ([separator] if i else []) + list(words[k])
            score = best_path_score(log_probs, labels)
            if score > best_score:
                best, best_score = list(sequence), score
    return best, best_score


def random_log_probs(rng, frames, labels=4, sharpness=2.0):
    logits = rng.normal(scale=sharpness, size=(frames, labels))
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("seed", range(12))
def test_word_loop_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    words = [[A, B], [B], [A, A], [B, A, B]]  # a repeated label, shared prefixes, a one-label word
    log_probs = random_log_probs(rng, frames=int(rng.integers(6, 11)))
    decoded, score = ctc_lexicon_decode(log_probs, words, separator=SPACE)
    # 10 frames hold at most 5 words (one label each, a separator frame between them).
    expected, expected_score = brute_force(log_probs, words, SPACE, most_words=5)
    assert score == pytest.approx(expected_score, abs=1e-9)
    assert decoded == expected


@pytest.mark.parametrize("seed", range(6))
def test_one_word_without_separator(seed):
    rng = np.random.default_rng(100 + seed)
    words = [[A, B], [B], [A, A], [B, B, A]]
    log_probs = random_log_probs(rng, frames=7)
    decoded, score = ctc_lexicon_decode(log_probs, words)
    scores = [best_path_score(log_probs, w) for w in words]
    assert decoded == [int(np.argmax(scores))]
    assert score == pytest.approx(max(scores), abs=1e-9)


def test_confident_frames_read_as_the_nearest_words():
    # Frames that spell "ab b" with a slip ("abb", no separator frame) are read as lexicon words.
    def frames(sequence, confidence=0.9):
        out = np.full((len(sequence), 4), (1 - confidence) / 3)
        out[np.arange(len(sequence)), sequence] = confidence
        return np.log(out)

    words = [[A, B], [B], [A, A]]
    assert ctc_lexicon_decode(frames([A, B, BLANK, SPACE, B]), words, SPACE)[0] == [0, 1]
    assert ctc_lexicon_decode(frames([A, A, BLANK, B]), words)[0] == [0]  # "ab" beats "aa" and "b"
    assert ctc_lexicon_decode(frames([A, BLANK, A]), words)[0] == [2]


def test_too_few_frames_gives_no_words():
    log_probs = np.log(np.full((1, 4), 0.25))
    assert ctc_lexicon_decode(log_probs, [[A, A]], SPACE) == ([], float("-inf"))  # "aa" needs 3 frames
    assert ctc_lexicon_decode(np.zeros((0, 4)), [[A]], SPACE) == ([], float("-inf"))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"words": []}, "non-empty list"),
        ({"words": [[A], []]}, "non-empty list"),
        ({"words": [[A, 7]]}, r"id in \[0, 4\).*Received: 7"),
        ({"words": [[BLANK]]}, "other than the blank"),
        ({"words": [[A, SPACE]], "separator": SPACE}, "separator label 3"),
    ],
)
def test_bad_lexicon(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ctc_lexicon_decode(np.zeros((3, 4)), **kwargs)


def test_bad_log_probs():
    with pytest.raises(ValueError, match=r"2-D \(frames, labels\).*shape=\(4,\)"):
        ctc_lexicon_decode(np.zeros(4), [[A]])


def edit_distance(a, b):
    """Levenshtein distance between two sequences (dynamic programming, written here)."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def all_edits(words, num_words):
    """Every sequence one substitution, deletion or insertion away (written independently)."""
    out = set()
    for i in range(len(words) + 1):
        for k in range(num_words):
            out.add(words[:i] + (k,) + words[i:])
            if i < len(words):
                out.add(words[:i] + (k,) + words[i + 1 :])
        if i < len(words) and len(words) > 1:
            out.add(words[:i] + words[i + 1 :])
    out.discard(words)
    return out


@pytest.mark.parametrize("seed", range(8))
def test_word_edit_search_walks_to_the_nearest_sequence(seed):
    # Under minus the edit distance to a target, some single edit always comes one step nearer:
    # the search must end on the target from any start, one edit per round.
    rng = np.random.default_rng(seed)
    target = tuple(int(k) for k in rng.integers(0, 5, rng.integers(1, 7)))
    start = [int(k) for k in rng.integers(0, 5, rng.integers(1, 7))]
    calls = []

    def score(candidates):
        calls.append(len(candidates))
        return [-edit_distance(c, target) for c in candidates]

    found, value = word_edit_search(start, num_words=5, score=score)
    assert tuple(found) == target and value == 0
    assert len(calls) == 1 + edit_distance(start, target) + 1  # the start, a move per edit, a last look


@pytest.mark.parametrize("seed", range(6))
def test_word_edit_search_ends_on_a_local_maximum(seed):
    rng = np.random.default_rng(seed)
    table = {}

    def score(candidates):  # a random but fixed score per sequence
        return [table.setdefault(c, float(rng.normal())) for c in candidates]

    start = [int(k) for k in rng.integers(0, 4, 3)]
    found, value = word_edit_search(start, num_words=4, score=score, max_words=5)
    found = tuple(found)
    assert value == table[found] >= table[tuple(start)]
    neighbours = [n for n in all_edits(found, 4) if len(n) <= 5]
    assert max(score(neighbours)) <= value  # no single edit scores higher
    assert all(len(c) <= 5 for c in table)  # never looked past max_words


def test_word_edit_search_one_word_scores_every_word():
    seen = []

    def score(candidates):
        seen.extend(candidates)
        return [{(0,): -3.0, (1,): -1.0, (2,): -2.0}[c] for c in candidates]

    assert word_edit_search([2], 3, score, one_word=True) == ([1], -1.0)
    assert sorted(seen) == [(0,), (1,), (2,)]
    assert word_edit_search([], 3, score) == ([], float("-inf"))  # too few frames: nothing to search


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(start=[0], num_words=0), "`num_words` must be a positive int"),
        (dict(start=[3], num_words=3), r"`start` must be word indices in \[0, 3\)"),
        (dict(start=[-1], num_words=3), "`start` must be word indices"),
    ],
)
def test_word_edit_search_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        word_edit_search(score=lambda c: [0.0] * len(c), **kwargs)
