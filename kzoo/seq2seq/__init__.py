"""Sequence-to-sequence core: encoders, an attention decoder, samplers and sampling schedules."""

from kzoo.seq2seq import samplers, schedules
from kzoo.seq2seq.bridge import MeanBridge
from kzoo.seq2seq.ctc import ctc_beam_decode, ctc_greedy_decode, ctc_log_likelihoods, ctc_loss, ctc_prefix_beam_search
from kzoo.seq2seq.ctc_lexicon import ctc_lexicon_decode, word_edit_search
from kzoo.seq2seq.decoder import ATTENTION_KINDS, AttentionDecoder
from kzoo.seq2seq.encoder import RNNEncoder
from kzoo.seq2seq.losses import MaskedSparseCrossEntropy, MaskedTokenAccuracy, sampled_softmax_loss
from kzoo.seq2seq.samplers import BeamSampler, GreedySampler, RandomSampler, Sampler
from kzoo.seq2seq.shortlist import LexicalShortlist, lexical_shortlist, shortlist_candidates

__all__ = [
    "samplers",
    "schedules",
    "ATTENTION_KINDS",
    "AttentionDecoder",
    "MeanBridge",
    "RNNEncoder",
    "MaskedSparseCrossEntropy",
    "MaskedTokenAccuracy",
    "sampled_softmax_loss",
    "Sampler",
    "GreedySampler",
    "RandomSampler",
    "BeamSampler",
    "ctc_loss",
    "ctc_log_likelihoods",
    "ctc_greedy_decode",
    "ctc_prefix_beam_search",
    "ctc_beam_decode",
    "ctc_lexicon_decode",
    "word_edit_search",
    "LexicalShortlist",
    "lexical_shortlist",
    "shortlist_candidates",
]
