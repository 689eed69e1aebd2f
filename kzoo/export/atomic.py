"""Write exports so that a crash never leaves a half-written file where a good one was.

A file is replaced with one `os.replace`. A folder (a SavedModel) is swapped in one step with
Linux's `renameat2(RENAME_EXCHANGE)`; where that is missing (another OS, a file system without
it) the old folder is moved aside and the new one moved in, two renames apart. A process killed
while writing (SIGKILL, a lost machine) leaves a hidden `.kzoo-tmp-*` folder beside the target,
which is safe to delete, and the target as it was.
"""

import ctypes
import os
import shutil
import sys
import tempfile

__all__ = ["atomic_path"]

_AT_FDCWD = -100  # <fcntl.h>: paths relative to the working directory
_RENAME_EXCHANGE = 2  # <linux/fs.h>: swap the two paths


def _exchange(a, b):
    """Swaps the paths `a` and `b` in one step; False where the OS or file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)  # glibc >= 2.28
    if renameat2 is None:
        return False
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


class atomic_path:
    """Context manager yielding a temporary path beside `path`; renamed onto `path` on success.

    Works for files and directories (a SavedModel folder). The temporary path has the same base
    name as `path` (inside a hidden `.kzoo-tmp-*` folder), so writers that check a suffix
    (`.keras`) accept it. On error the temporary path is removed and whatever was at `path`
    before is left untouched.

    Examples:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "model.txt")
        >>> with atomic_path(path) as tmp:
        ...     _ = open(tmp, "w").write("done")
        >>> os.path.basename(tmp), open(path).read()
        ('model.txt', 'done')
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
                if not os.path.lexists(tmp):
                    raise FileNotFoundError(
                        f"Nothing was written at the temporary path {tmp!r}; {self.path!r} is left as it was."
                    )
                if os.path.isdir(self.path) and not os.path.islink(self.path):
                    if not _exchange(tmp, self.path):  # the old folder ends up at `tmp`, removed below
                        old = self._dir + ".old"
                        os.rename(self.path, old)
                        os.rename(tmp, self.path)
                        shutil.rmtree(old)
                else:
                    os.replace(tmp, self.path)
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)
        return False
