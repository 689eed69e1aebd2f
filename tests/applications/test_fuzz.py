"""Fuzzing the public application APIs: every call gives a valid result or an error naming its argument.

Hypothesis throws random strings (empty, white space, control characters, NUL, emoji, lone
surrogates, very long), bytes, None, numbers, nested and mixed lists, sets, dicts, NumPy arrays of
odd shapes (0-d, zero-size sides, 4-D, 5-D) and dtypes (bool, int8, uint16, float16, complex,
object, strings, datetimes), tensors, encoded images and WAV files with random headers, and bad
keyword values at `Translator.translate`, `Captioner.caption`, `SpeechToText.transcribe` and
`DocumentClassifier.predict` / `predict_labels` / `explain` of tiny untrained models.

A call must return what its docstring promises (a string for one input and a list of strings of
the batch's length; probabilities in [0, 1] summing to 1; ...) or raise `TypeError` /
`ValueError` whose message names the argument the house way (`` `texts` must be ...``,
`` `images[2]` ...``). A string that names no file may also raise `FileNotFoundError` naming the
argument, as documented for image and WAV paths. Anything else (a TensorFlow error,
`AttributeError`, `UnicodeDecodeError`, a message that does not say which argument was wrong)
fails. The decoding functions are traced once per `(beam_width, length_penalty,
return_attention)`, so valid keyword values come from a few choices; batch sizes and lengths vary
freely (no retracing). The example tests at the end pin each bug the fuzzer found.
"""

import math
import numbers
import struct
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kzoo.applications import Captioner, DocumentClassifier, SpeechToText, Translator
from kzoo.audio import resample

RATE = 8000
MAX_LENGTH = 6  # the models' longest output
CLASS_NAMES = ["bad", "so-so", "good"]


def fuzz(examples):
    """Hypothesis settings of a fuzz test (derandomized by the suite's profile, tests/conftest.py)."""
    return settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# === Tiny models (untrained: the contract does not depend on the weights) ===


@pytest.fixture(scope="module")
def translator():
    keras.utils.set_random_seed(0)
    model = Translator(units=8, embedding_dim=8, max_source_length=12, max_target_length=MAX_LENGTH, seed=0)
    model.adapt(["hola mundo .", "buenos días"], ["hello world .", "good morning"])
    return model


@pytest.fixture(scope="module")
def captioner():
    keras.utils.set_random_seed(0)
    model = Captioner(image_size=(16, 16), units=8, embedding_dim=8, filters=4, blocks=2, max_caption_length=MAX_LENGTH, seed=0)
    model.adapt(["a red circle", "a blue square"])
    return model


@pytest.fixture(scope="module")
def speech():
    keras.utils.set_random_seed(0)
    model = SpeechToText(sample_rate=RATE, num_mel_bins=16, filters=4, encoder_units=8, encoder_layers=1, units=8,
                         embedding_dim=4, spec_augment=False, max_transcript_length=MAX_LENGTH, max_chunk_seconds=1, seed=0)
    model.adapt(["one two", "three"])
    return model


@pytest.fixture(scope="module")
def classifier():
    keras.utils.set_random_seed(0)
    model = DocumentClassifier(num_classes=3, embedding_dim=8, units=4, max_sentences=4, max_words=6, dropout=0.0,
                               class_names=CLASS_NAMES, seed=0)
    model.adapt(["a good film .", "a bad film .", "so so .\nit was long ."], min_count=1)
    return model


# === The property ===

RAISED = object()  # what `outcome` returns when the call raised an accepted error


def outcome(call, names, paths=False):
    """`call()`'s result, or `RAISED` when it raised `TypeError` / `ValueError` (or, with `paths`,
    `FileNotFoundError`) whose message names one of `names`; anything else fails the test."""
    accepted = (TypeError, ValueError, FileNotFoundError) if paths else (TypeError, ValueError)
    try:
        result = call()
    except accepted as error:
        message = str(error)
        assert not isinstance(error, UnicodeError), f"{type(error).__name__}: {message}"
        assert any(f"`{name}" in message for name in names), f"{type(error).__name__} names none of {names}: {message}"
        event(f"raised {type(error).__name__}")  # the mix, with pytest --hypothesis-show-statistics
        return RAISED
    event("returned a result")
    return result


