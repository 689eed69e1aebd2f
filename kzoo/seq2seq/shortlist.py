"""Lexical shortlists: decode over the target words a source sentence can plausibly need.

At inference the output layer of a word-level decoder scores every target word at every step, and
for a vocabulary of thousands of words that projection is most of the step. A shortlist keeps,
for one batch, the union of the most frequent target words and, for every source word of the
batch, the target words that co-occur with it most strongly in the training pairs; the decoder
then scores only those columns of its output layer (Jean et al. 2015, "On Using Very Large Target
Vocabulary for Neural Machine Translation"; Mi, Wang and Ittycheriah 2016, "Vocabulary
Manipulation for Neural Machine Translation"; L'Hostis, Grangier and Auli 2016, "Vocabulary
Selection Strategies for Neural Machine Translation"). Training is unchanged; a word outside the
shortlist cannot be produced, so the two sizes trade speed against agreement with full decoding.

Co-occurrence strength is the Dice coefficient over sentence pairs, `2 c(s, t) / (c(s) + c(t))`
with `c` counting pairs that contain the word(s) (Dice 1945; used for translation lexicons by
Smadja, McKeown and Hatzivassiloglou 1996).

Candidates are ids of the target vocabulary in increasing order and always begin with the four
reserved ids `0, 1, 2, 3` (padding, unknown, start, end), so a sampler's position `i < 4` in the
shortlist is the reserved id `i` itself.
"""

import keras
import numpy as np
import tensorflow as tf

__all__ = ["LexicalShortlist", "lexical_shortlist", "shortlist_candidates"]

_RESERVED = 4  # [PAD], [UNK], [START], [END]
_MERGE_AT = 4_000_000  # pending word-pair counts merged into one table beyond this many (bounded memory)


def _check_size(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be an int >= 1. Received: {name}={value!r}")
    return int(value)


def check_shortlist(shortlist):
    """`shortlist` as a pair of ints `(frequent, per_source)`, or None; a clear error otherwise."""
    if shortlist is None:
        return None
    if (
        not isinstance(shortlist, (list, tuple)) or len(shortlist) != 2
        or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in shortlist)
    ):
        raise ValueError(f"`shortlist` must be None or a pair of ints >= 1 `(frequent, per_source)`. Received: shortlist={shortlist!r}")
    return tuple(int(v) for v in shortlist)


def check_aligned(source_texts, target_texts):
    """A clear error when two lists meant as aligned training pairs differ in length."""
    if isinstance(source_texts, (list, tuple)) and isinstance(target_texts, (list, tuple)) and len(source_texts) != len(target_texts):
        raise ValueError(
            "`source_texts` and `target_texts` must be aligned pairs to learn the decoding shortlist (or pass "
            f"`shortlist=None`). Received: {len(source_texts)} source and {len(target_texts)} target texts"
        )


