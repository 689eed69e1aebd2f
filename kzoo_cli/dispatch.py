"""`kzoo ARGS`: parse, keep TensorFlow quiet unless `--verbose`, then run the command's target.

The target, `"kzoo.commands.<module>:<function>"`, is imported only here, after parsing: `--help`
and argument errors never import kzoo or TensorFlow.
"""

import contextlib
import importlib
import sys

from kzoo_cli.environment import quiet_stderr, quiet_tensorflow
from kzoo_cli.parser import build_parser

__all__ = ["main", "load_target"]


def load_target(target, quiet=True):
    """The function `"module:function"` names; `quiet` drops TensorFlow's C++ start-up lines that
    importing the module prints."""
    module_name, function_name = target.split(":")
    with quiet_stderr() if quiet else contextlib.nullcontext():
        module = importlib.import_module(module_name)
    return getattr(module, function_name)


def main(argv=None):
    """Runs `kzoo` with `argv` (default `sys.argv[1:]`) and returns the exit status.

    A process that has already imported TensorFlow (a notebook, the tests) keeps its own logging
    settings even without `--verbose`.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # `kzoo train ... --workers N` starts workers running the same command
    quiet = not args.verbose and "tensorflow" not in sys.modules
    if quiet:
        quiet_tensorflow()
    return load_target(args.target, quiet=quiet)(args) or 0
