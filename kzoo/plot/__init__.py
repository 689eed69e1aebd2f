"""Plots that a person would rather look at than read; every function returns a matplotlib Figure."""
