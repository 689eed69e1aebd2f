"""SavedModel and TFLite export helpers, and `load_tflite` to run an exported `.tflite`."""

from kzoo.export.atomic import atomic_path
from kzoo.export.litert import convert, interpreter, load_tflite, register_runner, run, write_metadata
from kzoo.export.savedmodel import EXPORT_FORMATS, check_format, load_signature, save_signatures

__all__ = [
    "EXPORT_FORMATS",
    "atomic_path",
    "check_format",
    "convert",
    "interpreter",
    "load_signature",
    "load_tflite",
    "register_runner",
    "run",
    "save_signatures",
    "write_metadata",
]
