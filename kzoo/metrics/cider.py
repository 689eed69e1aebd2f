"""CIDEr-D, the consensus-based image captioning metric of the COCO caption evaluation.

A hypothesis and each of its references become tf-idf vectors of their n-grams (n = 1..4). The
weight of an n-gram is its count in the text times `log(N) - log(max(1, df))`, where N is the
number of samples in the corpus and df the number of samples whose references contain it. Per
order n, CIDEr-D sums over a sample's references the clipped cosine similarity
`sum_g min(h_g, r_g) * r_g / (|h| * |r|)` (0 when a vector is zero), times the Gaussian length
penalty `exp(-(len(h) - len(r))**2 / (2 * 6**2))`; the sample's score is 10 times the mean over
the four orders, divided by the number of references, and the corpus score is the mean over
samples. The values equal pycocoevalcap's `Cider().compute_score` (its `cider_scorer.py` is the
reference implementation).

Document frequencies need the whole corpus, so `CIDEr` keeps the tokenized texts it has seen
(Python-side state) and scores them all in `result()`. One consequence, a property of CIDEr: a
corpus of one sample scores 0 (N = 1 gives every n-gram the weight 0).

References:
    Vedantam, Zitnick, Parikh (2015), "CIDEr: Consensus-based Image Description Evaluation".
    Chen et al. (2015), "Microsoft COCO Captions: Data Collection and Evaluation Server"
    (the PTB tokenization and punctuation filter that `tokenize_coco` imitates).
"""

import collections
import math
import re

import keras
import numpy as np
import tensorflow as tf

from kzoo.metrics import _inputs
from kzoo.metrics import sequence

__all__ = ["CIDEr", "cider_d", "tokenize_coco"]


_SIGMA = 6.0  # standard deviation, in words, of CIDEr-D's Gaussian length penalty
_SCALE = 10.0  # CIDEr-D multiplies by 10 so that its values resemble CIDEr's (pycocoevalcap)

# Tokenization of the COCO caption evaluation, imitated: Stanford PTBTokenizer 3.4.1 with
# -lowerCase, then pycocoevalcap drops the tokens '' ' `` ` . ? ! , : ; - -- ... (case-sensitive,
# so the lower-cased bracket tokens -lrb- and the like stay).
_BRACKETS = {"(": "-lrb-", ")": "-rrb-", "[": "-lsb-", "]": "-rsb-", "{": "-lcb-", "}": "-rcb-"}
_BRACKET_TOKENS = frozenset(_BRACKETS.values())
_SEPARATED = re.compile(r"[()\[\]{}$%=]|#(?=\d)")  # PTB makes these tokens of their own
_REMOVED = re.compile(r"[\"“”`?!;…–—]|--+|(?<!\d)[,:]|[,:](?!\d)")  # ',' ':' stay between digits
_ACRONYM = re.compile(r"(?:[^\W\d_]\.){2,}")  # a.m., u.s.a.: PTB keeps their final period
_ABBREVIATIONS = frozenset(("mr", "mrs", "ms", "dr", "st", "jr", "sr", "mt", "ave", "inc", "co", "vs", "etc"))
_CLITICS = ("n't", "'s", "'re", "'ve", "'ll", "'d", "'m")
_CLITIC = re.compile(r"(.+?)(" + "|".join(_CLITICS) + ")")
_SPLIT_WORDS = {"cannot": ("can", "not"), "gonna": ("gon", "na"), "gotta": ("got", "ta"),
                "wanna": ("wan", "na"), "lemme": ("lem", "me"), "gimme": ("gim", "me")}


def _strip_word(word):
    """Drops sentence periods, closing quotes and dangling hyphens at the end, opening quotes."""
    if word in _BRACKET_TOKENS:
        return word
    while word and word[-1] in ".'-" and not (
        word[-1] == "." and (word[:-1] in _ABBREVIATIONS or _ACRONYM.fullmatch(word))
    ):
        word = word[:-1]
    if word.startswith("'") and word not in _CLITICS and not word[1:2].isdigit():  # '80s stays
        word = word.lstrip("'")
    return word


