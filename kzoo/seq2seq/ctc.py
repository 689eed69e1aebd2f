"""Connectionist temporal classification: the loss, greedy decoding in graph, prefix beam search.

A CTC model emits, for every input frame, a distribution over the labels plus a *blank*. A path
(one symbol per frame) reads as a label sequence by collapsing repeats and then removing blanks
("aa-ab-" -> "aab"), so a repeated label needs a blank between its copies ("a-a"). The
probability of a label sequence is the sum over every path that reads as it, computed by the
forward (alpha) recursion over the label with a blank before, between and after its symbols
(Graves et al. 2006). kzoo's tokenizers use id 0 (`[PAD]`) both as the padding of label rows and
as the blank (see `kzoo.text.CharacterTokenizer`).

- `ctc_loss`: per-example negative log-likelihood with `tf.nn.ctc_loss` (dense labels).
- `ctc_log_likelihoods`: NumPy `log p(labels | x)` of many label sequences for one utterance (the
  same forward recursion, vectorised over the sequences): scoring candidate transcripts.
- `ctc_greedy_decode`: best path (argmax per frame), collapsed, in graph with TFLite builtin ops
  only (no `tf.nn.ctc_greedy_decoder`, no dynamic-size TensorArrays), so it exports with a model.
- `ctc_tf_beam_decode`: TensorFlow's prefix beam search (`tf.nn.ctc_beam_search_decoder`), in graph
  (not a TFLite builtin).
- `ctc_prefix_beam_search` / `ctc_beam_decode`: NumPy prefix beam search, which keeps the best
  label *prefixes* and merges the paths that read as the same prefix, each with its probability of
  ending in a blank and of ending in a label (Graves 2012, section 7.5; Hannun et al. 2014). With
  a beam wide enough to keep every prefix it is exact: the top result is the most probable label
  sequence, which the best path need not be. With a language model over the labels it is shallow
  fusion (Gulcehre et al. 2015): the text prior joins the score as each prefix grows.

References:
    Graves, Fernández, Gomez, Schmidhuber (2006), "Connectionist Temporal Classification:
    Labelling Unsegmented Sequence Data with Recurrent Neural Networks".
    Graves (2012), "Supervised Sequence Labelling with Recurrent Neural Networks", chapter 7.
    Hannun, Maas, Jurafsky, Ng (2014), "First-Pass Large Vocabulary Continuous Speech Recognition
    using Bi-Directional Recurrent DNNs" (arXiv:1408.2873).
    Gulcehre, Firat, Xu, Cho, Barrault, Lin, Bougares, Schwenk, Bengio (2015), "On Using
    Monolingual Corpora in Neural Machine Translation" (arXiv:1503.03535).
"""

import math

import numpy as np
import tensorflow as tf

__all__ = ["ctc_loss", "ctc_log_likelihoods", "ctc_greedy_decode", "ctc_tf_beam_decode", "ctc_prefix_beam_search", "ctc_beam_decode"]

PAD = 0  # the padding id of label rows and decoded rows (kzoo's tokenizers use 0 for padding)


def _check_blank(blank, num_classes=None):
    if isinstance(blank, bool) or not isinstance(blank, (int, np.integer)) or blank < 0:
        raise ValueError(f"`blank` must be a non-negative int. Received: blank={blank!r}")
    if num_classes is not None and blank >= num_classes:
        raise ValueError(
            f"`blank` must be a class of the logits, below their last dimension {num_classes}. "
            f"Received: blank={blank}"
        )


