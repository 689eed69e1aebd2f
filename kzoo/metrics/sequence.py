"""Corpus-level sequence metrics: BLEU, word error rate and character error rate.

Each keeps a few float64 sufficient statistics (n-gram matches and totals, lengths, edit counts),
so corpus scores are exact and independent of batching. Inputs are strings (eagerly: Python
lists; in a graph: string tensors) or token ids `(batch_size, T)` (or logits
`(batch_size, T, vocab)`, reduced by argmax) with `pad_id` positions dropped and everything from
`end_id` on cut, so they run inside `model.evaluate()`. Text statistics are computed in Python
(`tf.numpy_function` in graphs), since they are string processing, not tensor math.

References:
    Papineni, Roukos, Ward, Zhu (2002), "BLEU: a Method for Automatic Evaluation of Machine
    Translation". Post (2018), "A Call for Clarity in Reporting BLEU Scores" (sacrebleu: 13a
    tokenization, exp smoothing, closest reference length, corpus statistics). Chen, Cherry
    (2014), "A Systematic Comparison of Smoothing Techniques for Sentence-Level BLEU".
"""

import collections
import re

import keras
import numpy as np
import tensorflow as tf

from kzoo.metrics import _inputs

__all__ = ["BLEU", "WordErrorRate", "CharErrorRate", "tokenize_13a", "edit_distance"]

MAX_ORDER = 4
_13A_RULES = [  # mteval-v13a as sacrebleu applies it (Post 2018)
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),  # punctuation and symbols
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),  # period/comma unless after a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),  # period/comma unless before a digit
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),  # dash after a digit
]


def tokenize_13a(line):
    """mteval-v13a tokenization (WMT's standard, sacrebleu's default), returning a token list."""
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        for entity, char in (("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")):
            line = line.replace(entity, char)
    line = f" {line} "
    for pattern, replacement in _13A_RULES:
        line = pattern.sub(replacement, line)
    return line.split()


_TOKENIZERS = {
    "13a": tokenize_13a,
    "none": str.split,
    "char": lambda line: [c for c in line if not c.isspace()],
}


