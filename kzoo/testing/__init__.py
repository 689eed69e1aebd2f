"""Shared test helpers: one call checks everything every layer, metric or application must do."""
