"""The media store: candidates' files on disk, named by content hash, private permissions."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class StoredMedia:
    sha256: str
    relpath: str
    size: int


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes, suffix: str) -> StoredMedia:
        """Write ``data`` durably (temp file, fsync, rename) and return where it lies.

        Storing the same bytes twice is a no-op: a re-delivered answer lands on the same file.
        """
        digest = hashlib.sha256(data).hexdigest()
        relpath = f"{digest[:2]}/{digest}{suffix}"
        final = self.root / relpath
        if final.exists() and final.stat().st_size == len(data):
            return StoredMedia(digest, relpath, len(data))
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StoredMedia(digest, relpath, len(data))

    def path(self, relpath: str) -> Path:
        resolved = (self.root / relpath).resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise ValueError("media path escapes the store")
        return resolved

    def delete(self, relpath: str) -> None:
        self.path(relpath).unlink(missing_ok=True)

    def sweep(self, referenced: set[str], older_than: datetime) -> list[str]:
        """Delete stored files no row refers to and not touched since ``older_than``.

        Catches replaced takes, refused answers and files stored just before a crash. The age
        guard leaves alone a file whose row is still being committed.
        """
        removed: list[str] = []
        if not self.root.exists():
            return removed
        cutoff = older_than.timestamp()
        for path in self.root.glob("*/*"):
            relpath = path.relative_to(self.root).as_posix()
            if path.name.startswith(".incoming-") or relpath in referenced:
                continue
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed.append(relpath)
        return removed
