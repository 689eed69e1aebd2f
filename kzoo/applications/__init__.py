"""Ready applications: each is trainable with `fit`, decodes, and exports."""

__all__ = []