def count(x, single):
    """None when `single(x)` (one input), else the batch size."""
    if isinstance(x, tf.Tensor):
        x = x.numpy()
    return None if single(x) else len(x)


def one_text(x):
    return isinstance(x, (str, bytes))


def one_image(x):
    return isinstance(x, (str, bytes)) or (isinstance(x, np.ndarray) and x.ndim <= 3)


def one_recording(x):
    return (
        isinstance(x, (str, bytes))
        or (isinstance(x, np.ndarray) and x.ndim in (1, 2))
        or (isinstance(x, (list, tuple)) and len(x) > 0 and isinstance(x[0], (numbers.Number, np.number)))
    )


def check_generated(result, expected, return_attention=False):
    """A string for one input, a list of strings of the batch's length (and a record per input)."""
    if return_attention:
        assert isinstance(result, tuple) and len(result) == 2, result
        result, records = result
        assert isinstance(records, dict) if expected is None else (isinstance(records, list) and len(records) == expected)
    if expected is None:
        assert isinstance(result, str), result
    else:
        assert isinstance(result, list) and len(result) == expected and all(isinstance(t, str) for t in result), result


def check_probabilities(probabilities, rows):
    assert isinstance(probabilities, np.ndarray) and probabilities.shape == (rows, len(CLASS_NAMES)), probabilities
    assert np.all((probabilities >= 0) & (probabilities <= 1)), probabilities
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def check_explanation(explanation, model):
    assert set(explanation) == {"label", "class_name", "probabilities", "truncated", "sentences"}, explanation
    assert explanation["class_name"] == CLASS_NAMES[explanation["label"]]
    check_probabilities(np.array([explanation["probabilities"]]), 1)
    assert isinstance(explanation["truncated"], bool)
    assert len(explanation["sentences"]) <= model.max_sentences
    for sentence in explanation["sentences"]:
        assert isinstance(sentence["text"], str) and 0 <= sentence["weight"] <= 1 + 1e-6
        assert len(sentence["words"]) == len(sentence["word_weights"]) <= model.max_words
        assert all(isinstance(w, str) for w in sentence["words"])
        assert all(0 <= w <= 1 + 1e-6 for w in sentence["word_weights"])


# === Strategies ===

ODD_STRINGS = ["", " ", "\t\n\r\x0b", "\x00", "a\x00b", "\x1b[31mred", "😀👍🏽", "\u200b\ufeff\u202e", "\ud800",
               "a\udfffb", "x" * 1000, "so so . " * 150, ".", "/", "..", "\\", "nul.wav", "C:\\x.png"]
surrogates = st.integers(0xD800, 0xDFFF).map(chr)
strings = st.one_of(
    st.text(max_size=30),
    st.text(st.one_of(st.characters(), surrogates), max_size=8),
    st.sampled_from(ODD_STRINGS),
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.complex_numbers(), strings, st.binary(max_size=24),
    st.sampled_from([np.int64(3), np.float32("nan"), np.str_("np"), np.bytes_(b"\xff"), bytearray(b"ab"), Ellipsis]),
)
DTYPES = ["bool", "int8", "uint8", "int16", "uint16", "int32", "int64", "uint64", "float16", "float32", "float64",
          "complex64", "U3", "S3", "M8[s]"]
odd_arrays = st.one_of(
    hnp.arrays(st.sampled_from(DTYPES), hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=4)),
    hnp.arrays(object, hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3), elements=scalars),
)
tensors = st.one_of(
    st.text(max_size=10).map(tf.constant),
    st.binary(max_size=10).map(tf.constant),
    st.lists(st.text(max_size=5), max_size=3).map(lambda texts: tf.constant(texts, tf.string)),
    hnp.arrays(st.sampled_from(["uint8", "float32", "int32", "bool"]), hnp.array_shapes(min_dims=0, max_dims=4, max_side=4)).map(tf.constant),
)


