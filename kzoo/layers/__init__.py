"""Attention layers: score functions, soft, hard, local, multi-head, pooling, hierarchical, spatial."""

from kzoo.layers import scores
from kzoo.layers.attention import Attention
from kzoo.layers.attention_pooling import AttentionPooling
from kzoo.layers.frequency_warp import FrequencyWarp
from kzoo.layers.hard_attention import HardAttention
from kzoo.layers.hierarchical_attention import HierarchicalAttention
from kzoo.layers.local_attention import LocalAttention
from kzoo.layers.log_mel_spectrogram import LogMelSpectrogram
from kzoo.layers.multi_head_attention import MultiHeadAttention
from kzoo.layers.spatial_attention import SpatialAttention
from kzoo.layers.spec_augment import SpecAugment
from kzoo.layers.speed_perturbation import SpeedPerturbation
from kzoo.layers.utterance_normalization import UtteranceNormalization

__all__ = [
    "scores",
    "Attention",
    "AttentionPooling",
    "FrequencyWarp",
    "HardAttention",
    "HierarchicalAttention",
    "LocalAttention",
    "LogMelSpectrogram",
    "MultiHeadAttention",
    "SpatialAttention",
    "SpecAugment",
    "SpeedPerturbation",
    "UtteranceNormalization",
]
