"""Writing files so that a crash, a full disk or a second writer never leaves half a file.

Two promises the data download and the run cache share: a folder that cannot take a file is
found out *before* the long work that would fill it, and a file appears under its name only
whole (written under a unique temporary name, then moved into place with ``os.replace``,
which is atomic).
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from .errors import ForceMLPError


def reason(error: OSError) -> str:
    """The operating system's words for an error, e.g. "Permission denied"."""
    return error.strerror or type(error).__name__


def ensure_writable_folder(folder: Path, fix: str) -> Path:
    """Create ``folder`` if needed and prove a file can be written in it, else one clear line.

    ``fix`` finishes the error message: what the user can do instead.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as error:
        raise ForceMLPError(f"cannot write in {folder} ({reason(error)}): {fix}.") from None
    return folder


def write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(file)`` on a fresh temporary file beside ``path``, then move it into place.

    The temporary name is unique to this writer, so two processes writing the same ``path``
    at once each move in a whole file of their own; the last one wins. On any error the
    temporary file is removed and the error raised.
    """
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