def inputs(leaf):
    """Anything a user might pass where `leaf` is a plausible item."""
    item = st.one_of(leaf, scalars, odd_arrays)
    return st.one_of(
        leaf,
        st.lists(leaf, max_size=4),
        scalars,
        odd_arrays,
        tensors,
        st.lists(item, max_size=4),
        st.lists(leaf, max_size=4).map(tuple),
        st.lists(st.lists(item, max_size=2), max_size=2),
        st.dictionaries(st.text(max_size=3), item, max_size=2),
        st.frozensets(st.integers(), max_size=3),
    )


texts = inputs(st.one_of(strings, st.binary(max_size=30)))

PNG = tf.io.encode_png(np.arange(3 * 5 * 3, dtype=np.uint8).reshape(3, 5, 3)).numpy()
JPEG = tf.io.encode_jpeg(np.full((6, 4, 3), 200, np.uint8)).numpy()
MAGIC = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"GIF87a", b"BM", b"RIFF"]
encoded_images = st.one_of(
    st.sampled_from([PNG, JPEG]),
    st.tuples(st.sampled_from([PNG, JPEG]), st.integers(0, 80)).map(lambda p: p[0][: p[1]]),  # truncated
    st.tuples(st.sampled_from(MAGIC), st.binary(max_size=40)).map(b"".join),
)
image_shapes = st.one_of(
    st.tuples(st.integers(0, 6), st.integers(0, 6)),
    st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)),
)
image_arrays = st.one_of(
    hnp.arrays(st.sampled_from(["uint8", "int64", "uint16", "int8", "bool", "float16", "float32", "float64", "complex64"]), image_shapes),
    hnp.arrays(st.sampled_from(["float32", "float64"]), image_shapes, elements=st.floats(0, 1, width=32)),
)
images = st.one_of(
    inputs(st.one_of(image_arrays, encoded_images, strings)),
    hnp.arrays("uint8", st.tuples(st.integers(0, 3), st.integers(1, 6), st.integers(1, 6), st.sampled_from([1, 2, 3, 4, 5]))),
    hnp.arrays("float32", st.tuples(st.integers(0, 3), st.integers(1, 6), st.integers(1, 6), st.just(3))),  # NaN, inf, negatives
)


def wav_file(tag, channels, rate, bits, data, cut):
    """A RIFF/WAVE file from header fields (possibly absurd), cut to `cut` bytes."""
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * channels * bits // 8 % 2**32, channels * bits // 8 % 2**16, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return (b"RIFF" + struct.pack("<I", len(body)) + body)[:cut]


wav_files = st.builds(
    wav_file,
    tag=st.sampled_from([1, 3, 0xFFFE, 85, 0]),
    channels=st.sampled_from([1, 1, 2, 0, 9, 65535]),
    rate=st.sampled_from([RATE, 16000, 22050, 4000, 0, 1, 768_001, 2**32 - 1]),
    bits=st.sampled_from([16, 8, 24, 32, 64, 12, 0]),
    data=st.binary(max_size=64),
    cut=st.sampled_from([10**6, 10**6, 10**6, 12, 30, 44, 50]),
)
waveforms = st.one_of(
    hnp.arrays("float32", st.integers(0, 64), elements=st.floats(-1, 1, width=32)),
    hnp.arrays(st.sampled_from(["float16", "float32", "float64", "int16", "int32", "int64", "uint8", "int8", "uint16", "bool", "complex64"]),
               st.one_of(st.integers(0, 64), st.tuples(st.integers(0, 10), st.integers(0, 10)))),  # NaN, inf, out of range
    st.lists(st.floats(-1, 1), min_size=1, max_size=32),
)
recordings = inputs(st.one_of(waveforms, wav_files, strings, st.binary(max_size=16)))

documents = inputs(st.one_of(strings, st.binary(max_size=30), st.sampled_from(["a good film .", "a bad film .\nso so ."])))

