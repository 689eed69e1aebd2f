"""kzoo: a Keras 3 model zoo for attention-based sequence models on TensorFlow."""

import os as _os

_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Importing every subpackage registers every class for `.keras` loading without custom_objects.
from kzoo import applications, audio, data, export, layers, metrics, plot  # noqa: E402

__version__ = "0.1.0"
__all__ = ["applications", "audio", "data", "export", "layers", "metrics", "plot"]
