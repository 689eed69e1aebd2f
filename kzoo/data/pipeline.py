"""`tf.data` input pipelines for sentence pairs: shuffling and bucketing by length.

Bucketing groups sentences of similar length into the same batch, so a batch of short sentences
is not padded to the length of a long one (the "bucketing" of Sutskever et al. 2014 and of
most NMT systems).
"""

import contextlib
import hashlib
import warnings

import numpy as np
import tensorflow as tf

from kzoo.text.tokenizer import check_texts

__all__ = ["bucket_batches", "make_pairs_dataset", "no_epoch_end_warning", "padding_fraction", "split_by_source", "unpack_text_dataset"]

_DEFAULT_BOUNDARIES = (6, 9, 12, 16, 20, 26, 34, 45)  # words; roughly equal shares of real corpora


def _word_count(text):
    return tf.size(tf.strings.split(text))


def unpack_text_dataset(dataset):
    """A `tf.data.Dataset` of strings or of `(string, label)` pairs, batched or not ->
    `(texts, labels)`: the texts as Python strings, the labels as a list (None if there are none).

    Examples:
        >>> unpack_text_dataset(tf.data.Dataset.from_tensor_slices((["a b", "c"], [1, 0])).batch(2))
        (['a b', 'c'], [1, 0])
    """
    texts, labels = [], []
    for element in dataset.as_numpy_iterator():
        text, label = element if isinstance(element, tuple) else (element, None)
        texts.extend(t.decode("utf-8") if isinstance(t, bytes) else t for t in np.atleast_1d(text).tolist())
        if label is not None:
            labels.extend(np.atleast_1d(label).tolist())
    return texts, (labels if labels else None)


@contextlib.contextmanager
def no_epoch_end_warning(steps_per_epoch=None):
    """Silences Keras' "Your input ran out of data" at the end of an epoch of unknown length.

    Keras 3 warns when a dataset whose number of batches it does not know ends, even though
    ending is how such an epoch is meant to finish. When the user set no `steps_per_epoch`, the
    warning says nothing true, so `fit` on a user's `tf.data.Dataset` runs inside this block;
    with `steps_per_epoch` given, running out of data is a real mistake and the warning stays.
    """
    with warnings.catch_warnings():
        if steps_per_epoch is None:
            warnings.filterwarnings("ignore", message="Your input ran out of data", category=UserWarning)
        yield


def bucket_batches(dataset, length_fn, lengths, boundaries, batch_size):
    """`dataset.bucket_by_sequence_length` with the exact number of batches declared.

    Keras cannot tell where an epoch of a bucketed dataset ends (its cardinality is unknown)
    and warns that "your input ran out of data" at the end of every epoch. The lengths of the
    examples are known here, so the count is too: each bucket gives `ceil(n / batch_size)`
    batches (the last one partial).

    Args:
        dataset: unbatched examples.
        length_fn: example -> its length (a scalar int tensor), as `bucket_by_sequence_length`.
        lengths: the same lengths for every example, as a NumPy array, or None (count unknown).
        boundaries: increasing lengths separating the buckets (`length < boundary` goes below).
        batch_size: examples per batch.
    """
    import numpy as np

    batches = dataset.bucket_by_sequence_length(length_fn, list(boundaries), [batch_size] * (len(boundaries) + 1))
    if lengths is None:
        return batches
    per_bucket = np.bincount(np.searchsorted(boundaries, lengths, side="right"), minlength=len(boundaries) + 1)
    count = int(sum(-(-int(n) // batch_size) for n in per_bucket))
    return batches.apply(tf.data.experimental.assert_cardinality(count))


def make_pairs_dataset(
    sources, targets, batch_size=64, shuffle=True, bucket_boundaries=_DEFAULT_BOUNDARIES, seed=None
):
    """A `tf.data.Dataset` of batched `(source, target)` strings, bucketed by length.

    Args:
        sources: list of source strings.
        targets: list of target strings, as many as `sources`.
        batch_size: sentences per batch.
        shuffle: whether to shuffle the pairs (each epoch, with `seed`).
        bucket_boundaries: increasing word counts (of the longer side) separating the buckets;
            None or empty batches in order without bucketing.
        seed: seed of the shuffle.

    Returns:
        A dataset of `(source, target)` pairs of string tensors `(batch_size,)` (the last batch
        of each bucket may be smaller).

    Examples:
        >>> ds = make_pairs_dataset(["a b", "c"], ["x y", "z"], batch_size=2, shuffle=False)
        >>> [tuple(t.shape) for t in next(iter(ds))]
        [(2,), (2,)]
    """
    sources, _ = check_texts(sources, "sources")
    targets, _ = check_texts(targets, "targets")
    if len(sources) != len(targets):
        raise ValueError(
            "`sources` and `targets` must have the same length. "
            f"Received: len(sources)={len(sources)}, len(targets)={len(targets)}"
        )
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int. Received: batch_size={batch_size!r}")
    ds = tf.data.Dataset.from_tensor_slices((sources, targets))
    if shuffle:
        ds = ds.shuffle(len(sources), seed=seed, reshuffle_each_iteration=True)
    if not bucket_boundaries:
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    boundaries = [int(b) for b in bucket_boundaries]
    counts = tf.maximum(tf.strings.split(sources).row_lengths(), tf.strings.split(targets).row_lengths()).numpy()
    return bucket_batches(
        ds, lambda s, t: tf.maximum(_word_count(s), _word_count(t)), counts, boundaries, batch_size
    ).prefetch(tf.data.AUTOTUNE)


def padding_fraction(dataset):
    """Share of padding word slots in a dataset of batched `(source, target)` strings."""
    padded = real = 0
    for source, target in dataset:
        for texts in (source, target):
            counts = tf.strings.split(texts).row_lengths().numpy()
            real += counts.sum()
            padded += counts.max(initial=0) * len(counts)
    return 1.0 - real / max(padded, 1)


def split_by_source(sources, targets, test_fraction=0.02, limit=None, seed=0):
    """A held-out split that keeps all pairs of one source sentence together.

    A hash of `(seed, source)` decides, so the split is fixed and identical sources (with all
    their reference translations) land on the same side; `limit` caps the training pairs.

    Returns `(train_sources, train_targets, test_sources, test_references)` where each test
    source appears once with every reference translation of it.
    """
    groups = {}
    for source, target in zip(sources, targets):
        groups.setdefault(source, []).append(target)
    train_s, train_t, test_s, test_r = [], [], [], []
    for source, refs in groups.items():
        digest = hashlib.sha256(f"{seed}:{source}".encode("utf-8")).digest()
        if int.from_bytes(digest[:4], "big") / 2**32 < test_fraction:
            test_s.append(source)
            test_r.append(refs)
        else:
            train_s.extend([source] * len(refs))
            train_t.extend(refs)
    if limit is not None:
        train_s, train_t = train_s[:limit], train_t[:limit]
    return train_s, train_t, test_s, test_r
