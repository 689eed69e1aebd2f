"""Documents -> sentences -> words -> ids `(batch_size, S, W)`, with tensorflow-text, as a layer.

The document tokenizer lives inside `kzoo.applications.DocumentClassifier`: the same layer
tokenizes in `fit`'s input pipeline, in `predict()`/`explain()` and inside the exported
SavedModel. Steps, all TensorFlow / tensorflow-text ops:

1. Bytes that are not valid UTF-8 are replaced by U+FFFD (`tf.strings.unicode_transcode`),
   then the text is NFKC-normalised (`tensorflow_text.normalize_utf8`).
2. Sentence splitting: a document that contains a newline is split on newlines (one sentence
   per line, as in the movie-review corpus of Pang & Lee 2004); a document without newlines is
   split after sentence punctuation (`.`, `!`, `?`, `…`) followed by white space. Blank
   sentences are dropped.
3. Words: the word-level `kzoo.text.Tokenizer` (case folding, split on white space and around
   punctuation, word ids from the vocabulary built by `adapt()`, unknown words -> `[UNK]`).
4. Truncation (documented, deterministic): `max_sentences` sentences of a document are kept,
   the first ones (`truncate="head"`, the default) or the last ones (`truncate="tail"`: reviews
   tend to end with the verdict), and the first `max_words` words of each kept sentence; the
   rest is dropped.

Id 0 is padding; a padded word or sentence is all zeros, which is the mask the models use.
"""

import keras
import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

from kzoo.layers.checks import check_positive_int
from kzoo.text.tokenizer import PAD, Tokenizer

__all__ = ["DocumentTokenizer", "check_documents", "make_documents_dataset", "TRUNCATIONS"]

TRUNCATIONS = ("head", "tail")  # keep the first or the last `max_sentences` sentences
_SENTENCE_END = r"([.!?…]+[\"')\]»]*)\s+"  # punctuation, optional closing quote/bracket, space


def check_documents(documents, name="documents"):
    """Returns `(list_of_bytes, was_single_document)`; raises `TypeError` naming `name` otherwise.

    Strings are UTF-8 encoded; bytes are kept as they are (invalid UTF-8 is repaired inside the
    model, never rejected).
    """
    if isinstance(documents, tf.Tensor):
        documents = documents.numpy()  # a 0-d string tensor gives bytes
    if isinstance(documents, (str, bytes)):
        documents, single = [documents], True
    else:
        single = False
        if isinstance(documents, np.ndarray):
            if documents.dtype.kind not in ("U", "S", "O") or documents.ndim != 1:
                raise TypeError(
                    f"`{name}` must be a string or a 1-D sequence of strings. "
                    f"Received: {name} with dtype={documents.dtype} and shape={documents.shape}"
                )
            documents = documents.tolist()
        if not isinstance(documents, (list, tuple)):
            raise TypeError(
                f"`{name}` must be a string or a list of strings. Received: {name} of type "
                f"{type(documents).__name__}"
            )
    out = []
    for i, document in enumerate(documents):
        if isinstance(document, str):
            document = document.encode("utf-8", "surrogatepass")  # a lone surrogate: invalid UTF-8, repaired
        if not isinstance(document, bytes):
            raise TypeError(
                f"`{name}` must contain only strings. Received: {name}[{i}]={document!r} of type "
                f"{type(document).__name__}"
            )
        out.append(document)
    return out, single


