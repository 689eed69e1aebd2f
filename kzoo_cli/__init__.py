"""The `kzoo` command line, kept apart from `kzoo` so that `kzoo --help` imports no TensorFlow.

`kzoo_cli.parser` defines every command and its arguments; `kzoo_cli.dispatch.main` parses, keeps
TensorFlow quiet unless `--verbose` (`kzoo_cli.environment`) and only then imports the command's
implementation from `kzoo/commands/<app>.py`.
"""

from kzoo_cli.dispatch import load_target, main
from kzoo_cli.environment import quiet_stderr, quiet_tensorflow
from kzoo_cli.parser import build_parser

__all__ = ["build_parser", "load_target", "main", "quiet_stderr", "quiet_tensorflow"]