def edit_distance(a, b):
    """Levenshtein distance between two sequences (unit costs), in O(len(a) * len(b))."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def _decode(x):
    return x.decode("utf-8") if isinstance(x, bytes) else str(x)


def _ids_to_text(ids, pad_id, end_id):
    words = []
    for token in np.asarray(ids).reshape(-1).tolist():
        if end_id is not None and token == end_id:
            break
        if token != pad_id:
            words.append(str(token))
    return " ".join(words)


class SequenceMetric(keras.metrics.Metric):
    """Base of the sequence metrics: turns references/hypotheses into texts, sums statistics.

    Subclasses override `_statistics(references, hypotheses) -> list of floats` (references: a
    list of lists of strings) and `result`.

    Args:
        pad_id: token id dropped from token-id inputs. Default 0.
        end_id: token id at which a token-id sequence ends (it and what follows are dropped).
        name: as for `keras.metrics.Metric`.
        dtype: as for `keras.metrics.Metric`.
    """

    _num_statistics = 2

    def __init__(self, pad_id=0, end_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        for arg, value in (("pad_id", pad_id), ("end_id", end_id)):
            if value is not None and not isinstance(value, int):
                raise ValueError(f"`{arg}` must be an integer or None. Received: {arg}={value!r}")
        self.pad_id = pad_id
        self.end_id = end_id
        self.statistics = self.add_variable(
            (self._num_statistics,), "zeros", dtype="float64", name="statistics"
        )

    def _texts(self, x, nested):
        """Python texts from strings, token ids or logits; nested=True gives lists of references."""
        if isinstance(x, str):
            raise TypeError(f"Expected a batch (list or tensor) of texts, not one string. Received: {x!r}")
        if isinstance(x, (list, tuple)) and (len(x) == 0 or isinstance(x[0], (str, list, tuple, bytes))):
            flat = all(isinstance(t, (str, bytes)) for t in x)
            if flat:
                texts = [_decode(t) for t in x]
                return [[t] for t in texts] if nested else texts
            if not nested:
                raise TypeError(f"Hypotheses must be one text per sample. Received: {str(x)[:80]}")
            return [[_decode(t) for t in refs] for refs in x]
        x = np.asarray(keras.ops.convert_to_numpy(x) if not isinstance(x, np.ndarray) else x)
        if x.dtype.kind in "SUO":
            texts = [_decode(t) for t in x.reshape(len(x), -1)[:, 0]] if x.ndim == 1 else None
            if x.ndim == 1:
                return [[t] for t in texts] if nested else texts
            if nested and x.ndim == 2:
                return [[_decode(t) for t in row] for row in x]
            raise ValueError(f"Texts must be a (batch_size,) or (batch_size, references) array. Received: shape={x.shape}")
        if x.dtype.kind == "f":
            if x.ndim < 2 or (nested and x.ndim not in (3, 4)) or (not nested and x.ndim != 3):
                raise ValueError(f"Float inputs must be logits (batch_size, T, vocab). Received: shape={x.shape}")
            x = x.argmax(-1)
        if x.dtype.kind not in "iu":
            raise TypeError(f"Expected strings or integer token ids. Received: dtype={x.dtype}")
        if x.ndim == 2:
            texts = [_ids_to_text(row, self.pad_id, self.end_id) for row in x]
            return [[t] for t in texts] if nested else texts
        if nested and x.ndim == 3:
            return [[_ids_to_text(r, self.pad_id, self.end_id) for r in row] for row in x]
        raise ValueError(f"Token ids must be (batch_size, T) or (batch_size, references, T). Received: shape={x.shape}")

    def _batch_statistics(self, references, hypotheses):
        refs = self._texts(references, nested=True)
        hyps = self._texts(hypotheses, nested=False)
        if len(refs) != len(hyps):
            raise ValueError(
                "references and hypotheses must have one entry per sample. "
                f"Received: {len(refs)} references and {len(hyps)} hypotheses"
            )
        return np.asarray(self._statistics(refs, hyps), dtype="float64").reshape(self._num_statistics)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds a batch: `y_true` the references (one or several per sample), `y_pred` the hypotheses.

        Args:
            y_true: references: strings `(batch_size,)`, `(batch_size, num_refs)` or a list of
                lists; or token ids `(batch_size, T)` / `(batch_size, num_refs, T)`.
            y_pred: hypotheses: strings `(batch_size,)`, token ids `(batch_size, T)` or logits
                `(batch_size, T, vocab)`.
            sample_weight: not supported (corpus statistics are unweighted); must be None.
        """
        if sample_weight is not None:
            raise ValueError(f"{type(self).__name__} is a corpus metric and takes no sample_weight. Received: sample_weight={sample_weight!r}")
        if tf.executing_eagerly() or not (tf.is_tensor(y_true) or tf.is_tensor(y_pred)):
            stats = self._batch_statistics(y_true, y_pred)
        else:
            stats = tf.numpy_function(self._batch_statistics, [y_true, y_pred], tf.float64)
            stats = tf.reshape(stats, (self._num_statistics,))
        self.statistics.assign_add(stats)

    def _statistics(self, references, hypotheses):
        raise NotImplementedError

    def reset_state(self):
        self.statistics.assign(np.zeros(self._num_statistics, "float64"))

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id, "end_id": self.end_id}