BAD = [None, -1, 0, 1.5, math.nan, math.inf, -math.inf, "2", b"2", True, False, [2], (1,), np.array([1, 2]), np.int32(2),
       np.float32(0.5), 10**12, 2**31, 2**31 - 1, -0.0, complex(1, 0), {"width": 2}]
# `(beam_width, return_attention)`: valid pairs are the two decoding functions the tests trace
# (a function per pair: greedy without and beam search with the attention records).
decodings = st.one_of(
    st.sampled_from([(1, False), (2, True), (2, np.bool_(True))]),
    st.tuples(st.sampled_from(BAD), st.booleans()),
    st.tuples(st.sampled_from([1, 2]), st.sampled_from([None, 0, 1, "yes", np.array([1, 2]), np.array(True)])),
)
max_lengths = st.one_of(st.none(), st.integers(1, MAX_LENGTH), st.sampled_from(BAD + [MAX_LENGTH + 1]))
length_penalties = st.one_of(st.sampled_from([0, 0.0, -0.0]), st.sampled_from(BAD + [-0.5]))
sample_rates = st.one_of(st.sampled_from([None, RATE, np.int64(RATE), 16000, 22050, 44100, 4000]), st.sampled_from(BAD + [768_001, 10**12]))
batch_sizes = st.one_of(st.sampled_from([1, 2, 32, 10**9]), st.sampled_from(BAD))


# === Random inputs at each API ===


@fuzz(120)
@given(x=texts)
def test_translate_fuzz(translator, x):
    result = outcome(lambda: translator.translate(x), ["texts"])
    if result is not RAISED:
        check_generated(result, count(x, one_text))


@fuzz(100)
@given(x=images)
def test_caption_fuzz(captioner, x):
    result = outcome(lambda: captioner.caption(x), ["images"], paths=True)
    if result is not RAISED:
        check_generated(result, count(x, one_image))


@fuzz(100)
@given(x=recordings)
def test_transcribe_fuzz(speech, x):
    result = outcome(lambda: speech.transcribe(x), ["audio"], paths=True)
    if result is not RAISED:
        check_generated(result, count(x, one_recording))


@fuzz(100)
@given(x=documents)
def test_predict_fuzz(classifier, x):
    probabilities = outcome(lambda: classifier.predict(x), ["documents"])
    if probabilities is not RAISED:
        rows = count(x, one_text)
        check_probabilities(probabilities, 1 if rows is None else rows)
        assert classifier.predict_labels(x) == [CLASS_NAMES[i] for i in probabilities.argmax(axis=1)]


@fuzz(60)
@given(x=documents)
def test_explain_fuzz(classifier, x):
    explanation = outcome(lambda: classifier.explain(x), ["document"])
    if explanation is not RAISED:
        assert one_text(x.numpy() if isinstance(x, tf.Tensor) else x)
        check_explanation(explanation, classifier)


# === Random keyword arguments (with a valid input) ===


@fuzz(60)
@given(one=st.booleans(), decoding=decodings, max_length=max_lengths, length_penalty=length_penalties)
def test_translate_keywords_fuzz(translator, one, decoding, max_length, length_penalty):
    beam_width, return_attention = decoding
    x = "hola mundo" if one else ["hola", "", "buenos días mundo"]
    kwargs = dict(beam_width=beam_width, max_length=max_length, length_penalty=length_penalty, return_attention=return_attention)
    result = outcome(lambda: translator.translate(x, **kwargs), list(kwargs))
    if result is not RAISED:
        check_generated(result, None if one else 3, return_attention)


@fuzz(40)
@given(one=st.booleans(), decoding=decodings, max_length=max_lengths, length_penalty=length_penalties)
def test_caption_keywords_fuzz(captioner, one, decoding, max_length, length_penalty):
    beam_width, return_attention = decoding
    x = np.zeros((5, 7, 3), np.uint8) if one else [np.zeros((5, 7)), np.ones((9, 4, 4))]
    kwargs = dict(beam_width=beam_width, max_length=max_length, length_penalty=length_penalty, return_attention=return_attention)
    result = outcome(lambda: captioner.caption(x, **kwargs), list(kwargs))
    if result is not RAISED:
        check_generated(result, None if one else 2, return_attention)