def lexical_shortlist(pairs, source_size, target_size, frequent=500, per_source=20):
    """Learns a shortlist from aligned training pairs of token ids.

    Args:
        pairs: an iterable of aligned batches `(source_ids (n, S), target_ids (n, T))`, int
            arrays, 0-padded (e.g. the tokenizers' output over the training pairs).
        source_size: size of the source vocabulary.
        target_size: size of the target vocabulary.
        frequent: number of most frequent target words always in the shortlist.
        per_source: candidates kept per source word, ranked by Dice coefficient.

    Returns:
        `(table, frequent_ids)`: int32 `(source_size, per_source)` candidate target ids per source
        id (0 where a word has fewer candidates; reserved source ids have none), and int32
        `(<= frequent + 4,)` the reserved ids then the most frequent target ids.

    Examples:
        >>> src = np.array([[4, 5], [4, 6]])
        >>> tgt = np.array([[7, 8], [7, 9]])
        >>> table, top = lexical_shortlist([(src, tgt)], 7, 10, frequent=1, per_source=2)
        >>> table[5].tolist(), top.tolist()
        ([8, 7], [0, 1, 2, 3, 7])
    """
    frequent, per_source = _check_size(frequent, "frequent"), _check_size(per_source, "per_source")
    keys, counts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    source_counts = np.zeros(source_size, np.int64)
    target_counts = np.zeros(target_size, np.int64)
    for src, tgt in pairs:
        src, tgt = _first_occurrences(src), _first_occurrences(tgt)  # a word counts once per sentence
        if src.ndim != 2 or tgt.ndim != 2 or len(src) != len(tgt):
            raise ValueError(
                "The source and target sides of a shortlist must be aligned sentence pairs (2-D id batches with "
                f"the same number of rows). Received: a batch of shape {src.shape} against {tgt.shape}"
            )
        np.add.at(source_counts, src[src >= _RESERVED], 1)
        np.add.at(target_counts, tgt[tgt >= _RESERVED], 1)
        pair = src[:, :, None] * target_size + tgt[:, None, :]
        valid = (src[:, :, None] >= _RESERVED) & (tgt[:, None, :] >= _RESERVED)
        batch_keys, batch_counts = np.unique(pair[valid], return_counts=True)
        keys.append(batch_keys)
        counts.append(batch_counts)
        if sum(len(k) for k in keys) > _MERGE_AT:
            keys, counts = _merge(keys, counts)
    (keys,), (joint,) = _merge(keys, counts)
    source, target = keys // target_size, keys % target_size
    dice = 2 * joint / np.maximum(source_counts[source] + target_counts[target], 1)
    order = np.lexsort((target, -dice, source))  # per source word, strongest first (ties: lower id)
    source, target = source[order], target[order]
    rank = np.arange(len(source)) - np.searchsorted(source, source)  # position within its source word
    keep = rank < per_source
    table = np.zeros((source_size, per_source), np.int32)
    table[source[keep], rank[keep]] = target[keep]
    ranked = np.argsort(-target_counts[_RESERVED:], kind="stable")[:frequent] + _RESERVED
    frequent_ids = np.concatenate([np.arange(_RESERVED), ranked[target_counts[ranked] > 0]]).astype(np.int32)
    return table, frequent_ids


def _merge(keys, counts):
    """Lists of (pair key, count) arrays -> one array of distinct keys and their summed counts."""
    merged, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    return [merged], [np.bincount(inverse, weights=np.concatenate(counts), minlength=len(merged)).astype(np.int64)]


def _first_occurrences(ids):
    """`ids (N, L)` as int64 with every repeat of a token within its row set to 0."""
    ids = np.array(ids, np.int64)
    if ids.ndim != 2 or not ids.size:
        return ids
    order = np.argsort(ids, axis=1, kind="stable")
    ranked = np.take_along_axis(ids, order, axis=1)
    repeat = np.zeros_like(ranked, bool)
    repeat[:, 1:] = ranked[:, 1:] == ranked[:, :-1]
    rows = np.broadcast_to(np.arange(len(ids))[:, None], ids.shape)
    ids[rows[repeat], order[repeat]] = 0
    return ids