@keras.saving.register_keras_serializable(package="kzoo")
class BLEU(SequenceMetric):
    """Corpus BLEU on a 0-100 scale, equal to sacrebleu's `corpus_bleu` (Papineni et al. 2002).

    Statistics: clipped n-gram matches and totals for n = 1..4 (clipped by the maximum count over
    a sample's references), hypothesis length, and the closest reference length (the shorter on
    ties), all summed over the corpus (Post 2018).

    Args:
        tokenize: "13a" (default, mteval-v13a), "none" (split on whitespace) or "char".
        smooth: "exp" (default), "floor", "add-k" or "none" (Chen & Cherry 2014).
        smooth_value: the value of "floor" (default 0.1) or "add-k" (default 1).
        lowercase: lowercase before tokenizing.
        max_order: the largest n-gram order, 1 to 4 (BLEU-1 ... BLEU-4; default 4), as
            sacrebleu's `max_ngram_order`. Captioning papers report BLEU-1 to BLEU-4.
        pad_id: for token-id inputs (token ids are words; tokenization is skipped).
        end_id: for token-id inputs (token ids are words; tokenization is skipped).

    Returns:
        A float64 scalar in [0, 100].

    Examples:
        >>> m = BLEU()
        >>> m.update_state([["the cat sat on the mat", "a cat sat on the mat"]], ["the cat sat on the mat"])
        >>> round(float(m.result()), 6)
        100.0
    """

    _num_statistics = 2 * MAX_ORDER + 2

    def __init__(self, tokenize="13a", smooth="exp", smooth_value=None, lowercase=False, max_order=MAX_ORDER, **kwargs):
        _inputs.check_choice("tokenize", tokenize, tuple(_TOKENIZERS))
        _inputs.check_choice("smooth", smooth, ("exp", "floor", "add-k", "none"))
        _inputs.check_choice("max_order", max_order, tuple(range(1, MAX_ORDER + 1)))
        super().__init__(**kwargs)
        self.max_order = int(max_order)
        self.tokenize = tokenize
        self.smooth = smooth
        self.smooth_value = smooth_value
        self.lowercase = bool(lowercase)

    def _tokens(self, text, from_ids):
        if from_ids:
            return text.split()
        if self.lowercase:
            text = text.lower()
        return _TOKENIZERS[self.tokenize](text)

    def _statistics(self, references, hypotheses):
        from_ids = False
        matches = [0] * MAX_ORDER
        totals = [0] * MAX_ORDER
        hyp_total = ref_total = 0
        for refs, hyp in zip(references, hypotheses):
            hyp_tokens = self._tokens(hyp, from_ids)
            ref_lengths, max_counts = [], collections.Counter()
            for ref in refs:
                ref_tokens = self._tokens(ref, from_ids)
                ref_lengths.append(len(ref_tokens))
                counts = ngram_counts(ref_tokens)
                for gram, count in counts.items():
                    if count > max_counts[gram]:
                        max_counts[gram] = count
            hyp_len = len(hyp_tokens)
            closest = min(ref_lengths, key=lambda r: (abs(hyp_len - r), r))
            hyp_total += hyp_len
            ref_total += closest
            for gram, count in ngram_counts(hyp_tokens).items():
                matches[len(gram) - 1] += min(count, max_counts[gram])
            for n in range(1, MAX_ORDER + 1):
                totals[n - 1] += max(hyp_len - n + 1, 0)
        return matches + totals + [hyp_total, ref_total]

    def result(self):
        """Corpus BLEU from the summed statistics (sacrebleu's `compute_bleu`)."""
        s = self.statistics
        matches = [s[i] for i in range(MAX_ORDER)]
        totals = [s[MAX_ORDER + i] for i in range(MAX_ORDER)]
        sys_len, ref_len = s[2 * MAX_ORDER], s[2 * MAX_ORDER + 1]
        zero = tf.constant(0.0, "float64")
        bp = tf.where(
            sys_len < ref_len,
            tf.exp(1 - ref_len / tf.where(sys_len > 0, sys_len, 1.0)) * tf.cast(sys_len > 0, "float64"),
            tf.constant(1.0, "float64"),
        )
        value = {"floor": 0.1, "add-k": 1.0}.get(self.smooth) if self.smooth_value is None else float(self.smooth_value)
        log_sum = zero
        smooth_mteval = tf.constant(1.0, "float64")
        stopped = tf.constant(False)
        for n in range(self.max_order):  # statistics hold orders 1..4; BLEU-n uses the first n
            correct, total = matches[n], totals[n]
            if self.smooth == "add-k" and n > 0:
                correct, total = correct + value, total + value
            stopped = tf.logical_or(stopped, total == 0)  # sacrebleu stops at the first empty order
            zero_match = correct == 0
            if self.smooth == "exp":
                smooth_mteval = tf.where(zero_match & ~stopped, smooth_mteval * 2, smooth_mteval)
                zero_precision = 100.0 / (smooth_mteval * tf.where(total > 0, total, 1.0))
            elif self.smooth == "floor":
                zero_precision = 100.0 * value / tf.where(total > 0, total, 1.0)
            else:
                zero_precision = zero
            precision = tf.where(zero_match, zero_precision, 100.0 * correct / tf.where(total > 0, total, 1.0))
            precision = tf.where(stopped, zero, precision)
            log_sum += tf.where(precision > 0, tf.math.log(tf.where(precision > 0, precision, 1.0)), -9999999999.0)
        score = bp * tf.exp(log_sum / self.max_order)
        any_match = tf.reduce_any(tf.stack(matches[: self.max_order]) > 0)
        return tf.where(any_match, score, zero)

    def get_config(self):
        config = {
            "tokenize": self.tokenize,
            "smooth": self.smooth,
            "smooth_value": self.smooth_value,
            "lowercase": self.lowercase,
            "max_order": self.max_order,
        }
        return {**super().get_config(), **config}


