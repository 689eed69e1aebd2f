"""Text <-> character ids with core TensorFlow ops only, as a Keras layer (targets of a CTC model).

A speech recogniser trained with CTC (Graves et al. 2006) emits one character (or the blank) per
audio frame, so its labels are character ids. The layer tokenizes in the `tf.data` pipeline of
`fit` and detokenizes inside an exported SavedModel; it uses no tensorflow-text op, so a
SavedModel that calls `detokenize` loads with TensorFlow alone. Steps:

1. Unicode NFKC normalisation in graph with two lookup tables built from Python's `unicodedata`:
   each character with a compatibility form is replaced by it ("ﬁ" -> "fi", "Ａ" -> "A", "½" ->
   "1⁄2"), then adjacent (base, combining mark) pairs are composed, `_COMPOSE_PASSES` times
   ("e" + U+0301 -> "é"; Vietnamese "ệ" needs two passes). This equals NFKC for text whose
   combining marks are in canonical order and compose with the character they follow; NFC's
   composition of a base with a mark *across* another, non-composing mark, and conjoining Hangul
   jamo, are left as they are.
2. Lower-casing with `tf.strings.lower(encoding="utf-8")` when `lowercase=True` (full Unicode
   lower-case mapping, "É" -> "é"; unlike case folding, "ß" stays "ß").
3. One token per Unicode code point (`tf.strings.unicode_split`). White space is kept as it is
   written: a space is a character like any other, so detokenization is lossless up to steps 1-2.

Ids 0-3 are reserved as in `kzoo.text.Tokenizer`: `[PAD]` 0, `[UNK]` 1, `[START]` 2, `[END]` 3.
`[PAD]` is also the CTC blank: padding never occurs inside a label and the blank is never a label,
so one id serves both and a CTC model's output layer has exactly `vocabulary_size` classes.

References:
    Graves, Fernández, Gomez, Schmidhuber (2006), "Connectionist Temporal Classification:
    Labelling Unsegmented Sequence Data with Recurrent Neural Networks".
    Unicode Standard Annex #15, "Unicode Normalization Forms".
"""

import functools
import sys
import unicodedata

import keras
import numpy as np
import tensorflow as tf

from kzoo.text.tokenizer import END, RESERVED_TOKENS, UNK, check_max_length, check_reserved, count_tokens, pack_ids

__all__ = ["CharacterTokenizer"]

# Composition passes: one per combining mark on a base letter (Vietnamese stacks two, polytonic
# Greek three: "ᾅ" = "α" + U+0314 + U+0301 + U+0345).
_COMPOSE_PASSES = 3
_UNK_DISPLAY = "?"  # how `detokenize` shows `[UNK]`: one character, like every other token


@functools.lru_cache(maxsize=None)
def _unicode_tables():
    """`({character: its NFKC form}, {base + mark: composed character})` for this Python's Unicode.

    Only characters with a decomposition can change under NFKC (Hangul syllables, whose
    decomposition is algorithmic, are their own NFKC form). A pair goes in the composition table
    when NFC composes it back, which leaves out the composition exclusions.
    """
    compatibility, composition = {}, {}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        decomposition = unicodedata.decomposition(char)
        if not decomposition:
            continue
        nfkc = unicodedata.normalize("NFKC", char)
        if nfkc != char:
            compatibility[char] = nfkc
        parts = decomposition.split()
        if not decomposition.startswith("<") and len(parts) == 2:
            pair = "".join(chr(int(part, 16)) for part in parts)
            if unicodedata.normalize("NFC", pair) == char:
                composition[pair] = char
    return compatibility, composition


def _string_table(mapping):
    """A `StaticHashTable` string -> string; a missing key gives "" (no entry maps to "")."""
    initializer = tf.lookup.KeyValueTensorInitializer(
        tf.constant(list(mapping.keys())), tf.constant(list(mapping.values()))
    )
    return tf.lookup.StaticHashTable(initializer, default_value="")


def _shift_left(values, fill):
    """`values[1:]` followed by `fill`: the next element of each, `(N,)` -> `(N,)`."""
    return tf.concat([values, [fill]], axis=0)[1:]


def _shift_right(values, fill):
    """`fill` followed by `values[:-1]`: the previous element of each, `(N,)` -> `(N,)`."""
    return tf.concat([[fill], values], axis=0)[: tf.size(values)]