def ctc_loss(labels, logits, logit_lengths, blank=0):
    """Per-example CTC negative log-likelihood `-log p(labels | logits)` (Graves et al. 2006).

    A label that no path of `logit_lengths` frames can produce (longer than the frames, counting
    one blank between repeated labels: "aa" needs 3 frames) has probability 0. TensorFlow's dense
    implementation stands in `log(1e-307)` for `log 0`, so such an example's loss is a large
    *finite* number (about 707 or more), not `inf`, and its gradient is finite but meaningless:
    keep such examples out of training.

    Args:
        labels: int `(batch_size, L)` label ids, padded with 0 after the labels (the label length
            is the number of non-zero ids, which come first).
        logits: float `(batch_size, T, V)` unnormalised scores, batch-major.
        logit_lengths: int `(batch_size,)` number of valid frames of each row.
        blank: the blank class.

    Returns:
        float32 `(batch_size,)`.

    Examples:
        >>> logits = tf.math.log([[[0.5, 0.5], [0.5, 0.5]]])  # 2 frames, classes (blank, a)
        >>> round(float(tf.exp(-ctc_loss([[1]], logits, [2]))[0]), 4)  # paths "a-", "-a", "aa"
        0.75
    """
    logits = tf.convert_to_tensor(logits)
    _check_blank(blank, logits.shape[-1])
    labels = tf.cast(labels, tf.int32)
    label_lengths = tf.reduce_sum(tf.cast(tf.not_equal(labels, PAD), tf.int32), axis=1)  # (B,)
    return tf.nn.ctc_loss(
        labels=labels,
        logits=tf.cast(logits, tf.float32),
        label_length=label_lengths,
        logit_length=tf.cast(logit_lengths, tf.int32),
        logits_time_major=False,
        blank_index=blank,
    )


def ctc_log_likelihoods(log_probs, labels, blank=0):
    """`log p(label sequence | x)` of each of `labels` under one utterance's CTC log-probabilities.

    The forward (alpha) recursion of Graves et al. (2006) in log space, over every sequence at
    once: the sequences are extended with a blank before, between and after their labels, a state
    takes its own score, its predecessor's and, for a label unlike the one two states back, the
    score from across the blank. Unlike `ctc_loss` in eager TensorFlow (a Python loop over
    frames that also computes the gradient) this costs one NumPy step per frame.

    Args:
        log_probs: float `(frames, classes)` log-probabilities (each row sums to 1 in probability).
        labels: a list of label-id sequences (blank excluded).
        blank: the blank class.

    Returns:
        float64 `(len(labels),)`; `-inf` for a sequence no path of `frames` can produce.

    Examples:
        >>> import numpy as np
        >>> frames = np.log([[0.5, 0.5], [0.5, 0.5]])  # classes (blank, a); paths "a-", "-a", "aa"
        >>> np.exp(ctc_log_likelihoods(frames, [[1], [1, 1]])).round(4).tolist()
        [0.75, 0.0]
    """
    log_probs = np.asarray(log_probs, np.float64)
    if log_probs.ndim != 2:
        raise ValueError(f"`log_probs` must be 2-D (frames, classes). Received: shape={log_probs.shape}")
    _check_blank(blank, log_probs.shape[1])
    labels = [[int(c) for c in label] for label in labels]
    bad = [c for label in labels for c in label if not 0 <= c < log_probs.shape[1] or c == blank]
    if bad:
        raise ValueError(f"`labels` must hold class ids in [0, {log_probs.shape[1]}) other than the blank ({blank}). Received: {bad[0]}")
    if not labels:
        return np.zeros(0)
    if not len(log_probs):
        return np.array([0.0 if not label else -np.inf for label in labels])
    width = 2 * max(len(label) for label in labels) + 1
    extended = np.full((len(labels), width), blank)
    for i, label in enumerate(labels):
        extended[i, 1 : 2 * len(label) : 2] = label
    states = np.arange(width)[None, :]
    lengths = np.array([2 * len(label) + 1 for label in labels])[:, None]
    valid = states < lengths  # (N, S)
    two_back = np.concatenate([np.full((len(labels), 2), -1), extended[:, :-2]], axis=1)
    skip = (extended != blank) & (extended != two_back)  # may come from two states back
    alpha = np.where(states < 2, log_probs[0][extended], -np.inf)
    alpha[~valid] = -np.inf
    for frame in log_probs[1:]:
        one = np.concatenate([np.full((len(labels), 1), -np.inf), alpha[:, :-1]], axis=1)
        two = np.concatenate([np.full((len(labels), 2), -np.inf), alpha[:, :-2]], axis=1)
        two = np.where(skip, two, -np.inf)
        with np.errstate(invalid="ignore"):
            alpha = np.logaddexp(np.logaddexp(alpha, one), two) + frame[extended]
        alpha[~valid] = -np.inf
    rows = np.arange(len(labels))
    last = alpha[rows, lengths[:, 0] - 1]
    before = np.where(lengths[:, 0] > 1, alpha[rows, np.maximum(lengths[:, 0] - 2, 0)], -np.inf)
    return np.logaddexp(last, before)


