"""Writing files so that a crash, a full disk or a second writer never leaves half a file.

Two promises the data download and the run cache share: a folder that cannot take a file is
found out *before* the long work that would fill it, and a file appears under its name only
whole (written under a unique temporary name, then moved into place with ``os.replace``,
which is atomic).
"""
from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from .errors import ForceMLPError

# What to do about an operating-system error that is not about space or permissions.
FIXES = {
    errno.ENAMETOOLONG: "a file or folder name in this path is too long: choose a shorter one",
    errno.ELOOP: "the path runs through a loop of symbolic links: point it at a real folder",
}


def reason(error: OSError) -> str:
    """The operating system's words for an error, e.g. "Permission denied"."""
    return error.strerror or type(error).__name__


def fix_for(error: OSError) -> str:
    """What a user can do about ``error``, for the one line that reports it."""
    return FIXES.get(error.errno, "check free space and permissions, then rerun")


def shown(text: object) -> str:
    """``text`` safe to echo on a terminal: control characters (newlines, escapes, bidi marks)
    are written as Python escapes, so a crafted folder name can neither forge a second line
    nor colour the terminal. Printable text, accented letters included, stays as it is."""
    return "".join(
        char if char.isprintable() else repr(char)[1:-1] for char in str(text)
    )


class NotARegularFile(OSError):
    """A path that is a FIFO, a device, a folder or a symbolic link where a file should be."""


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file (symbolic links refused) of at most ``limit``
    bytes; otherwise :class:`NotARegularFile`. Never blocks on a FIFO, never reads a device
    such as ``/dev/zero`` without end. FileNotFoundError when there is nothing there."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise NotARegularFile(errno.ELOOP, "a symbolic link, not a file", str(path)) from None
        raise
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise NotARegularFile(errno.EINVAL, "not a regular file", str(path))
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise NotARegularFile(errno.EFBIG, f"larger than {limit:,} bytes", str(path))
    return data


def is_abandoned(path: Path, grace_seconds: float) -> bool:
    """Whether a temporary file was left by a writer that is gone: no writer holds its lock
    (see :func:`write_atomically`) and it has not changed for ``grace_seconds``."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return os.path.lexists(path)  # a link or worse where only our files belong
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            return True
        if time.time() - status.st_mtime < grace_seconds:
            return False
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a writer is still at work
        return True
    finally:
        os.close(descriptor)


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
    temporary file is removed and the error raised. The writer holds a lock on its temporary
    file, so a cleaner can tell one a killed writer left (:func:`is_abandoned`) from one in use.
    """
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