@keras.saving.register_keras_serializable(package="kzoo")
class CharacterTokenizer(keras.layers.Layer):
    """Tokenizes strings to padded character ids and detokenizes ids to text (core TF ops only).

    Id 0 (`[PAD]`) is both the padding and the CTC blank, so a CTC output layer over this
    vocabulary has `vocabulary_size` classes with the blank at 0 (see the module docstring).

    Args:
        vocabulary: list whose first four entries are `RESERVED_TOKENS` and whose other entries
            are single characters (one code point each), or None to build it with `adapt()`.
        lowercase: whether to lower-case the (NFKC-normalised) text.
        max_length: longest id sequence returned by `call` (longer input is truncated; with
            `add_end=True` the end token is kept); None keeps everything.

    Call arguments:
        texts: string tensor `(batch_size,)`.
        add_start: whether to put `[START]` first.
        add_end: whether to put `[END]` last.

    Returns:
        int32 ids `(batch_size, T)` padded with 0, `T >= 1`; a character that is not in the
        vocabulary gives `[UNK]` (1).

    Examples:
        >>> tok = CharacterTokenizer()
        >>> tok.adapt(["abc ab"])
        >>> tok.vocabulary[4:]
        ['a', 'b', ' ', 'c']
        >>> ids = tok(tf.constant(["Cab!", "a"]))
        >>> ids.numpy().tolist()
        [[7, 4, 5, 1], [4, 0, 0, 0]]
        >>> tok.detokenize(ids).numpy().tolist()
        [b'cab?', b'a']
        >>> tok.detokenize(tok(tf.constant([" ab  c "]))).numpy().tolist()  # one space between words
        [b'ab c']
    """

    def __init__(self, vocabulary=None, lowercase=True, max_length=None, **kwargs):
        super().__init__(**kwargs)
        self.lowercase = bool(lowercase)
        self.max_length = check_max_length(max_length)
        compatibility, composition = _unicode_tables()
        self._compatibility = _string_table(compatibility)
        self._composition = _string_table(composition)
        self.vocabulary = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    # === Vocabulary ===
    def set_vocabulary(self, vocabulary):
        vocabulary = check_reserved(vocabulary)
        characters = vocabulary[len(RESERVED_TOKENS) :]
        for i, char in enumerate(characters, start=len(RESERVED_TOKENS)):
            if len(char) != 1:
                raise ValueError(
                    f"`vocabulary` entries after the reserved tokens must be single characters. "
                    f"Received: vocabulary[{i}]={char!r}"
                )
        if len(set(characters)) != len(characters):
            raise ValueError("`vocabulary` must not contain duplicates.")
        self.vocabulary = vocabulary
        # Reserved tokens are not keys: "[PAD]" is five characters, never one character of a text.
        self._ids = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(characters, tf.string),
                tf.range(len(RESERVED_TOKENS), len(vocabulary), dtype=tf.int32),
            ),
            default_value=UNK,
        )
        # What each id reads as: reserved tokens show as nothing, except [UNK] as "?".
        self._display = ["", _UNK_DISPLAY, "", ""] + characters
        self._tokens = tf.constant(self._display)

    @property
    def vocabulary_size(self):
        self._require_vocabulary()
        return len(self.vocabulary)

    def _require_vocabulary(self):
        if self.vocabulary is None:
            raise ValueError("The tokenizer has no vocabulary yet: call `adapt(texts)` first.")

    def adapt(self, texts, max_size=None, min_count=1):
        """Builds the vocabulary from texts (a list of strings or a `tf.data.Dataset` of strings).

        Characters are ranked by count, most frequent first, ties by code point.

        Args:
            texts: the training texts.
            max_size: largest vocabulary, reserved tokens included; None for no limit.
            min_count: characters seen fewer times are left out (they become `[UNK]`).
        """
        counts = count_tokens(texts, self.split)
        if not any(not c.isspace() for c in counts):
            raise ValueError(
                "`texts` must contain at least one character other than white space to build a "
                f"vocabulary from. Received: characters={sorted(counts)}"
            )
        ranked = sorted((c for c, n in counts.items() if n >= min_count), key=lambda c: (-counts[c], c))
        if max_size is not None:
            ranked = ranked[: max(0, max_size - len(RESERVED_TOKENS))]
        self.set_vocabulary(list(RESERVED_TOKENS) + ranked)

    # === Tokenization ===
    def normalize(self, texts):
        """NFKC-normalised (and lower-cased when `lowercase`) strings `(batch_size,)`."""
        chars = tf.strings.unicode_split(tf.convert_to_tensor(texts, tf.string), "UTF-8")  # (B, None)
        mapped = self._compatibility.lookup(chars.flat_values)
        chars = chars.with_flat_values(tf.where(mapped == "", chars.flat_values, mapped))
        # A compatibility form may be several characters ("ﬁ" -> "fi"): split again.
        chars = tf.strings.unicode_split(tf.strings.reduce_join(chars, axis=-1), "UTF-8")
        for _ in range(_COMPOSE_PASSES):
            chars = self._compose(chars)
        texts = tf.strings.reduce_join(chars, axis=-1)  # (B,)
        return tf.strings.lower(texts, encoding="utf-8") if self.lowercase else texts

    def _compose(self, chars):
        """One composition pass over characters `(batch_size, None)`: a character absorbs the mark
        after it when the pair has a composed form and it is not itself absorbed."""
        flat = chars.flat_values  # (N,)
        rows = chars.value_rowids()  # (N,)
        composed = self._composition.lookup(tf.strings.join([flat, _shift_left(flat, "")]))
        same_row = tf.equal(rows, _shift_left(rows, tf.constant(-1, rows.dtype)))
        absorbs = tf.logical_and(composed != "", same_row)
        absorbs = tf.logical_and(absorbs, tf.logical_not(_shift_right(absorbs, False)))
        kept = chars.with_flat_values(tf.logical_not(_shift_right(absorbs, False)))
        return tf.ragged.boolean_mask(chars.with_flat_values(tf.where(absorbs, composed, flat)), kept)

    def split(self, texts):
        """Normalised characters, a `tf.RaggedTensor` of strings `(batch_size, None)`."""
        return tf.strings.unicode_split(self.normalize(texts), "UTF-8")

    def call(self, texts, add_start=False, add_end=False):
        self._require_vocabulary()
        texts = tf.convert_to_tensor(texts, tf.string)
        if texts.shape.rank is not None and texts.shape.rank != 1:
            raise ValueError(f"`texts` must be a 1-D string tensor (batch_size,). Received: shape={texts.shape}")
        chars = self.split(texts)
        ids = tf.ragged.map_flat_values(self._ids.lookup, chars)  # (B, None) int32
        return pack_ids(ids, add_start, add_end, self.max_length)

    def detokenize(self, ids):
        """Strings `(batch_size,)` from ids `(batch_size, T)`: the characters joined, up to the first
        `[END]`; `[PAD]` and `[START]` are dropped and `[UNK]` reads "?". Words are separated by
        one space, with none at either end (a decoder may emit a space at the edges or two in a
        row, e.g. over silence)."""
        self._require_vocabulary()
        ids = tf.cast(ids, "int32")
        before_end = tf.equal(tf.cumsum(tf.cast(tf.equal(ids, END), "int32"), axis=1), 0)
        chars = tf.where(before_end, tf.gather(self._tokens, ids), "")  # (B, T)
        texts = tf.strings.regex_replace(tf.strings.reduce_join(chars, axis=-1), "  +", " ")
        return tf.strings.regex_replace(texts, "^ | $", "")

    def decode(self, ids):
        """Plain-Python `detokenize` of one row: ids `(T,)` (list, NumPy array or tensor) -> str."""
        self._require_vocabulary()
        ids = np.asarray(ids)
        if ids.ndim != 1 or ids.dtype.kind not in "iu":
            raise ValueError(
                f"`ids` must be a 1-D sequence of ints. Received: ids with dtype={ids.dtype} and shape={ids.shape}"
            )
        out = []
        for i in ids.tolist():
            if i == END:
                break
            out.append(self._display[i])
        return " ".join(word for word in "".join(out).split(" ") if word)

    def compute_output_spec(self, texts, add_start=False, add_end=False):
        return keras.KerasTensor((texts.shape[0], None), dtype="int32")

    def get_config(self):
        config = super().get_config()
        config.update(vocabulary=self.vocabulary, lowercase=self.lowercase, max_length=self.max_length)
        return config