def ctc_greedy_decode(logits, logit_lengths, blank=0):
    """Best-path decoding: the argmax class of each valid frame, repeats collapsed, blanks removed.

    Built from TFLite builtin ops (ARG_MAX, comparisons, CUMSUM, SCATTER_ND), so it converts with a
    model to a `.tflite` file without Select TF ops.

    Args:
        logits: float `(batch_size, T, V)` scores (or log-probabilities), batch-major.
        logit_lengths: int `(batch_size,)` number of valid frames; later frames are ignored.
        blank: the blank class.

    Returns:
        int32 `(batch_size, T)`: the decoded ids of each row first, then 0.

    Examples:
        >>> onehot = tf.one_hot([[1, 1, 0, 1, 2, 2, 2]], 3)  # a a - a b b | b (6 valid frames)
        >>> ctc_greedy_decode(onehot, [6]).numpy().tolist()
        [[1, 1, 2, 0, 0, 0, 0]]
    """
    logits = tf.convert_to_tensor(logits)
    _check_blank(blank, logits.shape[-1])
    best = tf.argmax(logits, axis=-1, output_type=tf.int32)  # (B, T)
    shape = tf.shape(best)
    frames = tf.range(shape[1])[None, :]  # (1, T)
    valid = frames < tf.cast(logit_lengths, tf.int32)[:, None]  # (B, T)
    previous = tf.concat([tf.fill([shape[0], 1], -1), best[:, :-1]], axis=1)  # (B, T), -1: none
    keep = valid & tf.not_equal(best, blank) & tf.not_equal(best, previous)
    # Each kept frame goes to the slot counting the kept frames before it. A dropped frame adds 0
    # to the next free slot, which only a later kept frame fills: scatter_nd sums, so no clash.
    slots = tf.cumsum(tf.cast(keep, tf.int32), axis=1, exclusive=True)  # (B, T)
    rows = tf.broadcast_to(tf.range(shape[0])[:, None], shape)  # (B, T)
    indices = tf.stack([rows, slots], axis=-1)  # (B, T, 2)
    return tf.scatter_nd(indices, tf.where(keep, best, 0), shape)


def ctc_tf_beam_decode(logits, logit_lengths, beam_width):
    """TensorFlow's CTC prefix beam search, blank moved from id 0 to the last class as it wants.

    Args:
        logits: float `(batch_size, T, V)` scores, batch-major, blank = id 0.
        logit_lengths: int32 `(batch_size,)` number of valid frames of each row.
        beam_width: prefixes kept per frame.

    Returns:
        int32 `(batch_size, L)`: the best label sequence of each row, padded with 0 (`L >= 1`).

    Examples:
        >>> logits = tf.math.log([[[0.6, 0.4], [0.6, 0.4]]])  # blank wins each frame, "a" overall
        >>> ctc_tf_beam_decode(logits, [2], beam_width=2).numpy().tolist()
        [[1]]
    """
    shifted = tf.concat([logits[..., 1:], logits[..., :1]], axis=-1)  # blank (id 0) last
    decoded, _ = tf.nn.ctc_beam_search_decoder(
        tf.transpose(tf.nn.log_softmax(shifted), (1, 0, 2)), logit_lengths, beam_width=beam_width, top_paths=1
    )
    best = decoded[0]
    dense = tf.sparse.to_dense(tf.SparseTensor(best.indices, best.values + 1, best.dense_shape))
    width = tf.maximum(tf.shape(dense)[1], 1)
    return tf.cast(tf.pad(dense, [[0, tf.shape(logits)[0] - tf.shape(dense)[0]], [0, width - tf.shape(dense)[1]]]), tf.int32)


