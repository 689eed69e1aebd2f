"""Attention layers: score functions, soft, hard, local, multi-head, pooling, hierarchical, spatial."""

from kzoo.layers import scores
from kzoo.layers.attention import Attention
from kzoo.layers.hard_attention import HardAttention
from kzoo.layers.local_attention import LocalAttention

__all__ = ["scores", "Attention", "HardAttention", "LocalAttention"]
