"""Decoding a CTC head with a character language model: one place for the Keras model and its
TFLite runner.

`SpeechToText.transcribe` and `kzoo.export.load_tflite(path).transcribe` both take the CTC
posteriors of a recording (from the Keras graph, or from the `.tflite` file's second output)
and run the same prefix beam search fused with the same `kzoo.text.CharacterLanguageModel`
(`kzoo.seq2seq.ctc_prefix_beam_search`; Hannun et al. 2014, shallow fusion), so both give the
same transcript by default. `resolve_fusion` turns the decoding options into settings the same
way for both.
"""

import numpy as np

from kzoo.applications.task import check_beam_width
from kzoo.seq2seq.ctc import check_fusion_weights, ctc_prefix_beam_search
from kzoo.text.character_language_model import CharacterLanguageModel
from kzoo.text.tokenizer import RESERVED_TOKENS

__all__ = ["FUSION_BEAM", "FUSION_WEIGHT", "FUSION_BONUS", "resolve_fusion", "label_scorer", "fused_transcript"]

# Decoding with a language model, when `transcribe` is not told otherwise: beam 8, and α = β = 0.5
# (chosen on one held-out FSDD speaker with an order-4 model, benchmarks/speech_quality.py --fusion).
FUSION_BEAM, FUSION_WEIGHT, FUSION_BONUS = 8, 0.5, 0.5


def resolve_fusion(own, decode_with, language_model, lexicon, beam_width, lm_weight, length_bonus):
    """Resolves `transcribe`'s decoding options -> `(language_model, beam_width, lm_weight,
    length_bonus)`, with `language_model` None for decoding without one.

    Args:
        own: the model's own language model (None where it has none); used when
            `language_model` is None, the CTC head transcribes and no `lexicon` is given.
        decode_with: "ctc" or "attention", the head that transcribes.
        language_model: None (the model's own), False (none) or a `CharacterLanguageModel`.
        lexicon: None, or the closed vocabulary `transcribe` was given (no fusion with it).
        beam_width, lm_weight, length_bonus: as given; with a language model None becomes
            `FUSION_BEAM`, `FUSION_WEIGHT` and `FUSION_BONUS`; without one `beam_width` None
            becomes 1, and weights are an error.
    """
    if language_model is None:
        language_model = own if own is not None and decode_with == "ctc" and lexicon is None else False
    if language_model is False:
        if lm_weight is not None or length_bonus is not None:
            raise ValueError(
                "`lm_weight` and `length_bonus` weigh a language model, and this call decodes without one "
                f"(language_model=False, a lexicon, or a model without its own). Received: lm_weight={lm_weight!r}, "
                f"length_bonus={length_bonus!r}"
            )
        return None, 1 if beam_width is None else beam_width, None, None
    if decode_with != "ctc":
        raise ValueError(
            "`language_model` fusion searches the CTC head's prefixes: it needs decode_with='ctc'. "
            f"Received: decode_with={decode_with!r}"
        )
    if lexicon is not None:
        raise ValueError("Pass either `lexicon` (a closed vocabulary) or `language_model` (open), not both.")
    check_language_model(language_model)
    beam_width = FUSION_BEAM if beam_width is None else beam_width
    check_beam_width(beam_width)
    lm_weight = FUSION_WEIGHT if lm_weight is None else lm_weight
    length_bonus = FUSION_BONUS if length_bonus is None else length_bonus
    check_fusion_weights(lm_weight, length_bonus)
    return language_model, beam_width, lm_weight, length_bonus


def check_language_model(language_model):
    if not isinstance(language_model, CharacterLanguageModel):
        raise ValueError(
            "`language_model` must be None (the model's own), False (none) or a kzoo.text.CharacterLanguageModel. "
            f"Received: language_model={type(language_model).__name__}"
        )


def label_scorer(language_model, vocabulary):
    """A `CharacterLanguageModel` over a character vocabulary's labels: a function of a prefix
    (a tuple of label ids) returning the `(V,)` log-probabilities of each label next, with the
    end of the transcript at the blank (id 0) and -inf for the reserved tokens, as
    `kzoo.seq2seq.ctc_prefix_beam_search` takes it.

    Examples:
        >>> from kzoo.text import CharacterLanguageModel
        >>> lm = CharacterLanguageModel(order=2).fit(["ab", "ab", "b"])
        >>> scores = label_scorer(lm, ["", "[UNK]", "[START]", "[END]", "a", "b"])(())
        >>> np.exp(scores).astype("float64").round(2).tolist()  # the end, 3 reserved tokens, "a", "b"
        [0.14, 0.0, 0.0, 0.0, 0.5, 0.34]
    """
    check_language_model(language_model)
    vocabulary = list(vocabulary)
    characters = [(i, token) for i, token in enumerate(vocabulary) if i >= len(RESERVED_TOKENS)]

    def next_log_probs(prefix):
        text = "".join(vocabulary[i] for i in prefix)
        scores = np.full(len(vocabulary), -np.inf)
        scores[0] = language_model.next_log_prob(None, text)
        for i, token in characters:
            scores[i] = language_model.next_log_prob(token, text)
        return scores

    return next_log_probs


def fused_transcript(posteriogram, scorer, beam_width, lm_weight, length_bonus):
    """The best label ids of one recording's CTC posteriors `(frames, V)` (probabilities, blank
    = 0) by prefix beam search fused with `scorer` (`label_scorer`)."""
    log_posteriors = np.log(np.maximum(np.asarray(posteriogram, np.float64), 1e-30))
    return list(ctc_prefix_beam_search(log_posteriors, beam_width, 0, scorer, lm_weight, length_bonus)[0][0])
