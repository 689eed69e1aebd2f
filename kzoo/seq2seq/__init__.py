"""Sequence-to-sequence core: encoders, an attention decoder, samplers and sampling schedules."""

from kzoo.seq2seq import samplers, schedules
from kzoo.seq2seq.bridge import MeanBridge
from kzoo.seq2seq.decoder import ATTENTION_KINDS, AttentionDecoder
from kzoo.seq2seq.encoder import RNNEncoder
from kzoo.seq2seq.losses import MaskedSparseCrossEntropy, MaskedTokenAccuracy, sampled_softmax_loss
from kzoo.seq2seq.samplers import BeamSampler, GreedySampler, RandomSampler, Sampler

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
]
