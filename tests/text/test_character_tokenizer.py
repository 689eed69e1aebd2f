import subprocess
import sys
import unicodedata

import keras
import numpy as np
import pytest
import tensorflow as tf

from kzoo.text import END, PAD, RESERVED_TOKENS, START, UNK, CharacterTokenizer


def strings(tensor):
    return [t.decode("utf-8") for t in tensor.numpy()]


def test_worked_example_ids_by_frequency_then_code_point():
    tok = CharacterTokenizer()
    tok.adapt(["abc ab"])
    # a, b twice; then " " (U+0020) before "c" (U+0063), once each
    assert tok.vocabulary == list(RESERVED_TOKENS) + ["a", "b", " ", "c"]
    assert tok.vocabulary_size == 8
    assert tok(tf.constant(["abc ab"])).numpy().tolist() == [[4, 5, 7, 6, 4, 5]]


@pytest.mark.parametrize("lowercase", [True, False])
def test_normalisation_matches_unicodedata_nfkc(lowercase):
    texts = [
        "École ÉTÉ",
        "E\u0301cole",  # decomposed é
        "Vie\u0323\u0302t Nam",  # decomposed ệ: two marks, canonical order
        "\u03b1\u0314\u0301\u0345",  # decomposed ᾅ: three marks
        "ﬁne Ｆｕｌｌ ½ ℌ",  # compatibility forms
        "\u212b\u0301 \u2126",  # Ångström and ohm signs: singletons
        "ΟΔΟΣ İstanbul Straße",
        "",
    ]
    tok = CharacterTokenizer(lowercase=lowercase)
    expected = [unicodedata.normalize("NFKC", t) for t in texts]
    if lowercase:
        expected = [t.lower() for t in expected]
    assert strings(tok.normalize(tf.constant(texts))) == expected
    # Documented gap: NFC composes "e" with U+0302 across U+0323 (marks out of canonical order).
    assert strings(tok.normalize(tf.constant(["e\u0302\u0323"]))) == ["ê\u0323"]


def test_round_trip_is_the_lower_cased_text_for_ascii_and_non_ascii():
    """The text comes back lower-cased, its words separated by one space and none at the ends."""
    texts = ["Hello, World!", "Ñandú über ÉCOLE", "  two  spaces ", "çà et là", "", " "]
    single = ["Hello, World!", "Ñandú über ÉCOLE", "two spaces", "çà et là", "", ""]
    tok = CharacterTokenizer()
    tok.adapt(texts)
    ids = tok(tf.constant(texts))
    assert UNK not in ids.numpy()
    assert strings(tok.detokenize(ids)) == [t.lower() for t in single]
    assert [tok.decode(row) for row in ids.numpy()] == [t.lower() for t in single]
    cased = CharacterTokenizer(lowercase=False)
    cased.adapt(texts)
    assert strings(cased.detokenize(cased(tf.constant(texts)))) == single


def test_start_end_max_length_and_unknown_characters():
    tok = CharacterTokenizer()
    tok.adapt(["ab"])
    a, b = 4, 5
    ids = tok(tf.constant(["abz", "", "b"]), add_start=True, add_end=True).numpy()
    np.testing.assert_array_equal(
        ids, [[START, a, b, UNK, END], [START, END, PAD, PAD, PAD], [START, b, END, PAD, PAD]]
    )
    assert tok(tf.constant([""])).numpy().tolist() == [[PAD]]  # at least one column
    assert strings(tok.detokenize(ids)) == ["ab?", "", "b"]
    assert strings(tok.detokenize([[a, END, b, UNK], [START, b, PAD, a]])) == ["a", "ba"]
    assert tok.decode(np.array([START, b, UNK, END, a])) == "b?"
    short = CharacterTokenizer(vocabulary=tok.vocabulary, max_length=3)
    assert short(tf.constant(["abab"]), add_end=True).numpy().tolist() == [[a, b, END]]
    assert short(tf.constant(["abab"]), add_start=True, add_end=True).numpy().tolist() == [[START, a, END]]
    assert short(tf.constant(["abab"])).numpy().tolist() == [[a, b, a]]


