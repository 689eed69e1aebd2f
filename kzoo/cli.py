"""Compatibility name of the `kzoo` command line, which now lives in the `kzoo_cli` package.

`kzoo_cli` parses and dispatches without importing kzoo, so that `kzoo --help` answers at once;
the commands themselves are in `kzoo/commands/<app>.py`. `kzoo.cli.main` and `python -m kzoo.cli`
keep working for code written against this module.
"""

import sys

from kzoo_cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
