"""CTC decoding constrained to a closed vocabulary: the best path through a loop of lexicon words.

A character-level CTC head spells freely, so on a small task its errors include words that do not
exist ("nines", "foure"). With a lexicon the decoder searches only the paths that read as a
sequence of lexicon words, separated by exactly one separator label (the space) when a separator
is given, or as one lexicon word when it is not. The search is Viterbi over a graph of CTC states
(Graves et al. 2006): per word, a state for each of its labels and a blank state after each label,
plus a leading blank, and a separator state and a blank after it between words. A label state
loops on itself, moves to the blank after it and to the next label (directly only when the next
label differs: a repeated label needs a blank between its copies). The separator state is entered
from the end of any word and leads to the first label of any word, which makes the word loop of a
decoding graph (Mohri, Pereira and Riley 2002, the lexicon transducer closed under repetition).

The result is the word sequence of the single most probable path (Viterbi, max over alignments),
which approximates the most probable word sequence (a sum over its alignments) the way the best
path approximates it in greedy CTC decoding; it is exact for the path score it reports.

`word_edit_search` refines such a start under another score of whole word sequences (for example
the joint CTC and attention score of Watanabe et al. 2017, which no path search can compute
frame by frame): hill climbing over single-word edits (a substitution, a deletion or an
insertion of one lexicon word), moving to the best neighbour while it scores higher. It ends on a
local maximum of the score, which need not be the global one; with one word per recording it
scores every lexicon word and is exact.

References:
    Graves, Fernández, Gomez, Schmidhuber (2006), "Connectionist Temporal Classification".
    Mohri, Pereira, Riley (2002), "Weighted finite-state transducers in speech recognition".
    Watanabe, Hori, Kim, Hershey, Hayashi (2017), "Hybrid CTC/Attention Architecture for
    End-to-End Speech Recognition".
"""

import numpy as np

__all__ = ["ctc_lexicon_decode", "word_edit_search"]


def _graph(words, separator, blank):
    """States of the word-loop graph: `emit (N,)` label ids, `preds (N, P)` predecessor states
    (the state itself included; padded with N, an unreachable state), start and final masks and
    `word_of_entry (N,)`: the word whose first label a state is, else -1."""
    emit, preds, entry_word = [blank], [[0]], [-1]  # state 0: the leading blank
    starts, finals, word_ends = [0], [], []
    first_states = []
    for k, word in enumerate(words):
        previous_label = previous_blank = None
        for j, label in enumerate(word):
            label_state = len(emit)
            if j == 0:
                first_states.append(label_state)
                emit.append(label), preds.append([label_state]), entry_word.append(k)
                starts.append(label_state)
            else:
                sources = [label_state, previous_blank] + ([previous_label] if label != word[j - 1] else [])
                emit.append(label), preds.append(sources), entry_word.append(-1)
            blank_state = len(emit)
            emit.append(blank), preds.append([blank_state, label_state]), entry_word.append(-1)
            previous_label, previous_blank = label_state, blank_state
        word_ends += [previous_label, previous_blank]
    finals = list(word_ends)
    entries = [0]
    if separator is not None:
        space = len(emit)
        emit.append(separator), preds.append([space] + word_ends), entry_word.append(-1)
        space_blank = len(emit)
        emit.append(blank), preds.append([space_blank, space]), entry_word.append(-1)
        entries += [space, space_blank]
    for state in first_states:
        preds[state] += entries
    n = len(emit)
    width = max(len(p) for p in preds)
    table = np.full((n, width), n, np.int64)
    for s, p in enumerate(preds):
        table[s, : len(p)] = p
    start, final = np.zeros(n, bool), np.zeros(n, bool)
    start[starts], final[finals] = True, True
    return np.array(emit), table, start, final, np.array(entry_word)


