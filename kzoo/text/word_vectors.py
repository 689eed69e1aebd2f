"""Word vectors learned from the training documents themselves: skip-gram and naive-Bayes ratios.

Two ways to give a classifier better word vectors than a random start when there are no
pretrained ones (offline) and few labelled documents:

- `skipgram_vectors`: word2vec's skip-gram with negative sampling (Mikolov et al. 2013), trained
  on the word ids of the training documents (no labels). Words that occur in similar contexts
  get similar vectors, which a classifier's embedding can start from.
- `log_count_ratios`: naive-Bayes log-count ratios (Wang & Manning 2012, NBSVM): for each word,
  how much more often it occurs in the documents of one class than in the others. One number per
  word and class, a supervised feature a classifier can read beside its learned embedding.

Both take word ids (0 = padding, as `kzoo.text.DocumentTokenizer` returns) and return a matrix
with one row per vocabulary id, so it can initialise or extend a `keras.layers.Embedding`.

References:
    Mikolov, Sutskever, Chen, Corrado, Dean (2013), "Distributed Representations of Words and
    Phrases and their Compositionality", NeurIPS (skip-gram, negative sampling, subsampling).
    Wang & Manning (2012), "Baselines and Bigrams: Simple, Good Sentiment and Topic
    Classification", ACL (NB log-count ratios).
"""

import numpy as np
import tensorflow as tf

from kzoo.layers.checks import check_positive_int

__all__ = ["log_count_ratios", "skipgram_vectors"]


def _check_ids(ids, vocabulary_size, name="ids"):
    """An int64 array of word ids in `[0, vocabulary_size)`; `ValueError` naming the first bad one."""
    if isinstance(vocabulary_size, bool) or not isinstance(vocabulary_size, int) or vocabulary_size < 2:
        raise ValueError(f"`vocabulary_size` must be an int >= 2. Received: vocabulary_size={vocabulary_size!r}")
    array = np.asarray(ids)
    if array.ndim < 2 or array.dtype.kind not in "iu":
        raise ValueError(
            f"`{name}` must be integer word ids of rank >= 2 (one row per document or sentence). "
            f"Received: {name} with dtype={array.dtype} and shape={array.shape}"
        )
    bad = np.flatnonzero((array < 0) | (array >= vocabulary_size))
    if bad.size:
        raise ValueError(
            f"`{name}` must hold word ids in [0, {vocabulary_size}). Received: id {array.flat[bad[0]]} "
            f"at flat index {bad[0]}"
        )
    return array.astype("int64")