@fuzz(40)
@given(one=st.booleans(), sample_rate=sample_rates, decoding=decodings, length_penalty=length_penalties)
def test_transcribe_keywords_fuzz(speech, one, sample_rate, decoding, length_penalty):
    beam_width, return_attention = decoding
    tone = 0.5 * np.sin(np.arange(400) / 3.0).astype("float32")
    x = tone if one else [tone, tone[:50]]
    kwargs = dict(sample_rate=sample_rate, beam_width=beam_width, length_penalty=length_penalty, return_attention=return_attention)
    result = outcome(lambda: speech.transcribe(x, **kwargs), list(kwargs))
    if result is not RAISED:
        check_generated(result, None if one else 2, return_attention)


@fuzz(30)
@given(batch_size=batch_sizes)
def test_predict_keywords_fuzz(classifier, batch_size):
    x = ["a good film .", "", "so so .\nit was long ."]
    probabilities = outcome(lambda: classifier.predict(x, batch_size=batch_size), ["batch_size"])
    if probabilities is not RAISED:
        check_probabilities(probabilities, 3)
        assert classifier.predict_labels(x, batch_size=batch_size) == [CLASS_NAMES[i] for i in probabilities.argmax(axis=1)]


# === Regressions: each bug the fuzzer found ===


def test_text_bytes_that_are_not_utf8_are_named(translator):
    # Was UnicodeDecodeError from check_texts.
    with pytest.raises(ValueError, match=r"`texts` must be valid UTF-8 text \(invalid start byte at position 0\). Received: texts=b'\\xff'"):
        translator.translate(b"\xff")
    with pytest.raises(ValueError, match=r"`texts\[1\]` must be valid UTF-8 text .*Received: texts\[1\]="):
        translator.translate(["hola", b"mundo \xed\xa0\x80"])


def test_text_with_a_lone_surrogate_is_named(translator):
    # Was TensorFlow's "Error converting unicode string while converting Python sequence to Tensor".
    with pytest.raises(ValueError, match=r"`texts` must be valid UTF-8 text \(surrogates not allowed at position 1\)"):
        translator.translate("a\ud800")
    with pytest.raises(ValueError, match=r"`texts\[0\]` must be valid UTF-8"):
        translator.translate(np.array(["\udfff"]))


def test_a_0d_string_tensor_is_one_input(translator, captioner, classifier):
    # Was AttributeError ('bytes' object has no attribute 'dtype' / 'ndim').
    assert translator.translate(tf.constant("hola mundo")) == translator.translate("hola mundo")
    assert captioner.caption(tf.constant(PNG)) == captioner.caption(PNG)
    np.testing.assert_array_equal(classifier.predict(tf.constant("a good film .")), classifier.predict("a good film ."))
    assert classifier.explain(tf.constant("a good film ."))["label"] == classifier.explain("a good film .")["label"]


def test_documents_with_lone_surrogates_are_repaired_like_invalid_utf8(classifier):
    # Was UnicodeEncodeError; invalid UTF-8 is documented as repaired, never rejected.
    check_probabilities(classifier.predict(["a good \ud800 film .", "\udfff"]), 2)
    check_explanation(classifier.explain("a good \ud83d film ."), classifier)


@pytest.mark.parametrize("path", ["", ".", "/", "a\x00b.wav", "x" * 5000, "\ud800.wav", "missing.wav"])
def test_a_path_that_is_no_file_is_named(speech, path):
    # Was FileNotFoundError, IsADirectoryError, OSError (name too long), ValueError (embedded null
    # byte) or UnicodeEncodeError, none naming `audio`.
    with pytest.raises(FileNotFoundError, match=r"`audio` is not a file. Received: audio="):
        speech.transcribe(path)
    with pytest.raises(FileNotFoundError, match=r"`audio\[1\]` is not a file"):
        speech.transcribe([np.zeros(80, "float32"), path])


