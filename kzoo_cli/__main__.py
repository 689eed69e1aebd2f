"""`python -m kzoo_cli ARGS` is `kzoo ARGS`."""

import sys

from kzoo_cli.dispatch import main

sys.exit(main())
