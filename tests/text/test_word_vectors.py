"""kzoo.text.word_vectors: naive-Bayes ratios against a hand computation, skip-gram geometry, errors."""

import numpy as np
import pytest

from kzoo.text import log_count_ratios, skipgram_vectors


def reference_ratios(ids, labels, vocabulary_size, positive, alpha=1.0):
    """Wang & Manning (2012) by hand: binarized counts, one class against the rest, padding left out."""
    presence = np.zeros((len(ids), vocabulary_size))
    for i, row in enumerate(ids):
        presence[i, np.unique(np.asarray(row).ravel())] = 1.0
    presence = presence[:, 1:]
    p = alpha + presence[np.asarray(labels) == positive].sum(0)
    q = alpha + presence[np.asarray(labels) != positive].sum(0)
    return np.concatenate([[0.0], np.log(p / p.sum()) - np.log(q / q.sum())])


def test_log_count_ratios_match_a_hand_computation():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 9, size=(30, 3, 4))  # (N, S, W) with some padding zeros
    labels = rng.integers(0, 2, size=30)
    ratios = log_count_ratios(ids, labels, vocabulary_size=10)
    assert ratios.shape == (10, 1) and ratios.dtype == np.float32
    np.testing.assert_allclose(ratios[:, 0], reference_ratios(ids, labels, 10, positive=1), rtol=1e-5, atol=1e-6)
    three = rng.integers(0, 3, size=30)
    multi = log_count_ratios(ids, three, vocabulary_size=10, num_classes=3, alpha=0.5)
    assert multi.shape == (10, 3)
    for c in range(3):
        np.testing.assert_allclose(multi[:, c], reference_ratios(ids, three, 10, c, alpha=0.5), rtol=1e-5, atol=1e-6)


def test_log_count_ratios_count_a_word_once_per_document():
    once = log_count_ratios([[2, 0, 0], [3, 0, 0]], [1, 0], vocabulary_size=4)
    repeated = log_count_ratios([[2, 2, 2], [3, 0, 0]], [1, 0], vocabulary_size=4)
    np.testing.assert_array_equal(once, repeated)
    assert once[2, 0] > 0 > once[3, 0]


def test_log_count_ratios_errors():
    with pytest.raises(ValueError, match=r"`labels` must be 2 integer labels in \[0, 2\)"):
        log_count_ratios([[1], [2]], [0, 2], vocabulary_size=3)
    with pytest.raises(ValueError, match=r"word ids in \[0, 3\). Received: id 5 at flat index 1"):
        log_count_ratios([[1], [5]], [0, 1], vocabulary_size=3)
    with pytest.raises(ValueError, match="`ids` must be integer word ids of rank >= 2"):
        log_count_ratios([1.5, 2.0], [0, 1], vocabulary_size=3)
    with pytest.raises(ValueError, match="`alpha` must be a positive number. Received: alpha=0"):
        log_count_ratios([[1], [2]], [0, 1], vocabulary_size=3, alpha=0)
    with pytest.raises(ValueError, match="`num_classes` must be an int >= 2. Received: num_classes=1"):
        log_count_ratios([[1], [2]], [0, 0], vocabulary_size=3, num_classes=1)


def test_skipgram_gives_words_of_the_same_contexts_closer_vectors():
    # ids 4/5 only ever appear between 8 and 9; ids 6/7 only between 10 and 11.
    rng = np.random.default_rng(0)
    sentences = []
    for _ in range(400):
        a, b = (4, 5) if rng.random() < 0.5 else (6, 7)
        left, right = (8, 9) if a == 4 else (10, 11)
        sentences.append([left, a if rng.random() < 0.5 else b, right, 0])
    vectors = skipgram_vectors(np.array(sentences), vocabulary_size=12, dim=8, window=2, epochs=5,
                               batch_size=64, subsample=1.0, seed=0)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-9)
    assert unit[4] @ unit[5] > unit[4] @ unit[6] + 0.3, (unit[4] @ unit[5], unit[4] @ unit[6])
    assert unit[6] @ unit[7] > unit[5] @ unit[7] + 0.3
    assert vectors.shape == (12, 8) and np.all(vectors[:4] == 0)  # reserved ids are never trained
    np.testing.assert_allclose(vectors[4:].std(), 0.05 / np.sqrt(3), rtol=1e-4)  # a Keras Embedding's scale
    again = skipgram_vectors(np.array(sentences), vocabulary_size=12, dim=8, window=2, epochs=5,
                             batch_size=64, subsample=1.0, seed=0)
    np.testing.assert_array_equal(vectors, again)  # seeded


def test_skipgram_errors_and_empty_input():
    with pytest.raises(ValueError, match="`window` must be a positive int. Received: window=0"):
        skipgram_vectors([[4, 5]], vocabulary_size=6, window=0)
    with pytest.raises(ValueError, match="`vocabulary_size` must be an int >= 2. Received: vocabulary_size=1"):
        skipgram_vectors([[0, 0]], vocabulary_size=1)
    assert skipgram_vectors(np.zeros((0, 3), "int32"), vocabulary_size=6, dim=2).shape == (6, 2)


@pytest.mark.parametrize("name", ["kzoo.text.word_vectors"])
def test_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
