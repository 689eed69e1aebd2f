"""kzoo: a Keras 3 model zoo for attention-based sequence models on TensorFlow."""

import os as _os

_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kzoo import layers, plot  # noqa: E402
from kzoo import metrics  # noqa: E402

__version__ = "0.1.0"
__all__ = ["layers", "metrics", "plot"]
