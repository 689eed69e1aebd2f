"""Text <-> token ids with tensorflow-text, as a Keras layer that lives inside the model.

The same layer tokenizes in the `tf.data` pipeline of `fit`, in `translate()` and inside an
exported SavedModel, so training and serving cannot drift apart. Steps:

1. Unicode NFKC normalisation (`tensorflow_text.normalize_utf8`), or NFKC + case folding
   (`tensorflow_text.case_fold_utf8`) when `lowercase=True`.
2. Infix marks (the Moses tokenizer's `@-@` convention): a hyphen between letters or digits
   ("well-known") and a `.`, `,` or `:` between digits ("3.5", "1,000", "10:30") become tokens of
   their own, `@-@`, `@.@`, `@,@`, `@:@`, so the words around them stay in the vocabulary and
   detokenization joins them back as written ("well-known", not "well - known").
3. Split on white space and around every punctuation or symbol character
   (`tensorflow_text.regex_split`); apostrophes stay inside words ("don't" is one word).
4. Word ids, or wordpiece ids (Wu et al. 2016), with `tensorflow_text.FastWordpieceTokenizer`
   over a vocabulary built by `adapt()`. A word vocabulary has no `##` pieces, so a word that is
   not in it maps to `[UNK]`.

Ids 0-3 are reserved: `[PAD]` (0, the padding and mask value), `[UNK]`, `[START]`, `[END]`.
"""

import collections

import keras
import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

__all__ = ["Tokenizer", "PAD", "UNK", "START", "END", "RESERVED_TOKENS"]

PAD, UNK, START, END = 0, 1, 2, 3
RESERVED_TOKENS = ("[PAD]", "[UNK]", "[START]", "[END]")
_KINDS = ("word", "wordpiece")
_WORD_CHARS = r"\p{L}\p{N}\p{M}'"
_PUNCT = rf"[^{_WORD_CHARS}\s]"
_JOINER = "##"
# Infix mark -> (where it is an infix, the private-use character that stands for it while
# splitting: RE2 has no look-around, and a character of its own comes out as one token).
_INFIX = {
    "-": (r"([\p{L}\p{N}])-([\p{L}\p{N}])", "\ue000"),
    ".": (r"(\p{N})\.(\p{N})", "\ue001"),
    ",": (r"(\p{N}),(\p{N})", "\ue002"),
    ":": (r"(\p{N}):(\p{N})", "\ue003"),
}


def _as_text(text, label):
    """A str TensorFlow can hold from a str or UTF-8 bytes; `ValueError` naming `label` otherwise."""
    try:
        if isinstance(text, bytes):
            return text.decode("utf-8")
        text.encode("utf-8")  # a lone surrogate ("\ud800") has no UTF-8 form
    except UnicodeError as error:
        raise ValueError(
            f"`{label}` must be valid UTF-8 text ({error.reason} at position {error.start}). "
            f"Received: {label}={text[:40]!r}{'...' if len(text) > 40 else ''}"
        ) from None
    return text


def check_texts(texts, name="texts"):
    """Returns `(list_of_str, was_single_string)`; raises `TypeError` naming `name` otherwise
    (`ValueError` for bytes that are not UTF-8 and strings with lone surrogates)."""
    if isinstance(texts, tf.Tensor):
        texts = texts.numpy()  # a 0-d string tensor gives bytes
    if isinstance(texts, (str, bytes)):
        return [_as_text(texts, name)], True
    if isinstance(texts, np.ndarray):
        if texts.dtype.kind not in ("U", "S", "O") or texts.ndim != 1:
            raise TypeError(
                f"`{name}` must be a string or a 1-D sequence of strings. "
                f"Received: {name} with dtype={texts.dtype} and shape={texts.shape}"
            )
        texts = texts.tolist()
    if not isinstance(texts, (list, tuple)):
        raise TypeError(
            f"`{name}` must be a string or a list of strings. Received: {name} of type "
            f"{type(texts).__name__}"
        )
    out = []
    for i, text in enumerate(texts):
        if not isinstance(text, (str, bytes)):
            raise TypeError(
                f"`{name}` must contain only strings. Received: {name}[{i}]={text!r} of type "
                f"{type(text).__name__}"
            )
        out.append(_as_text(text, f"{name}[{i}]"))
    return out, False


