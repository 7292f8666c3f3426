"""Write a new folder of hard links (or copies) to existing files, all or nothing."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from cnntui.core.data.errors import DataError


def check_destination(dst: str | Path, source: str | Path) -> Path:
    """``dst`` as a Path, or :class:`DataError` if it is not empty or lies inside ``source``."""
    dst, source = Path(dst).expanduser().resolve(), Path(source).expanduser().resolve()
    if dst == source or source in dst.parents:
        raise DataError(f"{dst} is inside the source {source}; choose a folder outside it")
    if dst.exists() and (not dst.is_dir() or any(dst.iterdir())):
        raise DataError(f"{dst} already exists and is not empty; choose a new folder")
    return dst


def write_linked(
    dst: Path,
    pairs: Iterable[tuple[str | Path, str]],
    *,
    copy: bool = False,
    dirs: Iterable[str] = (),
) -> str:
    """Create ``dst`` holding ``relative path → source file`` links (copies with ``copy``,
    or where the file system refuses a hard link) and the folders ``dirs``; return
    ``"hard links"``, ``"copies"`` or ``"hard links and copies"``. Built in a temporary
    sibling and renamed into place, so an interrupted run leaves no half-written ``dst``.
    Sources are only read."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.", dir=dst.parent))
    used: set[str] = set()
    try:
        for rel in dirs:
            (tmp / rel).mkdir(parents=True, exist_ok=True)
        for src, rel in pairs:
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if not copy:
                try:
                    os.link(src, target)
                    used.add("hard links")
                    continue
                except OSError as exc:
                    if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                        raise
            shutil.copy2(src, target)
            used.add("copies")
        if dst.exists():
            dst.rmdir()  # checked empty by check_destination
        os.replace(tmp, dst)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return " and ".join(sorted(used, reverse=True)) or "nothing"