@keras.saving.register_keras_serializable(package="kzoo")
class DocumentTokenizer(keras.layers.Layer):
    """Splits documents into sentences and words and maps words to ids (tensorflow-text).

    Args:
        vocabulary: word list starting with `kzoo.text.RESERVED_TOKENS`, or None to build it
            with `adapt()`.
        lowercase: whether text is case-folded.
        max_sentences: sentences kept per document.
        max_words: words kept per sentence (the first ones).
        truncate: which sentences a longer document keeps: "head" (the first `max_sentences`)
            or "tail" (the last `max_sentences`).

    Call arguments:
        documents: string tensor `(batch_size,)`.

    Returns:
        int32 ids `(batch_size, S, W)`, 0-padded, `1 <= S <= max_sentences`,
        `1 <= W <= max_words` (the longest in the batch); with `pad_to_max=True`
        exactly `(batch_size, max_sentences, max_words)`.

    Examples:
        >>> tok = DocumentTokenizer(max_sentences=4, max_words=6)
        >>> tok.adapt(["A good film. A bad plot!"])
        >>> tok(tf.constant(["A good plot. Bad!"])).shape  # 2 sentences, the longer of 4 words
        TensorShape([1, 2, 4])
    """

    def __init__(self, vocabulary=None, lowercase=True, max_sentences=30, max_words=40, truncate="head", **kwargs):
        super().__init__(**kwargs)
        self.lowercase = bool(lowercase)
        self.max_sentences = check_positive_int("max_sentences", max_sentences)
        self.max_words = check_positive_int("max_words", max_words)
        if truncate not in TRUNCATIONS:
            raise ValueError(f"`truncate` must be one of {list(TRUNCATIONS)}. Received: truncate={truncate!r}")
        self.truncate = truncate
        self.words = Tokenizer(vocabulary, "word", self.lowercase, self.max_words, name="words")

    @property
    def vocabulary(self):
        return self.words.vocabulary

    @property
    def vocabulary_size(self):
        return self.words.vocabulary_size

    def adapt(self, documents, max_size=None, min_count=1):
        """Builds the word vocabulary from documents (a list of strings or a dataset of strings).

        Args:
            documents: training documents.
            max_size: largest vocabulary, reserved tokens included; None for no limit.
            min_count: words seen fewer times are left out (they become `[UNK]`).
        """
        if isinstance(documents, tf.data.Dataset):
            batches = documents.batch(512) if documents.element_spec.shape.rank == 0 else documents
        else:
            documents, _ = check_documents(documents)
            batches = [tf.constant(documents[i : i + 512]) for i in range(0, len(documents), 512)]
        clean = []
        for batch in batches:
            clean.extend(t.decode("utf-8") for t in self.normalize(batch).numpy())
        self.words.adapt(clean, max_size, min_count)

    def normalize(self, documents):
        """Valid, NFKC-normalised UTF-8 strings `(batch_size,)`."""
        documents = tf.convert_to_tensor(documents, tf.string)
        documents = tf.strings.unicode_transcode(documents, "UTF-8", "UTF-8", errors="replace")
        return tf_text.normalize_utf8(documents, "NFKC")

    def sentences(self, documents, truncate=True):
        """Sentence strings, a `tf.RaggedTensor` `(batch_size, None)`, truncated to `max_sentences`
        (the first or the last ones, see `truncate`) unless `truncate=False`."""
        documents = self.normalize(documents)
        has_newline = tf.strings.regex_full_match(documents, r"(?s).*\n.*")
        by_punctuation = tf.strings.regex_replace(documents, _SENTENCE_END, "\\1\n")
        documents = tf.where(has_newline, documents, by_punctuation)
        sentences = tf_text.regex_split(documents, r"\n", "")  # (B, None)
        blank = tf.strings.regex_full_match(sentences.flat_values, r"\s*")
        sentences = tf.ragged.boolean_mask(sentences, sentences.with_flat_values(tf.logical_not(blank)))
        if not truncate:
            return sentences
        if self.truncate == "tail":
            return sentences[:, -self.max_sentences :]
        return sentences[:, : self.max_sentences]

    def words_of(self, documents):
        """The words the model sees, strings `(batch_size, None, None)` (ragged), truncated."""
        sentences = self.sentences(documents)
        words = self.words.split(sentences.flat_values)[:, : self.max_words]  # (N, None)
        return sentences.with_flat_values(words)

    def call(self, documents, pad_to_max=False):
        if self.words.vocabulary is None:
            raise ValueError("The document tokenizer has no vocabulary yet: call `adapt(documents)` first.")
        documents = tf.convert_to_tensor(documents, tf.string)
        sentences = self.sentences(documents)  # (B, None) strings
        ids = self.words(sentences.flat_values)  # (N, T) int32, T <= max_words
        ids = sentences.with_flat_values(ids)  # (B, None, T)
        dense = ids.to_tensor(default_value=PAD)  # (B, S, W), the longest in the batch
        shape = tf.shape(dense)
        rows, words = (self.max_sentences, self.max_words) if pad_to_max else (1, 1)
        dense = tf.pad(dense, [[0, 0], [0, tf.maximum(rows - shape[1], 0)], [0, tf.maximum(words - shape[2], 0)]])
        if pad_to_max:
            dense = tf.ensure_shape(dense, [None, self.max_sentences, self.max_words])
        return dense

    def ids_of(self, documents, batch_size=256):
        """Word ids of a whole list of documents, `(len(documents), max_sentences, max_words)`
        int32 NumPy, tokenized `batch_size` documents at a time (bounded memory).

        Examples:
            >>> tok = DocumentTokenizer(["[PAD]", "[UNK]", "[START]", "[END]", "a", "b"], max_sentences=2, max_words=3)
            >>> tok.ids_of(["a b\\nb", "b"], batch_size=1)[:, 0].tolist()
            [[4, 5, 0], [5, 0, 0]]
        """
        blocks = [self(tf.constant(list(documents[i : i + batch_size])), pad_to_max=True).numpy()
                  for i in range(0, len(documents), batch_size)]
        return np.concatenate(blocks) if blocks else np.zeros((0, self.max_sentences, self.max_words), "int32")

    def compute_output_spec(self, documents, pad_to_max=False):
        if pad_to_max:
            return keras.KerasTensor((documents.shape[0], self.max_sentences, self.max_words), dtype="int32")
        return keras.KerasTensor((documents.shape[0], None, None), dtype="int32")

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary=self.words.vocabulary,
            lowercase=self.lowercase,
            max_sentences=self.max_sentences,
            max_words=self.max_words,
            truncate=self.truncate,
        )
        return config


