"""Attention layers: score functions, soft, hard, local, multi-head, pooling, hierarchical, spatial."""

from kzoo.layers import scores
from kzoo.layers.attention import Attention
from kzoo.layers.attention_pooling import AttentionPooling
from kzoo.layers.hard_attention import HardAttention
from kzoo.layers.hierarchical_attention import HierarchicalAttention
from kzoo.layers.local_attention import LocalAttention
from kzoo.layers.multi_head_attention import MultiHeadAttention
from kzoo.layers.spatial_attention import SpatialAttention

__all__ = [
    "scores",
    "Attention",
    "AttentionPooling",
    "HardAttention",
    "HierarchicalAttention",
    "LocalAttention",
    "MultiHeadAttention",
    "SpatialAttention",
]