def check_max_length(max_length):
    if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
        raise ValueError(f"`max_length` must be a positive int or None. Received: max_length={max_length!r}")
    return max_length


def check_reserved(vocabulary):
    """The vocabulary as a list of str; `ValueError` unless it starts with `RESERVED_TOKENS`."""
    vocabulary = [str(t) for t in vocabulary]
    if tuple(vocabulary[: len(RESERVED_TOKENS)]) != RESERVED_TOKENS:
        raise ValueError(
            f"`vocabulary` must start with {list(RESERVED_TOKENS)}. "
            f"Received: vocabulary[:4]={vocabulary[:4]}"
        )
    return vocabulary


def text_batches(texts, size=1024):
    """String tensors `(n,)` of texts (a list of strings or a Dataset of strings, batched or not)."""
    if isinstance(texts, tf.data.Dataset):
        yield from texts.batch(size) if texts.element_spec.shape.rank == 0 else texts
    else:
        texts, _ = check_texts(texts)
        for i in range(0, len(texts), size):
            yield tf.constant(texts[i : i + size], tf.string)


def count_tokens(texts, split):
    """Counts of the tokens `split` makes of texts (a list of strings or a Dataset of strings)."""
    counts = collections.Counter()
    for batch in text_batches(texts):
        counts.update(t.decode("utf-8") for t in split(batch).flat_values.numpy())
    return counts


def pack_ids(ids, add_start, add_end, max_length):
    """Ragged ids `(batch_size, None)` -> padded int32 `(batch_size, T)`, `T >= 1`, with the
    `[START]`/`[END]` tokens and the `max_length` truncation (the end token is kept)."""
    if max_length is not None:
        ids = ids[:, : max(max_length - int(add_start) - int(add_end), 0)]
    batch = ids.nrows(out_type=tf.int32)
    if add_start:
        ids = tf.concat([tf.fill([batch, 1], START), ids], axis=1)
    if add_end:
        ids = tf.concat([ids, tf.fill([batch, 1], END)], axis=1)
    dense = ids.to_tensor(default_value=PAD)
    return tf.pad(dense, [[0, 0], [0, tf.maximum(1 - tf.shape(dense)[1], 0)]])  # T >= 1