def ngram_counts(tokens):
    """Counts of every n-gram of order 1 to `MAX_ORDER` in a token list (a `Counter` of tuples)."""
    counts = collections.Counter()
    for n in range(1, MAX_ORDER + 1):
        for i in range(len(tokens) - n + 1):
            counts[tuple(tokens[i : i + n])] += 1
    return counts


_SPACES = re.compile(r"\s\s+")


class _ErrorRate(SequenceMetric):
    """Corpus error rate: total edit distance over total reference length (jiwer's definition)."""

    def _units(self, text):
        raise NotImplementedError

    def _statistics(self, references, hypotheses):
        errors = length = 0
        for refs, hyp in zip(references, hypotheses):
            if len(refs) != 1:
                raise ValueError(f"{type(self).__name__} takes one reference per sample. Received: {len(refs)} references")
            ref_units, hyp_units = self._units(refs[0]), self._units(hyp)
            errors += edit_distance(ref_units, hyp_units)
            length += len(ref_units)
        return [errors, length]

    def result(self):
        """Errors (substitutions + deletions + insertions) divided by reference units.

        When every reference seen is empty the divisor is 1, so the result is the number of
        inserted units (jiwer 4's convention: `jiwer.wer([""], ["x y"]) == 2`).
        """
        errors, length = self.statistics[0], self.statistics[1]
        return errors / tf.maximum(length, 1.0)


@keras.saving.register_keras_serializable(package="kzoo")
class WordErrorRate(_ErrorRate):
    """Corpus word error rate, equal to `jiwer.wer` (spaces collapsed and stripped, words split
    on spaces).

    Args:
        pad_id: for token-id inputs (each id is a word).
        end_id: for token-id inputs (each id is a word).

    Returns:
        A float64 scalar >= 0 (may exceed 1 with insertions).

    Examples:
        >>> m = WordErrorRate()
        >>> m.update_state(["the cat sat"], ["the bat sat down"])
        >>> round(float(m.result()), 4)
        0.6667
    """

    def _units(self, text):
        return [w for w in _SPACES.sub(" ", text).strip().split(" ") if w]


@keras.saving.register_keras_serializable(package="kzoo")
class CharErrorRate(_ErrorRate):
    """Corpus character error rate, equal to `jiwer.cer` (stripped; spaces count as characters).

    Args:
        pad_id: for token-id inputs (each id is a character).
        end_id: for token-id inputs (each id is a character).

    Returns:
        A float64 scalar >= 0.

    Examples:
        >>> m = CharErrorRate()
        >>> m.update_state(["abcd"], ["abxd"])
        >>> float(m.result())
        0.25
    """

    def _units(self, text):
        return list(text.strip())