def shortlist_candidates(source_ids, table, frequent_ids, target_size, everything=None):
    """The target ids a batch may produce, in graph (builtin TFLite ops only).

    Every sentence may produce `frequent_ids` and the rows of `table` of its own source words,
    and nothing else, so its translation does not depend on the other sentences of its batch.

    Args:
        source_ids: int `(B, S)` source ids of the batch, 0-padded.
        table: int32 `(source_size, per_source)` from `lexical_shortlist`.
        frequent_ids: int32 `(F,)` from `lexical_shortlist`, reserved ids included.
        target_size: size of the target vocabulary.
        everything: None, or an int32 scalar that allows the whole vocabulary when 1.

    Returns:
        `(candidates, allowed)`: int32 `(K,)`, the union of the sentences' ids in increasing
        order (it begins with `0, 1, 2, 3`), and boolean `(B, K)`, which of them each sentence
        may produce: the output layer scores the K columns, `allowed` masks the rest.

    Examples:
        >>> table = np.array([[0], [0], [0], [0], [9], [8]], np.int32)
        >>> candidates, allowed = shortlist_candidates([[4, 4], [5, 0]], table, np.array([0, 1, 2, 3, 6], np.int32), 10)
        >>> candidates.numpy().tolist()
        [0, 1, 2, 3, 6, 8, 9]
        >>> allowed.numpy().astype(int).tolist()
        [[1, 1, 1, 1, 1, 0, 1], [1, 1, 1, 1, 1, 1, 0]]
    """
    source_ids = tf.cast(source_ids, tf.int32)
    batch = tf.shape(source_ids)[0]
    fixed = tf.concat([tf.range(_RESERVED, dtype=tf.int32), tf.cast(frequent_ids, tf.int32)], axis=0)
    ids = tf.concat([tf.tile(fixed[None, :], [batch, 1]), tf.reshape(tf.gather(table, source_ids), [batch, -1])], axis=1)
    rows = tf.tile(tf.range(batch)[:, None], [1, tf.shape(ids)[1]])
    hits = tf.scatter_nd(tf.stack([tf.reshape(rows, [-1]), tf.reshape(ids, [-1])], axis=1), tf.ones_like(tf.reshape(ids, [-1])),
                         tf.stack([batch, target_size]))  # (B, V) counts
    if everything is not None:
        hits += tf.cast(everything, tf.int32)
    candidates = tf.cast(tf.where(tf.reduce_max(hits, axis=0) > 0)[:, 0], tf.int32)
    return candidates, tf.gather(hits > 0, candidates, axis=1)


@keras.saving.register_keras_serializable(package="kzoo")
class LexicalShortlist(keras.layers.Layer):
    """Holds a learned shortlist; called on source ids it gives `shortlist_candidates`' pair.

    Until `learn` has run it gives the whole target vocabulary, so an unlearned shortlist changes
    nothing but the speed. Its tables are non-trainable weights: saved with the model, in the
    SavedModel and in the TFLite decoding loop.

    Args:
        source_size: size of the source vocabulary.
        target_size: size of the target vocabulary.
        frequent: most frequent target words always kept.
        per_source: candidates per source word.

    Examples:
        >>> layer = LexicalShortlist(7, 10, frequent=1, per_source=1)
        >>> layer.learn([(np.array([[4, 5], [4, 6]]), np.array([[7, 8], [7, 9]]))])
        >>> candidates, allowed = layer(np.array([[5]]))
        >>> candidates.numpy().tolist()
        [0, 1, 2, 3, 7, 8]
    """

    def __init__(self, source_size, target_size, frequent=500, per_source=20, **kwargs):
        super().__init__(**kwargs)
        self.source_size = _check_size(source_size, "source_size")
        self.target_size = _check_size(target_size, "target_size")
        self.frequent = _check_size(frequent, "frequent")
        self.per_source = _check_size(per_source, "per_source")
        self.table = self.add_weight(shape=(self.source_size, self.per_source), dtype="int32", initializer="zeros",
                                     trainable=False, name="table")
        width = min(self.frequent, max(self.target_size - _RESERVED, 0)) + _RESERVED
        self.frequent_ids = self.add_weight(shape=(width,), dtype="int32", initializer="zeros", trainable=False, name="frequent_ids")
        self.everything = self.add_weight(shape=(), dtype="int32", initializer="ones", trainable=False, name="everything")
        self.built = True

    def learn(self, pairs):
        """Learns the tables from aligned id batches (`lexical_shortlist`'s `pairs`)."""
        table, frequent_ids = lexical_shortlist(pairs, self.source_size, self.target_size, self.frequent, self.per_source)
        padded = np.zeros(self.frequent_ids.shape, np.int32)  # 0 is [PAD], always a candidate anyway
        padded[: len(frequent_ids)] = frequent_ids
        self.table.assign(table)
        self.frequent_ids.assign(padded)
        self.everything.assign(0)

    def call(self, source_ids):
        return shortlist_candidates(source_ids, self.table, self.frequent_ids, self.target_size, self.everything)

    def compute_output_spec(self, source_ids):
        return keras.KerasTensor((None,), dtype="int32"), keras.KerasTensor((source_ids.shape[0], None), dtype="bool")

    def get_config(self):
        return {**super().get_config(), "source_size": self.source_size, "target_size": self.target_size,
                "frequent": self.frequent, "per_source": self.per_source}
