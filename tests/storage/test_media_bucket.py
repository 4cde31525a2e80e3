"""The media store as an S3 bucket, against a real S3 protocol server (moto's, on 127.0.0.1):
written once by content hash, encrypted at rest, read through a private local copy, deleted
and swept, and a clear retryable error when the server is down."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.doctor import diagnose, report
from bot.errors import ConfigError
from bot.sandbox.world import free_port
from storage.media import MediaUnavailable, media_store, opened_copy
from storage.media_s3 import Bucket, MediaBucket
from tests.helpers.s3 import KEY, REGION, SECRET, client, keys, new_bucket

VOICE = b"OggS voice-note bytes \x00\x01\x02" * 100


def test_put_stores_one_encrypted_object_named_by_its_hash(s3_endpoint: str) -> None:
    bucket = new_bucket(s3_endpoint)
    store = MediaBucket(bucket)
    stored = store.put(VOICE, ".ogg")
    digest = hashlib.sha256(VOICE).hexdigest()
    assert (stored.sha256, stored.relpath, stored.size) == (
        digest,
        f"{digest[:2]}/{digest}.ogg",
        len(VOICE),
    )
    assert keys(s3_endpoint, bucket.name) == [f"media/{stored.relpath}"]
    s3 = client(s3_endpoint)
    head = s3.head_object(Bucket=bucket.name, Key=f"media/{stored.relpath}")
    assert head["ServerSideEncryption"] == "AES256"  # asked for, recorded by the server
    body = s3.get_object(Bucket=bucket.name, Key=f"media/{stored.relpath}")["Body"].read()
    assert body == VOICE


def test_the_same_bytes_twice_are_uploaded_once(s3_endpoint: str) -> None:
    bucket = new_bucket(s3_endpoint)
    store = MediaBucket(bucket)
    first = store.put(VOICE, ".ogg")
    key = f"media/{first.relpath}"
    s3 = client(s3_endpoint)
    # Mark the object (same length, other bytes): a second upload would overwrite the mark.
    marked = VOICE[::-1]
    s3.put_object(Bucket=bucket.name, Key=key, Body=marked)
    etag = s3.head_object(Bucket=bucket.name, Key=key)["ETag"]
    assert store.put(VOICE, ".ogg") == first
    assert s3.head_object(Bucket=bucket.name, Key=key)["ETag"] == etag
    assert s3.get_object(Bucket=bucket.name, Key=key)["Body"].read() == marked
    assert keys(s3_endpoint, bucket.name) == [key]


def test_encryption_can_be_turned_off_for_a_service_that_refuses_it(s3_endpoint: str) -> None:
    bucket = new_bucket(s3_endpoint, encrypt=False)
    stored = MediaBucket(bucket).put(VOICE, ".ogg")
    head = client(s3_endpoint).head_object(Bucket=bucket.name, Key=f"media/{stored.relpath}")
    assert "ServerSideEncryption" not in head


def test_a_reader_gets_a_private_local_copy_that_is_gone_afterwards(s3_endpoint: str) -> None:
    store = MediaBucket(new_bucket(s3_endpoint))
    stored = store.put(VOICE, ".ogg")
    with opened_copy(store, stored.relpath) as copy:
        assert copy.read_bytes() == VOICE
        assert copy.suffix == ".ogg"
        assert copy.stat().st_mode & 0o777 == 0o600
        assert copy.parent.stat().st_mode & 0o777 == 0o700
    assert not copy.exists() and not copy.parent.exists()


def test_a_copy_that_does_not_match_its_hash_is_refused(s3_endpoint: str) -> None:
    bucket = new_bucket(s3_endpoint)
    store = MediaBucket(bucket)
    stored = store.put(VOICE, ".ogg")
    client(s3_endpoint).put_object(
        Bucket=bucket.name, Key=f"media/{stored.relpath}", Body=b"tampered"
    )
    with (
        pytest.raises(MediaUnavailable, match="does not match its content hash"),
        opened_copy(store, stored.relpath) as copy,
    ):
        raise AssertionError(f"read {copy}")


def test_a_missing_object_and_a_crafted_path(s3_endpoint: str, tmp_path: Path) -> None:
    bucket = new_bucket(s3_endpoint)
    store = MediaBucket(bucket)
    absent = "ab/" + "ab" * 32 + ".ogg"
    with pytest.raises(FileNotFoundError):
        store.readable(absent, tmp_path)
    assert list(tmp_path.iterdir()) == []
    # Another key of the bucket is out of reach, whatever the path says.
    client(s3_endpoint).put_object(Bucket=bucket.name, Key="secret.txt", Body=b"not media")
    for crafted in ("../secret.txt", "ab/../../secret.txt", "/secret.txt", "secret.txt"):
        with pytest.raises(ValueError, match="escapes"):
            store.readable(crafted, tmp_path)
        with pytest.raises(ValueError, match="escapes"):
            store.delete(crafted)
    assert keys(s3_endpoint, bucket.name) == ["secret.txt"]


def test_delete_and_sweep(s3_endpoint: str) -> None:
    bucket = new_bucket(s3_endpoint)
    store = MediaBucket(bucket)
    kept = store.put(b"an answer", ".ogg")
    orphan = store.put(b"a replaced take", ".ogg")
    erased = store.put(b"an erased answer", ".mp4")
    s3 = client(s3_endpoint)
    s3.put_object(Bucket=bucket.name, Key="media/.doctor-probe", Body=b"ok")  # not put's name
    s3.put_object(Bucket=bucket.name, Key="elsewhere/aa.ogg", Body=b"another prefix")

    store.delete(erased.relpath)
    store.delete(erased.relpath)  # already gone: no error
    assert f"media/{erased.relpath}" not in keys(s3_endpoint, bucket.name)

    # Everything was written just now: an hour's grace keeps it all.
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assert store.sweep({kept.relpath}, older_than=an_hour_ago) == []
    # Past the grace (age from LastModified), only the unreferenced file of ours goes.
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert store.sweep({kept.relpath}, older_than=later) == [orphan.relpath]
    assert keys(s3_endpoint, bucket.name) == sorted(
        ["elsewhere/aa.ogg", "media/.doctor-probe", f"media/{kept.relpath}"]
    )


def test_server_down_is_a_clear_retryable_error_without_secrets(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    bucket = Bucket("answers", nowhere, REGION, "media/", True, KEY, "s3cr3t-value")
    store = MediaBucket(bucket)
    relpath = "ab/" + "ab" * 32 + ".ogg"
    attempts = [
        lambda: store.put(VOICE, ".ogg"),
        lambda: store.readable(relpath, tmp_path),
        lambda: store.delete(relpath),
        lambda: store.sweep(set(), datetime.now(UTC)),
        store.check,
    ]
    for attempt in attempts:
        with pytest.raises(MediaUnavailable) as caught:
            attempt()
        message = str(caught.value)
        assert message.startswith("media bucket answers at 127.0.0.1: ")
        assert "EndpointConnectionError" in message, message
        assert "s3cr3t-value" not in message and KEY not in message
    assert list(tmp_path.iterdir()) == []
    assert "s3cr3t-value" not in repr(bucket)


def test_settings_choose_the_bucket_and_refuse_half_a_configuration(tmp_path: Path) -> None:
    plain = Settings(data_dir=tmp_path, _env_file=None)
    assert plain.media_bucket is None
    assert type(media_store(plain.media_dir, plain.media_bucket)).__name__ == "MediaFolder"

    settings = Settings(
        data_dir=tmp_path,
        media_s3_bucket="answers",
        media_s3_endpoint="https://s3.example.com",
        media_s3_prefix="/hirebot/media/",
        media_s3_access_key=SecretStr("AKIAEXAMPLE"),
        media_s3_secret_key=SecretStr("s3cr3t"),
        _env_file=None,
    )
    bucket = settings.media_bucket
    assert bucket == Bucket(
        "answers", "https://s3.example.com", None, "hirebot/media/", True, "AKIAEXAMPLE", "s3cr3t"
    )
    assert isinstance(media_store(settings.media_dir, bucket), MediaBucket)

    half = [
        {"media_s3_endpoint": "https://s3.example.com"},
        {"media_s3_bucket": "answers", "media_s3_access_key": SecretStr("AKIAEXAMPLE")},
        {"media_s3_bucket": "answers", "media_s3_endpoint": "s3.example.com"},
    ]
    for fields in half:
        with pytest.raises(ConfigError, match="HIREBOT_MEDIA_S3_"):
            _ = Settings(data_dir=tmp_path, _env_file=None, **fields).media_bucket  # type: ignore[arg-type]


async def test_doctor_writes_a_probe_to_the_bucket_and_names_the_fix(
    s3_endpoint: str, tmp_path: Path
) -> None:
    bucket = new_bucket(s3_endpoint)
    settings = Settings(
        data_dir=tmp_path,
        media_s3_bucket=bucket.name,
        media_s3_endpoint=s3_endpoint,
        media_s3_region=REGION,
        media_s3_access_key=SecretStr(KEY),
        media_s3_secret_key=SecretStr(SECRET),
        _env_file=None,
    )
    text = report(await diagnose(settings))
    assert (
        f"OK   Media bucket {bucket.name} at 127.0.0.1 is reachable and writable, "
        "encrypted at rest (AES256)." in text
    ), text
    assert keys(s3_endpoint, bucket.name) == []  # the probe is deleted

    missing = settings.model_copy(update={"media_s3_bucket": "no-such-bucket"})
    text = report(await diagnose(missing))
    assert (
        "FIX  media bucket no-such-bucket at 127.0.0.1: writing a probe failed: NoSuchBucket: "
        "check HIREBOT_MEDIA_S3_ENDPOINT" in text
    ), text
    assert SECRET not in text
