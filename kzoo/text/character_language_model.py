"""A character n-gram language model with interpolated Witten-Bell smoothing.

The model gives `p(c | h)`, the probability of the next character `c` (or of the end of the text)
after the `order - 1` characters `h` before it (the start of a text padded with a start marker).
Interpolated Witten-Bell smoothing (Witten and Bell 1991; the interpolated form of Chen and
Goodman 1998, section 2.5) mixes each order with the next lower one:

    p(c | h) = (C(h c) + N(h) · p(c | h')) / (C(h) + N(h))

where `C(h c)` counts `c` after `h` in the training texts, `C(h)` counts `h` followed by anything,
`N(h)` is the number of distinct characters seen after `h` (so a history followed by many
different characters trusts its own counts less) and `h'` is `h` without its first character.
A history never seen gives `p(c | h')`. Below the empty history lies the uniform distribution
over the characters seen in training, the end of the text and one *unknown* class that every
unseen character maps to, so each `p(· | h)` sums to 1 over those outcomes and no character has
probability 0.

Its use here is shallow fusion in CTC decoding (`kzoo.seq2seq.ctc_prefix_beam_search`): a
character-level acoustic model spells words it has heard rarely ("nne" for "nine"); the language
model, fitted on text, makes such spellings improbable without closing the vocabulary.

References:
    Witten, Bell (1991), "The zero-frequency problem: estimating the probabilities of novel events
    in adaptive text compression". Chen, Goodman (1998), "An Empirical Study of Smoothing
    Techniques for Language Modeling", TR-10-98, Harvard.
"""

import json
import math
import os
import tempfile

__all__ = ["CharacterLanguageModel"]

START = "\x02"  # pads the history before a text's first character (never predicted)
END = "\x03"  # the outcome that ends a text
UNKNOWN = "\x00"  # the outcome every character unseen in training maps to


class CharacterLanguageModel:
    """A character n-gram language model (interpolated Witten-Bell smoothing).

    Args:
        order: the n of the n-grams, at least 1 (1: character frequencies only; 4 or 5 spell
            words well).
        lowercase: fold texts to lower case, as `kzoo.text.CharacterTokenizer` does by default.

    Examples:
        >>> lm = CharacterLanguageModel(order=3).fit(["one two", "two one"])
        >>> lm.log_prob("one") > lm.log_prob("nne")
        True
    """

    def __init__(self, order=4, lowercase=True):
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            raise ValueError(f"`order` must be an int >= 1. Received: order={order!r}")
        if not isinstance(lowercase, bool):
            raise ValueError(f"`lowercase` must be a bool. Received: lowercase={lowercase!r}")
        self.order = order
        self.lowercase = lowercase
        self.counts = {}  # history string (0 to order-1 characters) -> {next character: count}
        self.alphabet = set()
        self._cache = {}

    def _text(self, text):
        return text.lower() if self.lowercase else text

    def fit(self, texts):
        """Counts the n-grams of `texts` (a list of strings); returns the model. Fitting again
        adds to the counts."""
        if isinstance(texts, str) or not isinstance(texts, (list, tuple)) or not texts:
            raise ValueError(f"`texts` must be a non-empty list of strings. Received: {type(texts).__name__} {texts!r:.80}")
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise ValueError(f"`texts` must be strings. Received: {type(text).__name__} {text!r:.80} at index {i}")
        for text in texts:
            text = self._text(text)
            self.alphabet.update(text)
            padded = START * (self.order - 1) + text + END
            for i in range(self.order - 1, len(padded)):
                for n in range(self.order):  # histories of n characters
                    following = self.counts.setdefault(padded[i - n : i], {})
                    following[padded[i]] = following.get(padded[i], 0) + 1
        self._cache = {}
        return self

    @property
    def outcomes(self):
        """The characters seen in training, plus the end and the unknown class: what `p(· | h)`
        is a distribution over."""
        return len(self.alphabet) + 2

    def _history(self, text):
        """The `order - 1` characters before the next one, START-padded."""
        return (START * (self.order - 1) + self._text(text))[len(self._text(text)) :] if self.order > 1 else ""

    def _probability(self, outcome, history):
        key = (outcome, history)
        if key not in self._cache:
            lower = self._probability(outcome, history[1:]) if history else 1.0 / self.outcomes
            following = self.counts.get(history)
            if not following:
                value = lower
            else:
                total, distinct = sum(following.values()), len(following)
                value = (following.get(outcome, 0) + distinct * lower) / (total + distinct)
            self._cache[key] = value
        return self._cache[key]

    def _outcome(self, character):
        return character if character in self.alphabet else UNKNOWN

    def next_log_prob(self, character, text=""):
        """`log p(character | text)`: the natural log of the probability that `character` follows
        `text` (only its last `order - 1` characters matter); `character=None` asks for the end
        of the text. A character unseen in training gets the unknown class's probability."""
        self._require_fitted()
        if character is not None and (not isinstance(character, str) or len(character) != 1):
            raise ValueError(f"`character` must be one character or None (the end). Received: character={character!r}")
        outcome = END if character is None else self._outcome(self._text(character))
        return math.log(self._probability(outcome, self._history(text)))

    def log_prob(self, text):
        """The natural log of the probability of the whole `text`, its end included."""
        self._require_fitted()
        text = self._text(text)
        return sum(self.next_log_prob(c, text[:i]) for i, c in enumerate(text)) + self.next_log_prob(None, text)

    def _require_fitted(self):
        if not self.counts:
            raise ValueError("The language model has no counts: call `fit(texts)` first.")

    # === Config ===
    def get_config(self):
        return {"order": self.order, "lowercase": self.lowercase, "alphabet": "".join(sorted(self.alphabet)), "counts": self.counts}

    @classmethod
    def from_config(cls, config):
        model = cls(config["order"], config["lowercase"])
        model.alphabet = set(config["alphabet"])
        model.counts = {history: dict(following) for history, following in config["counts"].items()}
        return model

    def save(self, path):
        """Writes the model as JSON to `path` (through a temporary file renamed into place)."""
        folder = os.path.dirname(os.path.abspath(path))
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as f:
                json.dump(self.get_config(), f)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise

    @classmethod
    def load(cls, path):
        """Reads a model written by `save`."""
        with open(path, encoding="utf-8") as f:
            try:
                config = json.load(f)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path!r} is not a saved CharacterLanguageModel (not JSON: {error}).") from None
        if not isinstance(config, dict) or {"order", "lowercase", "alphabet", "counts"} - set(config):
            raise ValueError(f"{path!r} is not a saved CharacterLanguageModel (expected the keys order, lowercase, alphabet, counts).")
        return cls.from_config(config)
