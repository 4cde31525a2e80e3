"""The media store: candidates' files, named by content hash, written once, kept private.

Two kinds behind one interface (:class:`MediaStore`): a folder on this machine
(:class:`MediaFolder`, the default) and an S3-compatible bucket (``storage.media_s3``) that
every process of a deployment can reach. The process that received an answer writes it; any
process that needs it (transcription, the Slack upload) reads it through a local file
(:func:`local_copy`); erasure and the orphan sweep delete it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from storage.media_s3 import Bucket


@dataclass(frozen=True)
class StoredMedia:
    sha256: str
    relpath: str
    size: int


class MediaUnavailable(Exception):
    """The store cannot be reached or refuses now (object storage down, throttled,
    misconfigured): nothing was lost, try again later. The message names the store and the
    service's error code, never credentials or file contents."""


# What ``put`` names a file: two hex digits of its hash, the hash, the suffix.
RELPATH = re.compile(r"[0-9a-f]{2}/[0-9a-f]{64}(\.[A-Za-z0-9]{1,8})?")


def relpath_for(data: bytes, suffix: str) -> tuple[str, str]:
    digest = hashlib.sha256(data).hexdigest()
    return digest, f"{digest[:2]}/{digest}{suffix}"


class MediaStore(Protocol):
    """Where answers' recordings are kept. Every method blocks: call it off the event loop
    (``run_media``, ``asyncio.to_thread``) or through :func:`local_copy`."""

    def put(self, data: bytes, suffix: str) -> StoredMedia:
        """Store ``data`` durably; the same bytes twice land on the same name (a no-op)."""
        ...

    def readable(self, relpath: str, scratch: Path) -> Path:
        """A file on this machine holding ``relpath``'s bytes: the store's own file, or a
        private copy made in ``scratch`` (a folder the caller deletes). FileNotFoundError
        when the store has no such file."""
        ...

    def delete(self, relpath: str) -> None:
        """Delete ``relpath``; nothing happens when it is already gone."""
        ...

    def sweep(self, referenced: set[str], older_than: datetime) -> list[str]:
        """Delete stored files no row refers to and not written since ``older_than``."""
        ...

    def check(self) -> str:
        """Write, read back and delete a probe; what was checked, or MediaUnavailable/OSError."""
        ...


@contextmanager
def opened_copy(store: MediaStore, relpath: str) -> Iterator[Path]:
    """``relpath`` as a local file for the length of the ``with``; a copy made for it is
    deleted afterwards. Blocking (the CLI, the benches, a worker thread)."""
    scratch = Path(tempfile.mkdtemp(prefix="hirebot-media-"))  # 0700: this user's only
    try:
        yield store.readable(relpath, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@asynccontextmanager
async def local_copy(store: MediaStore, relpath: str) -> AsyncIterator[Path]:
    """:func:`opened_copy` for the event loop: the download and the clean-up run in a thread."""
    scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="hirebot-media-"))
    try:
        yield await asyncio.to_thread(store.readable, relpath, scratch)
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)


def media_store(folder: Path, bucket: Bucket | None) -> MediaStore:
    """The configured store: the bucket when one is set, else the folder."""
    if bucket is None:
        return MediaFolder(folder)
    from storage.media_s3 import MediaBucket

    try:
        return MediaBucket(bucket)
    except ModuleNotFoundError as err:  # boto3 comes with the ``s3`` extra
        raise ModuleNotFoundError(
            "HIREBOT_MEDIA_S3_BUCKET is set but boto3 is not installed: "
            "pip install 'hirebot[s3]' (make install does)."
        ) from err


class MediaFolder:
    """The store as a folder on this machine: fsync'd, 0600 files in 0700 folders."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes, suffix: str) -> StoredMedia:
        """Write ``data`` durably (temp file, fsync, rename) and return where it lies.

        Storing the same bytes twice is a no-op: a re-delivered answer lands on the same file.
        """
        digest, relpath = relpath_for(data, suffix)
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

    def readable(self, relpath: str, scratch: Path) -> Path:
        # The file is already here and private: no copy.
        path = self.path(relpath)
        if not path.is_file():
            raise FileNotFoundError("no such file in the media store")
        return path

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

    def check(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        probe = self.root / f".doctor-{os.urandom(8).hex()}"
        try:
            probe.write_bytes(b"ok")
        finally:
            probe.unlink(missing_ok=True)
        return f"Media folder {self.root.resolve()} is writable."