def tokenize_coco(text):
    """Tokenizes a caption the way the COCO caption evaluation does, returning a token list.

    The rules, which give the output of pycocoevalcap's `PTBTokenizer` (Stanford PTBTokenizer,
    lower-cased, punctuation tokens removed) on ordinary captions:

    1. Lower-case; curly apostrophes become `'`.
    2. `( ) [ ] { }` become the tokens `-lrb- -rrb- -lsb- -rsb- -lcb- -rcb-` (pycocoevalcap's
       filter misses them once lower-cased); `$ % =`, and `#` before a digit, become tokens.
    3. `" “ ” ` ? ! ; … – —` and runs of `--` are removed; so are `,` and `:` except between two
       digits (`1,000`, `10:30`).
    4. Split on white space. Each word but the bracket tokens loses its final periods,
       apostrophes and hyphens, except the period of acronyms (`a.m.`, `u.s.a.`) and of `mr.
       mrs. ms. dr. st. jr. sr. mt. ave. inc. co. vs. etc.`; and its leading apostrophes
       unless it is a clitic or `'` + digit (`'80s`).
    5. The clitics `n't 's 're 've 'll 'd 'm` are split off (`don't` -> `do n't`, `cat's` ->
       `cat 's`), and `cannot gonna gotta wanna lemme gimme` are split in two (`can not`).

    Known differences from PTB: `?!` and `!!` are removed (PTB keeps them as tokens that the
    filter misses), rarer contractions (`'tis`, `y'all`, `rock'n'roll`) stay whole, other
    abbreviations lose their period, and a comma between a letter and a digit is removed (PTB:
    `a,3` -> `a ,3`). Text in pycocoevalcap's tokenized form passes through unchanged.

    Args:
        text: a caption.

    Returns:
        A list of strings.

    Examples:
        >>> tokenize_coco("Two dogs aren't playing; they're sleeping (on a mat) at 10:30 a.m.!")
        ['two', 'dogs', 'are', "n't", 'playing', 'they', "'re", 'sleeping', '-lrb-', 'on', 'a', 'mat', '-rrb-', 'at', '10:30', 'a.m.']
    """
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = _REMOVED.sub(" ", _SEPARATED.sub(r" \g<0> ", text))
    tokens = []
    for word in text.split():
        word = _BRACKETS.get(word) or _strip_word(word)
        clitic = _CLITIC.fullmatch(word)
        if word in _SPLIT_WORDS:
            tokens.extend(_SPLIT_WORDS[word])
        elif clitic:
            tokens.extend(clitic.groups())
        elif word:
            tokens.append(word)
    return tokens


_TOKENIZERS = {"coco": tokenize_coco, "none": str.split}


def _text(x, name):
    if isinstance(x, bytes):
        return x.decode("utf-8")
    if not isinstance(x, str):
        raise ValueError(f"Expected a text (str). Received: {name}={x!r:.80} of type {type(x).__name__}")
    return x


def _check_hypotheses(hypotheses, name):
    """The hypotheses as a list of str, one per sample; a ValueError naming `name` otherwise."""
    if not isinstance(hypotheses, (list, tuple)):
        raise ValueError(f"`{name}` must be a list of texts, one per sample. Received: {name}={hypotheses!r:.80}")
    return [_text(h, f"{name}[{i}]") for i, h in enumerate(hypotheses)]


def _check_references(references, name):
    """The references as one non-empty list of str per sample (a lone text counts as a list)."""
    if not isinstance(references, (list, tuple)):
        raise ValueError(
            f"`{name}` must be a list with one list of reference texts per sample. Received: {name}={references!r:.80}"
        )
    checked = []
    for i, texts in enumerate(references):
        texts = [texts] if isinstance(texts, (str, bytes)) else texts
        if not isinstance(texts, (list, tuple)) or len(texts) == 0:
            raise ValueError(
                f"Each sample needs a non-empty list of reference texts. Received: {name}[{i}]={texts!r:.80}"
            )
        checked.append([_text(t, f"{name}[{i}][{j}]") for j, t in enumerate(texts)])
    return checked


def _tfidf(counts, document_frequency, log_num_samples):
    """Per order: the n-gram weights and their norm; and the length in words."""
    weights = [{} for _ in range(sequence.MAX_ORDER)]
    for gram, count in counts.items():
        idf = log_num_samples - math.log(max(1.0, document_frequency[gram]))  # unseen n-grams: df 1
        weights[len(gram) - 1][gram] = count * idf
    norms = [math.sqrt(sum(w * w for w in order.values())) for order in weights]
    length = sum(count for gram, count in counts.items() if len(gram) == 1)
    return weights, norms, length


def _similarity(hypothesis, reference):
    """Mean over the orders of the clipped cosine similarity, times the length penalty.

    pycocoevalcap measures lengths in bigrams (words - 1 when non-empty); the difference is the
    same unless a text is empty, and then its vector is zero and the similarity 0 either way.
    """
    (hyp_weights, hyp_norms, hyp_length), (ref_weights, ref_norms, ref_length) = hypothesis, reference
    total = 0.0
    for n in range(sequence.MAX_ORDER):
        if hyp_norms[n] == 0 or ref_norms[n] == 0:  # a zero vector: the clipped dot product is 0 too
            continue
        ref = ref_weights[n]
        dot = sum(min(w, ref.get(gram, 0.0)) * ref.get(gram, 0.0) for gram, w in hyp_weights[n].items())
        total += dot / (hyp_norms[n] * ref_norms[n])
    penalty = math.exp(-((hyp_length - ref_length) ** 2) / (2 * _SIGMA**2))
    return penalty * total / sequence.MAX_ORDER