def _log_add(a, b):
    """`log(exp(a) + exp(b))` for Python floats, `-inf` allowed."""
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    high, low = (a, b) if a > b else (b, a)
    return high + math.log1p(math.exp(low - high))


def check_fusion_weights(lm_weight, length_bonus):
    """Checks shallow fusion's weights: `lm_weight` (`α`) a float >= 0, `length_bonus` (`β`) a
    finite float."""
    if isinstance(lm_weight, bool) or not isinstance(lm_weight, (int, float)) or not lm_weight >= 0:
        raise ValueError(f"`lm_weight` must be a float >= 0. Received: lm_weight={lm_weight!r}")
    if isinstance(length_bonus, bool) or not isinstance(length_bonus, (int, float)) or not math.isfinite(length_bonus):
        raise ValueError(f"`length_bonus` must be a finite float. Received: length_bonus={length_bonus!r}")


def ctc_prefix_beam_search(log_probs, beam_width=8, blank=0, language_model=None, lm_weight=0.5, length_bonus=0.0):
    """CTC prefix beam search over one utterance (Graves 2012, section 7.5; Hannun et al. 2014).

    Every prefix in the beam carries two log-probabilities: of the paths so far that read as it
    and end in a blank, and of those that end in its last label. A frame extends a prefix by the
    blank (same prefix, now blank-ending), by its last label (same prefix, merged repeat) or by
    another label; the same label again starts a new copy only after a blank. The `beam_width`
    most probable prefixes survive each frame.

    With a `language_model` the search is shallow fusion (Hannun et al. 2014, eq. 3; Gulcehre et
    al. 2015): a prefix `y` scores `log p_ctc(y | x) + α · log p_lm(y) + β · |y|`, the language
    model's factor entering each time a prefix grows by a label, and its probability of ending
    the text at the end. `α` (`lm_weight`) sets how much the text prior counts against the
    acoustics; `β` (`length_bonus`) offsets the language model's cost per label, which would
    otherwise favour short transcripts.

    Args:
        log_probs: float `(T, V)` per-frame log-probabilities (log-softmax outputs).
        beam_width: prefixes kept per frame, at least 1.
        blank: the blank class.
        language_model: None, or a function of a prefix (a tuple of label ids) that returns a
            float `(V,)` array: the log-probability of each label coming next, and at the
            `blank` position the log-probability that the transcript ends there (for example
            `kzoo.applications.ctc_fusion.label_scorer` over a
            `kzoo.text.CharacterLanguageModel`).
        lm_weight: `α >= 0`, the weight of the language model's log-probability.
        length_bonus: `β`, added to the score per label of the prefix.

    Returns:
        A list of at most `beam_width` pairs `(ids, log_probability)`, best first: `ids` a tuple of
        label ids, `log_probability` the log of the summed probability of its paths found (with a
        language model, the fused score above). Only prefixes of non-zero probability are listed.

    Examples:
        >>> frames = np.log([[0.6, 0.4], [0.6, 0.4]])  # blank wins each frame, but "a" wins overall
        >>> [(ids, round(float(np.exp(lp)), 2)) for ids, lp in ctc_prefix_beam_search(frames, 2)]
        [((1,), 0.64), ((), 0.36)]
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if log_probs.ndim != 2:
        raise ValueError(f"`log_probs` must be 2-D (T, V). Received: log_probs with shape={log_probs.shape}")
    if isinstance(beam_width, bool) or not isinstance(beam_width, (int, np.integer)) or beam_width < 1:
        raise ValueError(f"`beam_width` must be a positive int. Received: beam_width={beam_width!r}")
    _check_blank(blank, log_probs.shape[1])
    if language_model is not None and not callable(language_model):
        raise ValueError(f"`language_model` must be None or a function of a prefix. Received: language_model={language_model!r}")
    check_fusion_weights(lm_weight, length_bonus)
    labels = [c for c in range(log_probs.shape[1]) if c != blank]
    growth = {}  # prefix -> its labels' fused cost: α · log p_lm(label | prefix) + β (and α · log p_lm(end) at `blank`)

    def fusion(prefix):
        if prefix not in growth:
            scores = np.asarray(language_model(prefix), dtype=np.float64)
            if scores.shape != (log_probs.shape[1],):
                raise ValueError(f"`language_model` must return a ({log_probs.shape[1]},) array. Received: shape {scores.shape}")
            weighted = lm_weight * scores if lm_weight else np.zeros_like(scores)  # α = 0 ignores the model (no 0 · -inf)
            fused = weighted + length_bonus
            fused[blank] = weighted[blank]
            growth[prefix] = fused.tolist()
        return growth[prefix]

    no_fusion = [0.0] * log_probs.shape[1]
    beams = {(): (0.0, -math.inf)}  # prefix -> (log p ending in blank, log p ending in a label)
    for frame in log_probs.tolist():
        grown = {}

        def add(prefix, blank_ending, label_ending):
            if blank_ending == label_ending == -math.inf:
                return  # a path of probability 0 ("a" + "a" with no blank path before): no prefix
            old_blank, old_label = grown.get(prefix, (-math.inf, -math.inf))
            grown[prefix] = (_log_add(old_blank, blank_ending), _log_add(old_label, label_ending))

        for prefix, (blank_ending, label_ending) in beams.items():
            total = _log_add(blank_ending, label_ending)
            extra = fusion(prefix) if language_model else no_fusion
            add(prefix, total + frame[blank], -math.inf)
            for c in labels:
                if prefix and prefix[-1] == c:
                    add(prefix, -math.inf, label_ending + frame[c])  # "a" + "a" stays "a"
                    add(prefix + (c,), -math.inf, blank_ending + frame[c] + extra[c])  # "a-" + "a" is "aa"
                else:
                    add(prefix + (c,), -math.inf, total + frame[c] + extra[c])
        ranked = sorted(grown.items(), key=lambda item: (-_log_add(*item[1]), item[0]))
        beams = dict(ranked[:beam_width])
    final = [(prefix, _log_add(*scores) + (fusion(prefix)[blank] if language_model else 0.0)) for prefix, scores in beams.items()]
    return sorted(final, key=lambda item: (-item[1], item[0])) if language_model else final


def ctc_beam_decode(logits, logit_lengths, beam_width=8, blank=0):
    """Prefix beam search over a batch: the best label sequence of each row, padded with 0.

    Args:
        logits: float `(batch_size, T, V)` scores (NumPy or tensor); a log-softmax is applied.
        logit_lengths: int `(batch_size,)` number of valid frames of each row.
        beam_width: prefixes kept per frame (see `ctc_prefix_beam_search`).
        blank: the blank class.

    Returns:
        int32 NumPy array `(batch_size, L)`, `L >= 1` the longest decoded row.

    Examples:
        >>> logits = np.log([[[0.6, 0.4], [0.6, 0.4]], [[0.1, 0.9], [0.9, 0.1]]])
        >>> ctc_beam_decode(logits, [2, 1], beam_width=2).tolist()
        [[1], [1]]
    """
    logits = np.asarray(logits, dtype=np.float64)
    lengths = np.asarray(logit_lengths)
    if logits.ndim != 3:
        raise ValueError(f"`logits` must be 3-D (batch_size, T, V). Received: logits with shape={logits.shape}")
    if lengths.shape != logits.shape[:1] or lengths.dtype.kind not in "iu" or (lengths < 0).any():
        raise ValueError(
            f"`logit_lengths` must be non-negative ints of shape ({logits.shape[0]},). "
            f"Received: logit_lengths={lengths.tolist()}"
        )
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))  # (B, T, V)
    best = [ctc_prefix_beam_search(row[:length], beam_width, blank)[0][0] for row, length in zip(log_probs, lengths)]
    decoded = np.zeros((len(best), max([1] + [len(ids) for ids in best])), np.int32)
    for row, ids in zip(decoded, best):
        row[: len(ids)] = ids
    return decoded
