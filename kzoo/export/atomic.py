"""Write exports so that a crash never leaves a half-written file where a good one was."""

import os
import shutil
import tempfile

__all__ = ["atomic_path"]


class atomic_path:
    """Context manager yielding a temporary path beside `path`; renamed onto `path` on success.

    Works for files and directories (a SavedModel folder). On error the temporary path is
    removed and whatever was at `path` before is left untouched.

    Examples:
        >>> with atomic_path("/tmp/kzoo_example.txt") as tmp:
        ...     _ = open(tmp, "w").write("done")
    """

    def __init__(self, path):
        self.path = os.fspath(path)

    def __enter__(self):
        parent = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(parent, exist_ok=True)
        self._dir = tempfile.mkdtemp(prefix=".kzoo-tmp-", dir=parent)
        return os.path.join(self._dir, os.path.basename(self.path))

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                tmp = os.path.join(self._dir, os.path.basename(self.path))
                if os.path.isdir(self.path) and not os.path.islink(self.path):
                    old = self._dir + ".old"
                    os.rename(self.path, old)
                    os.rename(tmp, self.path)
                    shutil.rmtree(old)
                else:
                    os.replace(tmp, self.path)
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)
        return False
