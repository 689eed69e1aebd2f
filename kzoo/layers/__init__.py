"""Attention layers: score functions, soft, hard, local, multi-head, pooling, hierarchical, spatial."""

from kzoo.layers import scores
from kzoo.layers.attention import Attention

__all__ = ["scores", "Attention"]