def make_documents_dataset(documents, labels, batch_size=32, shuffle=True, bucket=True, seed=None):
    """A `tf.data.Dataset` of batched `(text, label)` pairs, grouped by document length.

    Grouping documents of similar length into a batch (`bucket_by_sequence_length` on the word
    count, with boundaries at the length quantiles) keeps a short review from being padded to
    the length of a long one.

    Args:
        documents: list of strings (or bytes).
        labels: integer labels, one per document.
        batch_size: documents per batch.
        shuffle: whether to shuffle every epoch (with `seed`).
        bucket: whether to group by length (else plain batches in order).
        seed: shuffle seed.

    Examples:
        >>> ds = make_documents_dataset(["a b .", "c ."], [0, 1], batch_size=2, shuffle=False)
        >>> [tuple(t.shape) for t in next(iter(ds))]
        [(2,), (2,)]
    """
    documents, _ = check_documents(documents, "documents")
    labels = np.asarray(labels, "int32")
    if len(documents) != len(labels):
        raise ValueError(
            "`documents` and `labels` must have the same length. "
            f"Received: len(documents)={len(documents)}, len(labels)={len(labels)}"
        )
    check_positive_int("batch_size", batch_size)
    ds = tf.data.Dataset.from_tensor_slices((tf.constant(documents, tf.string), labels))
    if shuffle:
        ds = ds.shuffle(max(len(documents), 1), seed=seed, reshuffle_each_iteration=True)
    if not bucket or len(documents) < 4 * batch_size:
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    from kzoo.data.pipeline import bucket_batches  # kzoo.data imports kzoo.text: import when used

    # The lengths the bucketing function sees, counted by the same op, so the declared number of
    # batches is exact.
    lengths = tf.strings.split(tf.constant(documents, tf.string)).row_lengths().numpy()
    boundaries = sorted({int(q) + 1 for q in np.quantile(lengths, np.linspace(0, 1, 9)[1:-1])})
    return bucket_batches(
        ds, lambda text, label: tf.cast(tf.size(tf.strings.split(text)), tf.int32), lengths, boundaries, batch_size
    ).prefetch(tf.data.AUTOTUNE)
