"""CIDEr-D against pycocoevalcap's `Cider`, the COCO tokenization against its PTBTokenizer, errors."""

import doctest
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from kzoo import metrics
from kzoo.metrics import cider as cider_module
from kzoo.metrics.cider import CIDEr, cider_d, tokenize_coco
from kzoo.testing.metric_test import check_metric

PYCOCO_REASON = "pycocoevalcap (the `test` extra) is the reference implementation of CIDEr-D"


def _pycoco(hypotheses, references):
    """pycocoevalcap's corpus and per-sample CIDEr-D of pre-tokenized texts."""
    reference = pytest.importorskip("pycocoevalcap.cider.cider", reason=PYCOCO_REASON)
    gts = {i: list(refs) for i, refs in enumerate(references)}
    res = {i: [hyp] for i, hyp in enumerate(hypotheses)}
    score, scores = reference.Cider().compute_score(gts, res)
    return float(score), np.asarray(scores)


# Pre-tokenized corpora (space-separated lower-case tokens): pycocoevalcap scores them as given.
CORPORA = {
    "one_reference": (
        ["a cat sits on the mat", "a dog runs in the park", "two birds on a wire"],
        [["a cat is sitting on a mat"], ["a dog is running through a park"], ["two small birds sit on a wire"]],
    ),
    "several_references": (
        ["a man riding a wave on a surfboard", "a plate of food with broccoli", "a giraffe next to a tree",
         "people walking down a city street"],
        [["a man riding a wave on top of a surfboard", "a surfer rides a big wave", "a man surfs in the ocean"],
         ["a plate with broccoli and meat", "a close up of a plate of food"],
         ["a giraffe standing next to a tree in a field", "a tall giraffe by a tree", "a giraffe eats leaves",
          "an animal near a tree"],
         ["people are walking down a busy city street at night"]],
    ),
    "no_overlap": (
        ["zebras graze quietly", "a red bus at the stop", "a bowl of soup"],
        [["a kitchen with a stove and a sink"], ["a red bus parked at the bus stop", "a bus at a stop"],
         ["a bowl of hot soup on a table"]],
    ),
    "repeated_words": (
        ["a dog dog dog dog dog", "the the the cat", "a man with a hat"],
        [["a dog playing with a dog", "two dogs"], ["the cat on the sofa"], ["a man with a hat and a hat"]],
    ),
    "different_lengths": (
        ["a cat", "a very long caption about a small dog that is running very fast across a large green "
         "field on a sunny day", "a bench", ""],
        [["a cat sitting on a wooden chair next to a window"], ["a small dog runs across a field"],
         ["a bench", "a wooden park bench under a tree near the lake shore"], ["an empty room"]],
    ),
    "duplicate_references": (
        ["a train on the tracks", "a train at a station"],
        [["a train on the tracks", "a train on the tracks"], ["a train stops at a station"]],
    ),
}


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_cider_d_matches_pycocoevalcap(name):
    hyps, refs = CORPORA[name]
    expected, expected_scores = _pycoco(hyps, refs)
    for tokenize in ("coco", "none"):
        score, scores = cider_d(hyps, refs, tokenize=tokenize)
        assert score == pytest.approx(expected, abs=1e-4)
        np.testing.assert_allclose(scores, expected_scores, atol=1e-4, rtol=0)
    # The metric: reset, config round trip, batch-split and order invariance (check_metric).
    check_metric(CIDEr(), refs, hyps, expected=expected, atol=1e-4, run_model=False)


def test_batching_does_not_change_the_corpus_score():
    hyps, refs = (sum(parts, []) for parts in zip(*CORPORA.values()))
    expected, _ = _pycoco(hyps, refs)
    m = CIDEr()
    for start, stop in [(0, 1), (1, 7), (7, 8), (8, len(hyps))]:
        m.update_state(refs[start:stop], hyps[start:stop])
    assert float(m.result()) == pytest.approx(expected, abs=1e-4)
    m.update_state([], [])
    assert float(m.result()) == pytest.approx(expected, abs=1e-4)
    one_batch = CIDEr()
    one_batch.update_state(refs, hyps)
    assert float(one_batch.result()) == pytest.approx(float(m.result()), abs=1e-12)


def test_empty_and_single_sample_corpora():
    m = CIDEr()
    assert float(m.result()) == 0.0
    assert cider_d([], []) == (0.0, pytest.approx(np.zeros(0)))
    # One sample: N = 1 gives every n-gram the weight log(1) - log(1) = 0 (pycocoevalcap agrees).
    m.update_state([["a cat on a mat"]], ["a cat on a mat"])
    assert float(m.result()) == 0.0 == _pycoco(["a cat on a mat"], [["a cat on a mat"]])[0]
    m.reset_state()
    assert float(m.result()) == 0.0 and int(m.statistics[0]) == 0


# Outputs of pycocoevalcap's PTBTokenizer (Stanford CoreNLP 3.4.1, -lowerCase, punctuation filter).
PTB_OUTPUTS = {
    "A man riding a wave on top of a surfboard.": "a man riding a wave on top of a surfboard",
    "Two dogs aren't playing; they're sleeping!": "two dogs are n't playing they 're sleeping",
    "The cat's toy, a red ball, is under the sofa.": "the cat 's toy a red ball is under the sofa",
    'A "happy" child (age 5) eats 3.5 apples at 10:30 a.m.':
        "a happy child -lrb- age 5 -rrb- eats 3.5 apples at 10:30 a.m.",
    "A T-shirt -- worn by a man - on a 1,000-mile trip...": "a t-shirt worn by a man on a 1,000-mile trip",
    "Don’t worry, it’s the dogs' bowl.": "do n't worry it 's the dogs bowl",
    "A cannot-miss shot: 50% off $5 items & more / less": "a cannot-miss shot 50 % off $ 5 items & more / less",
    "'Hello' said the girl `quietly` {and} [then] left":
        "hello said the girl quietly -lcb- and -rcb- -lsb- then -rsb- left",
    "Mr. Smith at St. Paul's, U.S.A. etc. ok.": "mr. smith at st. paul 's u.s.a. etc. ok",
    "5 p.m. U.K.'s 2's '80s gonna cannot": "5 p.m. u.k. 's 2 's '80s gon na can not",
    "Café – “curly” ‘single’ … end": "café curly single end",
    "": "",
}


