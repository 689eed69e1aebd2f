"""SavedModel and TFLite export helpers, and `load_tflite` to run an exported `.tflite`."""

from kzoo.export.atomic import atomic_path
from kzoo.export.litert import convert, interpreter, load_tflite, register_runner, run, write_metadata
from kzoo.export.savedmodel import load_signature

__all__ = ["atomic_path", "convert", "interpreter", "load_tflite", "register_runner", "run", "write_metadata", "load_signature"]
