"""CharacterLanguageModel: interpolated Witten-Bell probabilities against a worked example."""

import itertools
import math
import os

import numpy as np
import pytest

from kzoo.text import CharacterLanguageModel


def test_probabilities_match_the_worked_example():
    # Texts "ab" and "b", order 2. Outcomes: a, b, the end, the unknown class: uniform 1/4.
    # Empty history: a 1, b 2, end 2 (5 tokens, 3 distinct): p(a) = (1 + 3/4) / 8 = 0.21875,
    # p(b) = p(end) = (2 + 3/4) / 8 = 0.34375, p(unknown) = (3/4) / 8 = 0.09375.
    # After the start: a 1, b 1 (2 distinct): p(a | ^) = (1 + 2 · 0.21875) / 4 = 0.359375.
    # After "a": b 1: p(b | a) = (1 + 0.34375) / 2 = 0.671875.
    # After "b": end 2: p(end | b) = (2 + 0.34375) / 3 = 0.78125.
    lm = CharacterLanguageModel(order=2).fit(["ab", "b"])
    assert math.isclose(math.exp(lm.next_log_prob("a")), 0.359375)
    assert math.isclose(math.exp(lm.next_log_prob("a", "b")), (0 + 0.21875) / 3)  # "b" only ended: all from below
    assert math.isclose(math.exp(lm.next_log_prob("b", "a")), 0.671875)
    assert math.isclose(math.exp(lm.next_log_prob(None, "ab")), 0.78125)
    assert math.isclose(math.exp(lm.next_log_prob("z", "zz")), 0.09375)  # unseen history and character
    assert math.isclose(lm.log_prob("ab"), math.log(0.359375 * 0.671875 * 0.78125))
    assert math.isclose(lm.log_prob(""), math.log((0 + 2 * 0.34375) / 4))  # the end right after the start


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_every_history_gives_a_distribution(order):
    texts = ["one two three", "two two", "nine one", "three"]
    lm = CharacterLanguageModel(order=order).fit(texts)
    outcomes = sorted(lm.alphabet) + [None, "#"]  # "#" unseen: the unknown class
    assert lm.outcomes == len(outcomes)
    for history in ["", "o", "tw", "two ", "xq", "nine one t"]:
        total = sum(math.exp(lm.next_log_prob(c, history)) for c in outcomes)
        assert math.isclose(total, 1.0, rel_tol=1e-12), (order, history, total)
    # Whole texts: summed over every text of up to three characters from {o, n, e} and all
    # other continuations, the probabilities of the texts never exceed 1.
    short = sum(math.exp(lm.log_prob("".join(t))) for n in range(4) for t in itertools.product("one", repeat=n))
    assert 0 < short < 1


def test_the_model_prefers_words_it_has_read():
    lm = CharacterLanguageModel(order=4).fit(["one", "nine", "nine one", "one nine nine"])
    assert lm.log_prob("nine") > lm.log_prob("nne") > lm.log_prob("xqz")
    assert lm.next_log_prob("e", "nin") > lm.next_log_prob("n", "nin")
    assert lm.next_log_prob(None, "nine") > lm.next_log_prob(None, "nin")  # a word ends after its last letter
    assert lm.log_prob("NINE") == lm.log_prob("nine")  # lower case by default
    cased = CharacterLanguageModel(order=4, lowercase=False).fit(["nine"])
    assert cased.log_prob("NINE") < cased.log_prob("nine")
    # Fitting again adds counts: the same as fitting all texts at once.
    twice = CharacterLanguageModel(order=3).fit(["one"]).fit(["nine"])
    once = CharacterLanguageModel(order=3).fit(["one", "nine"])
    assert twice.log_prob("nine one") == once.log_prob("nine one")


def test_save_and_load_roundtrip(tmp_path):
    lm = CharacterLanguageModel(order=3).fit(["one two", "three"])
    path = tmp_path / "lm.json"
    lm.save(str(path))
    assert os.listdir(tmp_path) == ["lm.json"]  # written through a temporary file, renamed
    back = CharacterLanguageModel.load(str(path))
    assert (back.order, back.lowercase, back.alphabet) == (3, True, lm.alphabet)
    for text in ["one", "two three", "zzz", ""]:
        assert back.log_prob(text) == lm.log_prob(text)
    (tmp_path / "bad.json").write_text("not json")
    with pytest.raises(ValueError, match="not a saved CharacterLanguageModel"):
        CharacterLanguageModel.load(str(tmp_path / "bad.json"))
    (tmp_path / "other.json").write_text('{"order": 3}')
    with pytest.raises(ValueError, match="expected the keys"):
        CharacterLanguageModel.load(str(tmp_path / "other.json"))


def test_bad_input_gets_clear_errors():
    for order in (0, 2.0, True):
        with pytest.raises(ValueError, match=rf"order={order!r}"):
            CharacterLanguageModel(order=order)
    with pytest.raises(ValueError, match="lowercase=1"):
        CharacterLanguageModel(lowercase=1)
    lm = CharacterLanguageModel()
    with pytest.raises(ValueError, match="call `fit"):
        lm.log_prob("one")
    for texts, message in (("one", "non-empty list"), ([], "non-empty list"), (["one", 2], "int 2 at index 1")):
        with pytest.raises(ValueError, match=message):
            lm.fit(texts)
    lm.fit(["one"])
    with pytest.raises(ValueError, match="character='ab'"):
        lm.next_log_prob("ab", "one")
    assert np.isfinite(lm.next_log_prob("é", "one"))  # an unseen character is unlikely, not impossible