def test_adapt_from_dataset_min_count_and_max_size():
    texts = ["aaab", "aab", "c"]
    tok = CharacterTokenizer()
    tok.adapt(tf.data.Dataset.from_tensor_slices(texts), min_count=2)
    assert tok.vocabulary[4:] == ["a", "b"]
    tok.adapt(texts, max_size=5)
    assert tok.vocabulary[4:] == ["a"]


def test_works_in_tf_data_map():
    tok = CharacterTokenizer()
    tok.adapt(["héllo", "wörld"])
    data = tf.data.Dataset.from_tensor_slices(["Héllo", "wörld!"]).batch(2).map(lambda t: tok(t, add_end=True))
    (ids,) = list(data.as_numpy_iterator())
    np.testing.assert_array_equal(ids, tok(tf.constant(["Héllo", "wörld!"]), add_end=True))
    assert strings(tok.detokenize(ids)) == ["héllo", "wörld?"]


def test_keras_round_trip_of_a_model_and_config(tmp_path):
    tok = CharacterTokenizer(lowercase=False, max_length=5, name="chars")
    tok.adapt(["Ab cd"])
    inputs = keras.Input(shape=(), dtype="string")
    model = keras.Model(inputs, tok(inputs))
    texts = tf.constant(["Ab", "dcbaAx"])
    path = str(tmp_path / "tok.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded(texts), model(texts))
    clone = CharacterTokenizer.from_config(tok.get_config())
    assert clone.vocabulary == tok.vocabulary and clone.max_length == 5 and not clone.lowercase


def test_saved_model_tokenizes_and_detokenizes_with_tensorflow_alone(tmp_path):
    tok = CharacterTokenizer()
    tok.adapt(["café au lait"])
    module = tf.Module()
    module.tokenizer = tok
    module.tokenize = tf.function(lambda texts: tok(texts), input_signature=[tf.TensorSpec([None], tf.string)])
    module.detokenize = tf.function(tok.detokenize, input_signature=[tf.TensorSpec([None, None], tf.int32)])
    tf.saved_model.save(module, str(tmp_path))
    script = (
        "import sys, tensorflow as tf\n"
        f"m = tf.saved_model.load({str(tmp_path)!r})\n"
        "ids = m.tokenize(tf.constant(['CAFE\\u0301 au lait!']))\n"
        "print(m.detokenize(ids).numpy()[0].decode(), 'tensorflow_text' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "café au lait? False"


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="must start with"):
        CharacterTokenizer(vocabulary=["a", "b"])
    with pytest.raises(ValueError, match=r"single characters.*vocabulary\[5\]='ab'"):
        CharacterTokenizer(vocabulary=list(RESERVED_TOKENS) + ["x", "ab"])
    with pytest.raises(ValueError, match="duplicates"):
        CharacterTokenizer(vocabulary=list(RESERVED_TOKENS) + ["x", "x"])
    with pytest.raises(ValueError, match="max_length=0"):
        CharacterTokenizer(max_length=0)
    tok = CharacterTokenizer()
    with pytest.raises(ValueError, match="adapt"):
        tok(tf.constant(["x"]))
    with pytest.raises(ValueError, match="at least one character other than white space"):
        tok.adapt([])
    with pytest.raises(ValueError, match="at least one character other than white space"):
        tok.adapt(["  ", "\t", ""])
    with pytest.raises(TypeError, match=r"texts\[1\]=3"):
        tok.adapt(["a", 3])
    tok.adapt(["a"])
    with pytest.raises(ValueError, match=r"1-D string tensor.*shape=\(1, 1\)"):
        tok(tf.constant([["a"]]))
    with pytest.raises(ValueError, match=r"1-D sequence of ints.*shape=\(1, 2\)"):
        tok.decode([[4, 4]])