def test_wav_errors_name_the_argument(speech):
    # Read "Cannot read WAV audio: ... Received: source=..." (read_wav's parameter, in no
    # backticks) or, for an empty data chunk, named `audio[0]` / `samples` (the chunked or the
    # resampled array).
    with pytest.raises(ValueError, match=r"`audio\[1\]` is not WAV audio kzoo can read: not a RIFF/WAVE file .*Received: audio\[1\]=<4 bytes>"):
        speech.transcribe([np.zeros(80, "float32"), b"RIFF"])
    for rate in (RATE, 16000):
        with pytest.raises(ValueError, match=r"`audio` is a WAV file without samples. Received: audio with an empty data chunk"):
            speech.transcribe(wav_file(1, 1, rate, 16, b"", 10**6))


def test_absurd_sample_rates_are_refused_before_resampling(speech):
    # A rate of 10**12 Hz built a 2.5-billion-tap resampling filter: the process was killed.
    with pytest.raises(ValueError, match=r"`sample_rate` must be None or an int in \[1, 768000\] \(Hz\). Received: sample_rate=1000000000000"):
        speech.transcribe(np.zeros(80, "float32"), sample_rate=10**12)
    with pytest.raises(ValueError, match=r"`audio` is not WAV audio kzoo can read: sample rate 4294967295 Hz is above the 768000 Hz kzoo supports. Received: audio=<"):
        speech.transcribe(wav_file(1, 1, 2**32 - 1, 16, b"\x00\x01" * 8, 10**6))
    with pytest.raises(ValueError, match=r"`orig_rate` must be at most 768000 samples per second. Received: orig_rate=1000000000000"):
        resample(np.zeros(8, "float32"), 10**12, 16000)


def test_huge_beam_width_and_max_length_are_named(translator, captioner, speech):
    # beam_width=2**31 failed inside the traced beam search (ValueError "in user code", or
    # InvalidArgumentError for CTC); max_length=2**31 was an InvalidArgumentError, 2**31 - 1 ran
    # for a minute and a half and failed with ResourceExhaustedError.
    for generate, x in ((translator.translate, "hola"), (captioner.caption, np.zeros((4, 4), np.uint8))):
        with pytest.raises(ValueError, match=r"`beam_width` must be an int in \[1, 1000\]. Received: beam_width=2147483648"):
            generate(x, beam_width=2**31)
        with pytest.raises(ValueError, match=rf"`max_length` must be None or an int in \[1, {MAX_LENGTH}\] .*Received: max_length=2147483647"):
            generate(x, max_length=2**31 - 1)
    with pytest.raises(ValueError, match=r"`beam_width` must be an int in \[1, 1000\]"):
        speech.transcribe(np.zeros(80, "float32"), beam_width=2**31)


@pytest.mark.parametrize("penalty", [None, [0.6], np.array([1.0, 2.0]), math.nan, math.inf, True])
def test_bad_length_penalty_is_named(translator, penalty):
    # Was TypeError from float() ("float() argument must be ...", "only 0-dimensional arrays ...")
    # naming nothing; NaN, inf and True were accepted.
    with pytest.raises(ValueError, match=r"`length_penalty` must be a finite float >= 0. Received: length_penalty="):
        translator.translate("hola", length_penalty=penalty)


def test_return_attention_must_be_a_bool(translator):
    # An array was "The truth value of an array with more than one element is ambiguous".
    with pytest.raises(ValueError, match=r"`return_attention` must be True or False. Received: return_attention=array"):
        translator.translate("hola", return_attention=np.array([1, 2]))


def test_a_nan_image_is_refused_without_a_warning(captioner):
    # np.nanmin of an all-NaN image warned "All-NaN slice encountered" while building the message.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"`images\[0\]`: float images must hold values in \[0, 1\]. Received: NaN or inf"):
            captioner.caption(np.full((4, 4, 3), np.nan, "float32"))