def cider_d(hypotheses, references, tokenize="coco"):
    """Corpus and per-sample CIDEr-D, equal to pycocoevalcap's `Cider().compute_score`.

    Document frequencies come from the references of this corpus and `N = len(hypotheses)`, so a
    sample's score depends on the whole corpus: score a test set in one call.

    Args:
        hypotheses: one text per sample.
        references: one non-empty list of reference texts per sample (a lone text is one
            reference).
        tokenize: "coco" (default, `tokenize_coco`: lower-cased, PTB-style, punctuation
            removed) or "none" (split on white space, as pycocoevalcap does with texts that
            its `PTBTokenizer` already tokenized).

    Returns:
        `(corpus_score, per_sample_scores)`: a float (the mean, 0.0 for an empty corpus) and a
        float64 array of shape `(num_samples,)`, on CIDEr-D's scale (0 to about 10).

    Examples:
        >>> score, scores = cider_d(["a cat sits on the mat", "a dog runs"],
        ...                         [["a cat sits on a mat", "a cat on a mat"], ["a dog runs in a park"]])
        >>> round(score, 4), scores.round(4).tolist()
        (4.0994, [4.1402, 4.0585])
    """
    _inputs.check_choice("tokenize", tokenize, tuple(_TOKENIZERS))
    hypotheses = _check_hypotheses(hypotheses, "hypotheses")
    references = _check_references(references, "references")
    if len(references) != len(hypotheses):
        raise ValueError(
            "references and hypotheses must have one entry per sample. "
            f"Received: {len(references)} references and {len(hypotheses)} hypotheses"
        )
    if not hypotheses:
        return 0.0, np.zeros(0, "float64")
    split = _TOKENIZERS[tokenize]
    hyp_counts = [sequence.ngram_counts(split(h)) for h in hypotheses]
    ref_counts = [[sequence.ngram_counts(split(r)) for r in refs] for refs in references]
    document_frequency = collections.Counter()
    for counts in ref_counts:
        document_frequency.update(set().union(*counts))  # a sample counts once per n-gram
    log_num_samples = math.log(len(references))
    scores = np.zeros(len(hypotheses), "float64")
    for i, (hyp, refs) in enumerate(zip(hyp_counts, ref_counts)):
        hyp_vector = _tfidf(hyp, document_frequency, log_num_samples)
        similarity = sum(_similarity(hyp_vector, _tfidf(r, document_frequency, log_num_samples)) for r in refs)
        scores[i] = _SCALE * similarity / len(refs)
    return float(scores.mean()), scores


@keras.saving.register_keras_serializable(package="kzoo")
class CIDEr(sequence.SequenceMetric):
    """Corpus CIDEr-D (Vedantam et al. 2015), equal to pycocoevalcap's `Cider` on the texts seen.

    The tokenized hypotheses and references of every `update_state` are kept (Python-side
    state, since document frequencies need the whole corpus) and `result()` scores them with
    `cider_d`; the `statistics` variable counts the samples. In a graph (`model.evaluate`) both
    run through `tf.numpy_function`, and `result()` rescores the whole corpus at each call.

    Args:
        tokenize: "coco" (default, `tokenize_coco`) or "none" (split on white space).
        pad_id: for token-id inputs (each id is a word; tokenization leaves them as
            they are).
        end_id: for token-id inputs (each id is a word; tokenization leaves them as
            they are).
        name: as for `keras.metrics.Metric`.
        dtype: as for `keras.metrics.Metric`.

    Returns:
        A float64 scalar >= 0 (pycocoevalcap's scale: about 0 to 10); 0.0 before any update.

    Examples:
        >>> m = CIDEr()
        >>> m.update_state([["A cat sits on a mat.", "A cat on a mat."]], ["A cat sits on the mat."])
        >>> m.update_state([["A dog runs in a park."]], ["A dog runs!"])
        >>> round(float(m.result()), 4)
        4.0994
    """

    _num_statistics = 1

    def __init__(self, tokenize="coco", name="cider", **kwargs):
        _inputs.check_choice("tokenize", tokenize, tuple(_TOKENIZERS))
        super().__init__(name=name, **kwargs)
        self.tokenize = tokenize
        self._hypotheses = []  # per sample: its tokens joined by single spaces
        self._references = []  # per sample: a list of such texts

    def _texts(self, x, nested):
        """Python lists are checked as texts; arrays and tensors go through the base (strings,
        token ids or logits)."""
        if not isinstance(x, (list, tuple, str, bytes)):
            x = super()._texts(x, nested)
        return _check_references(x, "y_true") if nested else _check_hypotheses(x, "y_pred")

    def _statistics(self, references, hypotheses):
        split = _TOKENIZERS[self.tokenize]
        self._hypotheses.extend(" ".join(split(h)) for h in hypotheses)
        self._references.extend([" ".join(split(r)) for r in refs] for refs in references)
        return [len(hypotheses)]

    def _corpus_score(self):
        return np.asarray(cider_d(self._hypotheses, self._references, tokenize="none")[0], "float64")

    def result(self):
        """Corpus CIDEr-D of every sample seen."""
        return tf.reshape(tf.numpy_function(self._corpus_score, [], tf.float64), ())

    def reset_state(self):
        super().reset_state()
        self._hypotheses.clear()
        self._references.clear()

    def get_config(self):
        return {**super().get_config(), "tokenize": self.tokenize}