def ctc_lexicon_decode(log_probs, words, separator=None, blank=0):
    """The best CTC path that reads as lexicon words, and its log-probability.

    Args:
        log_probs: `(frames, labels)` log-probabilities of one utterance (blank included).
        words: the lexicon, a non-empty list of non-empty label-id sequences (one per word).
        separator: the label id written between words (the space), or None to decode exactly
            one word.
        blank: the blank's label id.

    Returns:
        `(indices, score)`: the decoded words as indices into `words`, and the path's total
        log-probability; `([], -inf)` when the utterance has too few frames for any word.

    Examples:
        >>> import numpy as np
        >>> frames = np.log([[0.1, 0.8, 0.05, 0.05], [0.1, 0.1, 0.7, 0.1], [0.1, 0.1, 0.7, 0.1]])
        >>> ctc_lexicon_decode(frames, words=[[1, 2], [2, 1]])[0]  # greedy reads [1, 2]: word 0
        [0]
        >>> ctc_lexicon_decode(frames, words=[[2, 1], [1, 1]])[0]  # the nearer of two misfits
        [1]
    """
    log_probs = np.asarray(log_probs, np.float64)
    if log_probs.ndim != 2:
        raise ValueError(f"`log_probs` must be 2-D (frames, labels). Received: shape={log_probs.shape}")
    labels = log_probs.shape[1]
    if not words or any(len(w) == 0 for w in words):
        raise ValueError(f"`words` must be a non-empty list of non-empty label sequences. Received: words={words!r}")
    used = [int(x) for w in words for x in w] + ([int(separator)] if separator is not None else [])
    bad = [x for x in used if not 0 <= x < labels or x == blank]
    if bad:
        raise ValueError(
            f"Every label of `words` and `separator` must be an id in [0, {labels}) other than the blank "
            f"({blank}). Received: {bad[0]}"
        )
    if separator is not None and any(int(separator) in [int(x) for x in w] for w in words):
        raise ValueError(f"No word may contain the separator label {separator}.")
    if log_probs.shape[0] == 0:
        return [], float("-inf")
    emit, preds, start, final, entry_word = _graph([[int(x) for x in w] for w in words], separator, blank)
    n = len(emit)
    frames = log_probs[:, emit]  # (T, N)
    score = np.where(start, frames[0], -np.inf)
    back = np.zeros((len(frames), n), np.int64)
    rows = np.arange(n)
    for t in range(1, len(frames)):
        candidates = np.append(score, -np.inf)[preds]  # (N, P)
        best = np.argmax(candidates, axis=1)
        back[t] = preds[rows, best]
        score = candidates[rows, best] + frames[t]
    total = np.where(final, score, -np.inf)
    state = int(np.argmax(total))
    if not np.isfinite(total[state]):
        return [], float("-inf")
    path = [state]
    for t in range(len(frames) - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    path.reverse()
    decoded = [int(entry_word[s]) for t, s in enumerate(path) if entry_word[s] >= 0 and (t == 0 or path[t - 1] != s)]
    return decoded, float(total[state])


def _neighbours(words, num_words, max_words):
    """The word sequences one edit away from `words` (a tuple of word indices), none empty."""
    out = set()
    for i, current in enumerate(words):
        out.update(words[:i] + (k,) + words[i + 1 :] for k in range(num_words) if k != current)
        if len(words) > 1:
            out.add(words[:i] + words[i + 1 :])
    if len(words) < max_words:
        out.update(words[:i] + (k,) + words[i:] for i in range(len(words) + 1) for k in range(num_words))
    return sorted(out)


def word_edit_search(start, num_words, score, max_words=None, one_word=False, max_rounds=20):
    """The best word sequence near `start` under `score`, by hill climbing over single-word edits.

    Args:
        start: the first word sequence, a list of word indices (e.g. `ctc_lexicon_decode`'s);
            an empty start is returned as it is (no frames to read).
        num_words: the lexicon size (word indices are `0 .. num_words - 1`).
        score: a function from a list of word-index tuples to their scores (higher is better).
        max_words: the longest sequence to consider (None: no limit).
        one_word: score every single word and return the best (recordings of one word).
        max_rounds: most moves (each scores every neighbour of the current sequence once).

    Returns:
        `(indices, score)`: a list of word indices and its score.

    Examples:
        >>> target = (2, 0, 1)
        >>> def closeness(candidates):  # minus the number of positions that differ from target
        ...     return [-(abs(len(c) - 3) + sum(a != b for a, b in zip(c, target))) for c in candidates]
        >>> word_edit_search([2, 1], num_words=3, score=closeness)
        ([2, 0, 1], 0.0)
    """
    if isinstance(num_words, bool) or not isinstance(num_words, int) or num_words < 1:
        raise ValueError(f"`num_words` must be a positive int. Received: num_words={num_words!r}")
    if any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < num_words for k in start):
        raise ValueError(f"`start` must be word indices in [0, {num_words}). Received: start={list(start)!r}")
    if not len(start):
        return [], float("-inf")
    if one_word:
        candidates = [(k,) for k in range(num_words)]
        scores = np.asarray(score(candidates), np.float64)
        best = int(np.argmax(scores))
        return list(candidates[best]), float(scores[best])
    max_words = float("inf") if max_words is None else max_words
    current = tuple(int(k) for k in start)
    best = float(np.asarray(score([current]), np.float64)[0])
    for _ in range(max_rounds):
        candidates = _neighbours(current, num_words, max_words)
        scores = np.asarray(score(candidates), np.float64)
        i = int(np.argmax(scores))
        if not scores[i] > best:
            break
        current, best = candidates[i], float(scores[i])
    return list(current), best
