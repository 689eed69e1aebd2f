"""Plots that a person would rather look at than read; every function returns a matplotlib Figure."""

from kzoo.plot.attention import attention_map  # noqa: E402