def log_count_ratios(ids, labels, vocabulary_size, num_classes=2, alpha=1.0):
    """Naive-Bayes log-count ratios of every word (Wang & Manning 2012), one column per class.

    With binarized counts `f(d, w) = 1` if word `w` occurs in document `d`, a class's smoothed
    count vector is `p = alpha + Σ_{d in class} f(d, ·)` and the other classes'
    `q = alpha + Σ_{d not in class} f(d, ·)` (over the non-padding ids); the ratio is
    `log((p / |p|₁) / (q / |q|₁))`:
    positive for words typical of the class, negative for words typical of the others.

    Args:
        ids: int word ids `(num_documents, ...)` (any trailing shape, e.g. `(N, S, W)`); 0 is
            padding and is never counted.
        labels: integer labels `(num_documents,)` in `[0, num_classes)`.
        vocabulary_size: number of rows of the result.
        num_classes: number of classes.
        alpha: additive smoothing (> 0); 1 as Wang & Manning.

    Returns:
        float32 `(vocabulary_size, 1)` for two classes (the ratio of class 1 against class 0)
        or `(vocabulary_size, num_classes)` (each class against the rest). Row 0 (padding) is 0.

    Examples:
        >>> r = log_count_ratios([[2, 3], [2, 0], [4, 0]], [1, 1, 0], vocabulary_size=5)
        >>> [round(float(x), 3) for x in r[:, 0]]
        [0.0, -0.336, 0.762, 0.357, -1.03]
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"`num_classes` must be an int >= 2. Received: num_classes={num_classes!r}")
    if not isinstance(alpha, (int, float)) or not alpha > 0:
        raise ValueError(f"`alpha` must be a positive number. Received: alpha={alpha!r}")
    ids = _check_ids(ids, vocabulary_size)
    labels = np.asarray(labels)
    if labels.shape != (len(ids),) or labels.dtype.kind not in "iu" or np.any((labels < 0) | (labels >= num_classes)):
        raise ValueError(
            f"`labels` must be {len(ids)} integer labels in [0, {num_classes}), one per row of `ids`. "
            f"Received: labels with dtype={labels.dtype} and shape={labels.shape}"
        )
    flat = ids.reshape(len(ids), -1)  # (N, L)
    keys = np.unique(np.arange(len(ids))[:, None] * vocabulary_size + flat)  # one per (document, word)
    document, word = keys // vocabulary_size, keys % vocabulary_size
    per_class = np.zeros((num_classes, vocabulary_size))  # (C, V) documents of the class with the word
    np.add.at(per_class, (labels[document], word), 1.0)
    columns = [1] if num_classes == 2 else range(num_classes)
    ratios = np.zeros((vocabulary_size, len(columns)), "float32")  # (V, C'); row 0, padding, stays 0
    for i, c in enumerate(columns):
        p = alpha + per_class[c, 1:]
        q = alpha + per_class[:, 1:].sum(0) - per_class[c, 1:]
        ratios[1:, i] = np.log(p / p.sum()) - np.log(q / q.sum())
    return ratios


def _skipgram_pairs(sentences, window, keep, rng):
    """(centre, context) id pairs of a random reduced window <= `window` (word2vec's weighting)."""
    centres, contexts = [], []
    for sentence in sentences:
        sentence = sentence[keep[sentence] > rng.random(len(sentence))]  # subsampling
        n = len(sentence)
        if n < 2:
            continue
        reach = rng.integers(1, window + 1, size=n)  # each centre's window, uniform in [1, window]
        for offset in range(1, min(window, n - 1) + 1):
            left, right = sentence[:-offset], sentence[offset:]
            forward = reach[:-offset] >= offset  # centre on the left, context to its right
            backward = reach[offset:] >= offset
            centres.extend((left[forward], right[backward]))
            contexts.extend((right[forward], left[backward]))
    if not centres:
        return np.zeros(0, "int64"), np.zeros(0, "int64")
    return np.concatenate(centres), np.concatenate(contexts)


def skipgram_vectors(
    ids,
    vocabulary_size,
    dim=50,
    window=5,
    negatives=5,
    epochs=5,
    batch_size=1024,
    learning_rate=0.025,
    subsample=1e-3,
    seed=0,
):
    """Word vectors by skip-gram with negative sampling (word2vec; Mikolov et al. 2013).

    Each word predicts the words around it (a window of random size up to `window`, so near
    words count more): the logistic loss pulls the word's vector towards the context vectors of
    the words seen with it and pushes it from `negatives` words drawn from the unigram
    distribution raised to 3/4. Frequent words are subsampled (kept with probability
    `sqrt(subsample / frequency)`). Trained as word2vec: plain SGD on the summed loss with a
    learning rate decaying linearly to 0, here on mini-batches of pairs.

    Args:
        ids: int word ids `(num_sentences, max_words)` (or `(N, S, W)`: the last axis is a
            sentence), 0-padded; ids 0-3 (`kzoo.text.RESERVED_TOKENS`) are never trained.
        vocabulary_size: number of rows of the result.
        dim: vector size.
        window: largest distance between a word and its context.
        negatives: negative samples per pair.
        epochs: passes over the pairs (fresh subsampling and windows each time).
        batch_size: pairs per step.
        learning_rate: starting SGD learning rate (word2vec's `-alpha` for skip-gram).
        subsample: the frequency above which words are subsampled (word2vec's `-sample`).
        seed: seed of the initialisation, windows, subsampling and negatives.

    Returns:
        float32 `(vocabulary_size, dim)` word vectors, scaled to the standard deviation of a
        Keras `Embedding`'s uniform(-0.05, 0.05) initialisation; rows of reserved ids are 0.

    Examples:
        >>> v = skipgram_vectors([[4, 5, 6, 0], [6, 5, 4, 4]], vocabulary_size=7, dim=3, epochs=1)
        >>> v.shape, bool((v[:4] == 0).all())
        ((7, 3), True)
    """
    for name, value in (("dim", dim), ("window", window), ("negatives", negatives), ("epochs", epochs), ("batch_size", batch_size)):
        check_positive_int(name, value)
    ids = _check_ids(ids, vocabulary_size)
    rows = ids.reshape(-1, ids.shape[-1])
    sentences = [row[row >= 4] for row in rows]  # reserved ids (padding, [UNK], ...) are skipped
    counts = np.bincount(np.concatenate(sentences + [np.zeros(0, "int64")]), minlength=vocabulary_size)
    counts = counts.astype("float64")
    frequency = counts / max(counts.sum(), 1.0)
    keep = np.minimum(1.0, np.sqrt(subsample / np.maximum(frequency, 1e-12)))  # (V,)
    noise = counts**0.75
    noise = noise / noise.sum() if noise.sum() > 0 else np.full(vocabulary_size, 1.0 / vocabulary_size)
    rng = np.random.default_rng(seed)
    tf_seed = int(rng.integers(2**31))
    # word2vec starts words small and random and contexts at zero.
    words = tf.Variable(tf.random.stateless_uniform((vocabulary_size, dim), [tf_seed, 0], -0.5 / dim, 0.5 / dim))
    contexts = tf.Variable(tf.zeros((vocabulary_size, dim)))
    log_noise = tf.math.log(tf.constant(noise[None, :], tf.float32) + 1e-30)  # (1, V)

    @tf.function(reduce_retracing=True)
    def step(centre, context, rate, step_seed):
        negative = tf.random.stateless_categorical(log_noise, tf.shape(centre)[0] * negatives, step_seed)
        negative = tf.reshape(negative, (-1, negatives))  # (P, K)
        targets = tf.concat([context[:, None], negative], axis=1)  # (P, 1 + K)
        labels = tf.concat([tf.ones_like(context[:, None], tf.float32), tf.zeros_like(negative, tf.float32)], 1)
        w = tf.gather(words, centre)  # (P, dim)
        c = tf.gather(contexts, targets)  # (P, 1 + K, dim)
        error = labels - tf.sigmoid(tf.einsum("pd,pkd->pk", w, c))  # (P, 1 + K): -d loss / d score
        # Plain SGD on the summed logistic loss, as word2vec (rows repeated in a batch add up).
        words.scatter_add(tf.IndexedSlices(rate * tf.einsum("pk,pkd->pd", error, c), centre))
        update = rate * error[..., None] * w[:, None, :]  # (P, 1 + K, dim)
        contexts.scatter_add(tf.IndexedSlices(tf.reshape(update, (-1, dim)), tf.reshape(targets, [-1])))
        return tf.reduce_mean(error)

    total, done = None, 0
    for epoch in range(epochs):
        centre, context = _skipgram_pairs(sentences, window, keep, rng)
        total = total or max(len(centre) * epochs, 1)  # for the learning-rate decay
        order = rng.permutation(len(centre))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            rate = learning_rate * max(1.0 - done / total, 1e-4)  # linear decay, as word2vec
            step(tf.constant(centre[batch]), tf.constant(context[batch]), tf.constant(rate, tf.float32),
                 tf.constant([tf_seed, epoch * len(order) + start + 1], tf.int64))
            done += len(batch)
    vectors = words.numpy()
    vectors[:4] = 0.0
    trained = vectors[4:]
    scale = trained.std() if trained.size and trained.std() > 0 else 1.0
    return (vectors * (0.05 / np.sqrt(3.0) / scale)).astype("float32")  # std of uniform(-0.05, 0.05)
