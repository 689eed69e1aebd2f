"""Keeping TensorFlow's start-up noise out of the terminal, set up before TensorFlow is imported.

TensorFlow 2.21 writes its start-up lines (`oneDNN custom operations are on`, `Could not find cuda
drivers`, each preceded by `WARNING: All log messages before absl::InitializeLog() ...`) from C++
static initializers, once per bundled copy of absl, before it reads `TF_CPP_MIN_LOG_LEVEL`: only
`quiet_stderr` around the import hides them. `TF_CPP_MIN_LOG_LEVEL=3` hides the C++ lines written
afterwards, and the Python loggers at ERROR hide warnings such as the TFLite converter's "Please
consider providing the trackable_obj argument".
"""

import contextlib
import logging
import os
import re
import sys
import tempfile

__all__ = ["quiet_tensorflow", "quiet_stderr"]

# An absl C++ log line below FATAL: `I0000 00:00:1796180906.957549   31115 port.cc:153] ...`
# (severity, MMDD, time, thread, file:line), or absl's notice that precedes the first one.
_CPP_LOG_LINE = re.compile(
    r"[IWE]\d{4} \d\d:\d\d:[\d.]+ +\d+ \S+:\d+\] |WARNING: All log messages before absl::InitializeLog\(\)"
)


def quiet_tensorflow(environ=None):
    """Sets `TF_CPP_MIN_LOG_LEVEL=3` in `environ` (default `os.environ`) and puts the absl and
    `tensorflow` Python loggers at ERROR. Call it before TensorFlow is imported."""
    environ = os.environ if environ is None else environ
    environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # 3: no INFO, WARNING or ERROR lines; FATAL still shows
    from absl import logging as absl_logging  # absl's own logger class: not `logging.getLogger("absl")`

    absl_logging.set_verbosity(absl_logging.ERROR)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


@contextlib.contextmanager
def quiet_stderr():
    """Drops absl's C++ log lines (INFO, WARNING, ERROR) written to file descriptor 2 inside the
    block; everything else written there, Python's own `sys.stderr` included, follows when the
    block ends."""
    sys.stderr.flush()
    try:
        terminal = os.dup(2)
    except OSError:  # no file descriptor 2 (a detached process): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(terminal, 2)
            os.close(terminal)
            captured.seek(0)
            lines = captured.read().decode("utf-8", "replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not _CPP_LOG_LINE.match(line))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()
