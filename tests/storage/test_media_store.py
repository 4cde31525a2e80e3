"""The media store: durable, private, content-addressed; orphans swept after a grace period."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.media import MediaFolder


def test_same_bytes_land_on_one_private_file(tmp_path: Path) -> None:
    store = MediaFolder(tmp_path / "media")
    first = store.put(b"voice-note-bytes", ".ogg")
    again = store.put(b"voice-note-bytes", ".ogg")
    assert first == again
    path = store.path(first.relpath)
    assert path.read_bytes() == b"voice-note-bytes"
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "media").stat().st_mode & 0o777 == 0o700
    assert path.name == f"{first.sha256}.ogg"


def test_sweep_deletes_only_old_files_nothing_refers_to(tmp_path: Path) -> None:
    store = MediaFolder(tmp_path / "media")
    kept = store.put(b"an answer", ".ogg")
    orphan = store.put(b"a replaced take", ".ogg")
    fresh = store.put(b"being committed right now", ".ogg")
    an_hour_ago = time.time() - 3600
    for stored in (kept, orphan):
        os.utime(store.path(stored.relpath), (an_hour_ago, an_hour_ago))
    cutoff = datetime.now(UTC) - timedelta(minutes=30)
    removed = store.sweep({kept.relpath}, older_than=cutoff)
    assert removed == [orphan.relpath]
    assert store.path(kept.relpath).exists() and store.path(fresh.relpath).exists()
    assert not store.path(orphan.relpath).exists()


def test_a_path_outside_the_store_is_refused(tmp_path: Path) -> None:
    store = MediaFolder(tmp_path / "media")
    try:
        store.path("../../etc/passwd")
    except ValueError as err:
        assert "escapes" in str(err)
    else:
        raise AssertionError("path traversal was allowed")
