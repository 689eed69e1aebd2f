"""SavedModel and TFLite export helpers, loaders whose errors name the file, and atomic writes."""

from kzoo.export.atomic import atomic_path
from kzoo.export.litert import convert, interpreter, load_tflite, register_runner, run, write_metadata
from kzoo.export.loading import load_model
from kzoo.export.savedmodel import EXPORT_FORMATS, check_format, load_saved_model, load_signature, save_signatures

__all__ = [
    "EXPORT_FORMATS",
    "atomic_path",
    "check_format",
    "convert",
    "interpreter",
    "load_model",
    "load_saved_model",
    "load_signature",
    "load_tflite",
    "register_runner",
    "run",
    "save_signatures",
    "write_metadata",
]