@pytest.mark.parametrize("text", sorted(PTB_OUTPUTS))
def test_tokenize_coco_matches_ptb_tokenizer_outputs(text):
    assert " ".join(tokenize_coco(text)) == PTB_OUTPUTS[text]
    assert " ".join(tokenize_coco(PTB_OUTPUTS[text])) == PTB_OUTPUTS[text]  # tokenized text is kept


def test_tokenize_coco_matches_the_java_ptb_tokenizer():
    ptb = pytest.importorskip("pycocoevalcap.tokenizer.ptbtokenizer", reason=PYCOCO_REASON)
    if shutil.which("java") is None:
        pytest.skip("pycocoevalcap's PTBTokenizer runs Stanford CoreNLP, which needs `java`")
    captions = list(PTB_OUTPUTS) + [hyp for hyps, _ in CORPORA.values() for hyp in hyps]
    out = ptb.PTBTokenizer().tokenize({i: [{"caption": c}] for i, c in enumerate(captions)})
    assert [" ".join(tokenize_coco(c)) for c in captions] == [out[i][0] for i in range(len(captions))]


def test_raw_captions_score_like_ptb_tokenized_ones():
    raw = list(PTB_OUTPUTS)[:-1]
    hyps = raw[1:] + raw[:1]  # each hypothesis is another sample's caption, so some n-grams match
    expected, expected_scores = _pycoco([PTB_OUTPUTS[h] for h in hyps], [[PTB_OUTPUTS[r]] for r in raw])
    score, scores = cider_d(hyps, [[r] for r in raw])
    assert score == pytest.approx(expected, abs=1e-4)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-4, rtol=0)


def test_token_ids_and_string_tensors_in_graphs():
    rng = np.random.default_rng(0)
    refs = rng.integers(3, 9, (12, 7))
    refs[:, 5:] = 0  # padding
    logits = rng.normal(size=(12, 7, 10)).astype("float32")
    logits[:6] += 5 * np.eye(10)[refs[:6]]  # half the hypotheses equal their reference

    def text(ids):
        ids = list(ids)
        ids = ids[: ids.index(2)] if 2 in ids else ids
        return " ".join(str(t) for t in ids if t != 0)

    hyp_texts, ref_texts = [text(h) for h in logits.argmax(-1)], [[text(r)] for r in refs]
    expected, _ = _pycoco(hyp_texts, ref_texts)
    # compile/fit/evaluate and .keras save/load run update_state and result in graphs.
    check_metric(CIDEr(end_id=2), refs, logits, expected=expected, atol=1e-4)
    m = CIDEr()
    tf.function(m.update_state)(tf.constant(ref_texts), tf.constant(hyp_texts))
    assert float(tf.function(m.result)()) == pytest.approx(expected, abs=1e-4)


def test_config_round_trip():
    m = CIDEr(tokenize="none", pad_id=1, end_id=2, name="val_cider")
    clone = CIDEr.from_config(m.get_config())
    assert clone.get_config() == m.get_config()
    assert (clone.tokenize, clone.pad_id, clone.end_id, clone.name) == ("none", 1, 2, "val_cider")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(m))
    assert type(restored) is CIDEr and restored.get_config() == m.get_config()
    assert metrics.CIDEr is CIDEr and keras.saving.get_registered_object("kzoo>CIDEr") is CIDEr


def test_errors_name_the_argument_and_the_value():
    with pytest.raises(ValueError, match=r"Received: 2 references and 1 hypotheses"):
        cider_d(["a cat"], [["a cat"], ["a dog"]])
    with pytest.raises(ValueError, match=r"Received: 1 references and 2 hypotheses"):
        CIDEr().update_state([["a cat"]], ["a cat", "a dog"])
    with pytest.raises(ValueError, match=r"non-empty list of reference texts. Received: references\[1\]=\[\]"):
        cider_d(["a cat", "a dog"], [["a cat"], []])
    with pytest.raises(ValueError, match=r"non-empty list of reference texts. Received: y_true\[0\]=\[\]"):
        CIDEr().update_state([[]], ["a cat"])
    with pytest.raises(ValueError, match=r"Expected a text \(str\). Received: hypotheses\[1\]=3 of type int"):
        cider_d(["a cat", 3], [["a cat"], ["a dog"]])
    with pytest.raises(ValueError, match=r"Received: y_true\[0\]\[1\]=None of type NoneType"):
        CIDEr().update_state([["a cat", None]], ["a cat"])
    with pytest.raises(ValueError, match=r"`y_pred` must be a list of texts, one per sample. Received: y_pred='a cat'"):
        CIDEr().update_state([["a cat"]], "a cat")
    with pytest.raises(ValueError, match=r"Received: tokenize='ptb'"):
        CIDEr(tokenize="ptb")
    with pytest.raises(ValueError, match=r"Received: tokenize='13a'"):
        cider_d(["a"], [["a"]], tokenize="13a")
    with pytest.raises(ValueError, match=r"takes no sample_weight"):
        CIDEr().update_state([["a cat"]], ["a cat"], sample_weight=[1.0])


def test_docstring_examples():
    # tests/test_docstring_examples.py runs the modules of its own list, with these flags.
    result = doctest.testmod(cider_module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
