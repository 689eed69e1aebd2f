"""The embedded review corpus: deterministic, disjoint splits, balanced, and not a bag of words."""

import collections

import pytest

from kzoo.data import DOCUMENT_CLASSES, generate_documents, load_documents_corpus


def test_pure_function_of_the_seed_with_disjoint_splits():
    assert generate_documents(50, seed=3) == generate_documents(50, seed=3)
    assert generate_documents(50, seed=3) != generate_documents(50, seed=4)
    train, test = load_documents_corpus("train", size=1000), load_documents_corpus("test", size=1000)
    assert not set(train[0]) & set(test[0])
    everything = load_documents_corpus("all", size=1000)
    assert len(everything[0]) == len(train[0]) + len(test[0])
    assert 0.12 < len(test[0]) / len(everything[0]) < 0.28  # test_fraction=0.2
    assert set(load_documents_corpus("test", size=500)[0]) <= set(test[0])  # the split does not depend on size


def test_labels_balanced_and_both_layouts_present():
    texts, labels = load_documents_corpus("all", size=1000)
    counts = collections.Counter(labels)
    assert set(counts) == {0, 1} and abs(counts[0] - counts[1]) < 100
    assert DOCUMENT_CLASSES == ("negative", "positive")
    with_newlines = sum("\n" in t for t in texts)
    assert 0.4 < with_newlines / len(texts) < 0.6
    assert all(3 <= len(t.replace("\n", " ").split(" . ")) for t in texts)  # several sentences each


def test_negation_and_reported_opinions_make_word_counts_insufficient():
    texts, labels = load_documents_corpus("all", size=2000)
    negated_positive = [t for t, l in zip(texts, labels) if l == 1 and " was not " in t]
    reported_negative = [t for t, l in zip(texts, labels) if l == 1 and " said " in t]
    assert negated_positive and reported_negative  # negative words inside positive reviews
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    train, test = load_documents_corpus("train"), load_documents_corpus("test")
    vectorizer = CountVectorizer()
    unigram = LogisticRegression(max_iter=2000).fit(vectorizer.fit_transform(train[0]), train[1])
    assert unigram.score(vectorizer.transform(test[0]), test[1]) < 0.7  # word order matters


def test_bad_arguments():
    with pytest.raises(ValueError, match="`split` must be 'train', 'test' or 'all'. Received: split='dev'"):
        load_documents_corpus("dev")
    with pytest.raises(ValueError, match="`size` must be a positive int. Received: size=0"):
        load_documents_corpus(size=0)
