import numpy as np
import pytest
import tensorflow as tf

from kzoo.text import END, PAD, RESERVED_TOKENS, START, UNK, Tokenizer, check_texts


def words(tok, texts):
    return [[w.decode() for w in row] for row in tok.split(tf.constant(texts)).to_list()]


def test_split_normalises_lowercases_and_splits_punctuation():
    tok = Tokenizer()
    assert words(tok, ["¿Dónde ESTÁ la estación?", "  don't  stop!!", "", "...", "Ｆｕｌｌ"]) == [
        ["¿", "dónde", "está", "la", "estación", "?"],
        ["don't", "stop", "!", "!"],
        [],
        [".", ".", "."],
        ["full"],  # NFKC folds full-width letters
    ]
    assert words(Tokenizer(lowercase=False), ["Hello World."]) == [["Hello", "World", "."]]


def test_infix_marks_keep_hyphens_and_number_separators_readable():
    tok = Tokenizer()
    assert words(tok, ["A well-known, state-of-the-art model - really.", "It costs 3.5 or 1,000.50 at 10:30.",
                       "-dash- 3. 5 a- x@-@y", "a-b-c-d-e"]) == [
        ["a", "well", "@-@", "known", ",", "state", "@-@", "of", "@-@", "the", "@-@", "art", "model", "-",
         "really", "."],
        ["it", "costs", "3", "@.@", "5", "or", "1", "@,@", "000", "@.@", "50", "at", "10", "@:@", "30", "."],
        ["-", "dash", "-", "3", ".", "5", "a", "-", "x", "@", "-", "@", "y"],  # no infix: split as before
        ["a", "@-@", "b", "@-@", "c", "@-@", "d", "@-@", "e"],
    ]
    tok.adapt(["a well-known model, state-of-the-art, costs 3.5 or 1,000 at 10:30 - really ."])
    texts = ["A well-known model costs 1,000.5 at 10:30 - really.", "state-of-the-art"]
    ids = tok(tf.constant(texts))
    assert UNK not in ids.numpy()
    assert [t.decode() for t in tok.detokenize(ids).numpy()] == [
        "a well-known model costs 1,000.5 at 10:30 - really.", "state-of-the-art"]


def test_word_ids_padding_start_end_and_unknown_words():
    tok = Tokenizer()
    tok.adapt(["b a a .", "a c ."])
    # frequency order, ties alphabetical: a (3), . (2), b, c
    assert tok.vocabulary == list(RESERVED_TOKENS) + ["a", ".", "b", "c"]
    ids = tok(tf.constant(["a b zz .", "c", ""]), add_start=True, add_end=True).numpy()
    np.testing.assert_array_equal(
        ids,
        [[START, 4, 6, UNK, 5, END], [START, 7, END, PAD, PAD, PAD], [START, END, PAD, PAD, PAD, PAD]],
    )
    # an empty batch element still gives at least one column
    assert tok(tf.constant([""])).numpy().tolist() == [[PAD]]


def test_max_length_truncates_and_keeps_end_token():
    tok = Tokenizer(max_length=4)
    tok.adapt(["a b c d e f"])
    ids = tok(tf.constant(["a b c d e f"]), add_end=True).numpy().tolist()
    assert ids == [[4, 5, 6, END]]


def test_detokenize_is_readable_and_stops_at_end():
    tok = Tokenizer()
    tok.adapt(["¿ dónde está ?", "where is it ? yes , it is ."])
    ids = tok(tf.constant(["¿Dónde está?", "where is it? yes, it is."])).numpy()
    assert [t.decode() for t in tok.detokenize(ids).numpy()] == ["¿dónde está?", "where is it? yes, it is."]
    v = {w: i for i, w in enumerate(tok.vocabulary)}
    ids = np.array([[v["yes"], END, v["it"], PAD], [START, v["it"], UNK, PAD]])
    assert [t.decode() for t in tok.detokenize(ids).numpy()] == ["yes", "it [UNK]"]


def test_wordpiece_round_trip_of_unseen_compound():
    tok = Tokenizer(kind="wordpiece")
    tok.adapt(["the cat sleeps", "the cats sleep", "dogs sleep", "the dog"] * 20, max_size=60)
    assert any(t.startswith("##") for t in tok.vocabulary)
    ids = tok(tf.constant(["the dogs sleeps"]))
    assert tok.detokenize(ids).numpy().tolist() == [b"the dogs sleeps"]


def test_config_round_trip_keeps_vocabulary():
    tok = Tokenizer(kind="word", lowercase=False, max_length=7)
    tok.adapt(["Hello there ."])
    clone = Tokenizer.from_config(tok.get_config())
    assert clone.vocabulary == tok.vocabulary and clone.max_length == 7 and not clone.lowercase
    texts = tf.constant(["Hello there .", "hello"])
    np.testing.assert_array_equal(clone(texts), tok(texts))


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="kind"):
        Tokenizer(kind="bpe")
    with pytest.raises(ValueError, match="must start with"):
        Tokenizer(vocabulary=["a", "b"])
    with pytest.raises(ValueError, match="adapt"):
        Tokenizer()(tf.constant(["x"]))
    with pytest.raises(TypeError, match=r"texts\[1\]=3"):
        check_texts(["a", 3])
    with pytest.raises(TypeError, match="`sources` must be a string or a list"):
        check_texts(12, "sources")
    assert check_texts("one") == (["one"], True)
    assert check_texts(np.array(["a", "b"])) == (["a", "b"], False)