@keras.saving.register_keras_serializable(package="kzoo")
class Tokenizer(keras.layers.Layer):
    """Tokenizes strings to padded ids and detokenizes ids to readable text (tensorflow-text).

    Args:
        vocabulary: list of tokens whose first four entries are `RESERVED_TOKENS`, or None to
            build it later with `adapt()`.
        kind: "word" (whole words) or "wordpiece" (subwords, `##` marks a continuation).
        lowercase: whether to case-fold the text.
        max_length: longest token sequence kept by `call` (longer input is truncated; with
            `add_end=True` the end token is kept); None keeps everything.

    Call arguments:
        texts: string tensor `(batch_size,)`.
        add_start: whether to put `[START]` first.
        add_end: whether to put `[END]` last.

    Returns:
        int32 ids `(batch_size, T)` padded with 0, `T >= 1`.

    Examples:
        >>> tok = Tokenizer()
        >>> tok.adapt(["The cat sleeps.", "the dog sleeps!"])
        >>> ids = tok(tf.constant(["The dog sleeps."]))
        >>> tok.detokenize(ids).numpy().tolist()
        [b'the dog sleeps.']
    """

    def __init__(self, vocabulary=None, kind="word", lowercase=True, max_length=None, **kwargs):
        super().__init__(**kwargs)
        if kind not in _KINDS:
            raise ValueError(f"`kind` must be one of {_KINDS}. Received: kind={kind!r}")
        self.kind = kind
        self.lowercase = bool(lowercase)
        self.max_length = check_max_length(max_length)
        self.vocabulary = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    # === Vocabulary ===
    def set_vocabulary(self, vocabulary):
        vocabulary = check_reserved(vocabulary)
        if len(set(vocabulary)) != len(vocabulary):
            raise ValueError("`vocabulary` must not contain duplicates.")
        self.vocabulary = vocabulary
        self._wordpiece = tf_text.FastWordpieceTokenizer(
            vocab=vocabulary,
            suffix_indicator=_JOINER,
            max_bytes_per_word=200,
            token_out_type=tf.int64,
            unknown_token="[UNK]",
            no_pretokenization=True,
            support_detokenization=False,
        )
        self._tokens = tf.constant(vocabulary)

    @property
    def vocabulary_size(self):
        self._require_vocabulary()
        return len(self.vocabulary)

    def _require_vocabulary(self):
        if self.vocabulary is None:
            raise ValueError("The tokenizer has no vocabulary yet: call `adapt(texts)` first.")

    def adapt(self, texts, max_size=None, min_count=1):
        """Builds the vocabulary from texts (a list of strings or a `tf.data.Dataset` of strings).

        Args:
            texts: the training texts.
            max_size: largest vocabulary, reserved tokens included; None for no limit
                (wordpiece needs a size: default 8000).
            min_count: for word vocabularies, words seen fewer times are left out.
        """
        counts = count_tokens(texts, self.split)
        reserved = list(RESERVED_TOKENS)
        if self.kind == "word":
            ranked = sorted(
                (w for w, c in counts.items() if c >= min_count and w not in reserved),
                key=lambda w: (-counts[w], w),
            )
            if max_size is not None:
                ranked = ranked[: max(0, max_size - len(reserved))]
            self.set_vocabulary(reserved + ranked)
        else:
            from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner

            vocabulary = learner.learn(
                sorted(counts.items()),
                vocab_size=max_size or 8000,
                reserved_tokens=reserved,
                lower_thresh=1,
            )
            self.set_vocabulary(reserved + [t for t in vocabulary if t not in reserved])

    # === Tokenization ===
    def split(self, texts):
        """Normalised words and punctuation, a `tf.RaggedTensor` of strings `(batch_size, None)`."""
        texts = tf.convert_to_tensor(texts, tf.string)
        if self.lowercase:
            texts = tf_text.case_fold_utf8(texts)
        else:
            texts = tf_text.normalize_utf8(texts, "NFKC")
        for pattern, private in _INFIX.values():
            for _ in range(2):  # a match uses up its neighbours ("a-b-c"): a second pass gets the rest
                texts = tf.strings.regex_replace(texts, pattern, rf"\1 {private} \2")
        words = tf_text.regex_split(texts, rf"\s+|{_PUNCT}", _PUNCT)

        def marks(tokens):
            for mark, (_, private) in _INFIX.items():
                tokens = tf.strings.regex_replace(tokens, private, f"@{mark}@")
            return tokens

        return tf.ragged.map_flat_values(marks, words)

    def call(self, texts, add_start=False, add_end=False):
        self._require_vocabulary()
        words = self.split(texts)
        ids = self._wordpiece.tokenize(words).merge_dims(-2, -1)  # (B, None) int64
        return pack_ids(tf.cast(ids, "int32"), add_start, add_end, self.max_length)

    def detokenize(self, ids):
        """Readable strings `(batch_size,)` from ids `(batch_size, T)`; stops at `[END]`.

        Reserved tokens other than `[UNK]` are dropped, wordpieces are joined, infix marks join
        their neighbours ("well @-@ known" -> "well-known"), and punctuation is attached the way
        it is written ("where is it?", "¿dónde?").
        """
        self._require_vocabulary()
        ids = tf.cast(ids, "int32")
        before_end = tf.cumsum(tf.cast(tf.equal(ids, END), "int32"), axis=1) == 0
        keep = tf.logical_and(before_end, tf.logical_or(ids == UNK, ids > END))
        tokens = tf.ragged.boolean_mask(tf.gather(self._tokens, ids), keep)
        text = tf.strings.reduce_join(tokens, axis=-1, separator=" ")
        text = tf.strings.regex_replace(text, " " + _JOINER, "")
        text = tf.strings.regex_replace(text, r" ?@([-.,:])@ ?", r"\1")
        text = tf.strings.regex_replace(text, r" ([.,!?;:%)\]}…»])", r"\1")
        return tf.strings.regex_replace(text, r"([¿¡(\[{«]) ", r"\1")

    def compute_output_spec(self, texts, add_start=False, add_end=False):
        return keras.KerasTensor((texts.shape[0], None), dtype="int32")

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary=self.vocabulary,
            kind=self.kind,
            lowercase=self.lowercase,
            max_length=self.max_length,
        )
        return config
