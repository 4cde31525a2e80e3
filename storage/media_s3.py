"""The media store as an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Backblaze B2).

Every process of a deployment reaches the same bucket: a bot process stores an answer, a
worker on another machine transcribes it, a third process uploads it to Slack. Objects are
named like the folder's files (``<prefix><2 hex>/<sha-256><suffix>``), so a put is idempotent:
the same bytes land on the same key, and a HEAD first skips the upload when it is there.
Server-side encryption (SSE-S3, AES256) is asked for on every write unless turned off for a
service that refuses the header.

boto3 is synchronous: like the folder's, every method blocks and runs in a thread.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from storage.media import RELPATH, MediaUnavailable, StoredMedia, relpath_for

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

# Boto's own retries (standard mode: throttling and 5xx, with backoff) before an error
# reaches the caller, whose retry (the Telegram inbox, the transcription queue, the outbox)
# takes it from there.
ATTEMPTS = 3
CONNECT_SECONDS = 5
READ_SECONDS = 60
DOWNLOAD_CHUNK = 1024 * 1024
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


@dataclass(frozen=True)
class Bucket:
    """Where the bucket is and how to reach it; the secret key is left out of ``repr``."""

    name: str
    endpoint_url: str | None = None  # None: AWS S3 itself
    region: str | None = None
    prefix: str = "media/"
    encrypt: bool = True  # ask for SSE-S3 (AES256) on every write
    access_key: str | None = None  # None: boto's usual chain (AWS_* variables, profile, role)
    secret_key: str | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        """The bucket as logs and `hirebot doctor` may name it: no credentials, no path."""
        host = urlsplit(self.endpoint_url).hostname if self.endpoint_url else "AWS S3"
        return f"{self.name} at {host}"


class MediaBucket:
    def __init__(self, bucket: Bucket) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        session = boto3.session.Session(
            aws_access_key_id=bucket.access_key,
            aws_secret_access_key=bucket.secret_key,
            region_name=bucket.region,
        )
        config = Config(
            connect_timeout=CONNECT_SECONDS,
            read_timeout=READ_SECONDS,
            retries={"mode": "standard", "max_attempts": ATTEMPTS},
            # Checksums only where S3 requires them: services that speak an older S3 (B2,
            # MinIO releases, R2) refuse boto's newer default ones. Content-MD5 is sent instead.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            # A custom endpoint (an IP, a MinIO host) is addressed by path; AWS by host name.
            s3={"addressing_style": "path" if bucket.endpoint_url else "auto"},
        )
        # A client is thread-safe; one serves every thread of the process.
        self._client: S3Client = session.client(
            "s3", endpoint_url=bucket.endpoint_url, config=config
        )

    def _key(self, relpath: str) -> str:
        # Only names ``put`` makes: a crafted relpath cannot reach other keys of the bucket.
        if not RELPATH.fullmatch(relpath):
            raise ValueError("media path escapes the store")
        return f"{self.bucket.prefix}{relpath}"

    def _unavailable(self, err: Exception, doing: str) -> MediaUnavailable:
        """The error as a retryable one: the service's code (or the exception's type), never
        its message (it can quote a signed URL)."""
        return MediaUnavailable(f"media bucket {self.bucket.where}: {doing} failed: {_code(err)}")

    def _encryption(self) -> dict[str, Any]:
        return {"ServerSideEncryption": "AES256"} if self.bucket.encrypt else {}

    def put(self, data: bytes, suffix: str) -> StoredMedia:
        from botocore.exceptions import BotoCoreError, ClientError

        digest, relpath = relpath_for(data, suffix)
        key = self._key(relpath)
        stored = StoredMedia(digest, relpath, len(data))
        try:
            head = self._client.head_object(Bucket=self.bucket.name, Key=key)
            if head["ContentLength"] == len(data):
                return stored  # written before (a re-delivered answer): nothing to send
        except ClientError as err:
            if _code(err) not in _MISSING and _code(err) != "403":
                raise self._unavailable(err, "checking for an object") from None
            # 403: without s3:ListBucket a missing key answers 403; the put will tell.
        except BotoCoreError as err:
            raise self._unavailable(err, "checking for an object") from None
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        try:
            self._client.put_object(
                Bucket=self.bucket.name,
                Key=key,
                Body=data,
                ContentMD5=md5,
                ContentType="application/octet-stream",
                **self._encryption(),
            )
        except (BotoCoreError, ClientError) as err:
            raise self._unavailable(err, "storing an object") from None
        return stored

    def readable(self, relpath: str, scratch: Path) -> Path:
        """Download into a private file in ``scratch``, checked against its content hash."""
        from botocore.exceptions import BotoCoreError, ClientError

        key = self._key(relpath)
        target = scratch / relpath.rpartition("/")[2]
        try:
            response = self._client.get_object(Bucket=self.bucket.name, Key=key)
            digest = hashlib.sha256()
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                for chunk in response["Body"].iter_chunks(DOWNLOAD_CHUNK):
                    handle.write(chunk)
                    digest.update(chunk)
        except ClientError as err:
            target.unlink(missing_ok=True)
            if _code(err) in _MISSING:
                raise FileNotFoundError("no such file in the media store") from None
            raise self._unavailable(err, "reading an object") from None
        except BotoCoreError as err:
            target.unlink(missing_ok=True)
            raise self._unavailable(err, "reading an object") from None
        if digest.hexdigest() != relpath.rpartition("/")[2].partition(".")[0]:
            target.unlink(missing_ok=True)
            raise MediaUnavailable(
                f"media bucket {self.bucket.where}: an object does not match its content hash"
            )
        return target

    def delete(self, relpath: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            # S3 answers 204 whether or not the key was there.
            self._client.delete_object(Bucket=self.bucket.name, Key=self._key(relpath))
        except (BotoCoreError, ClientError) as err:
            raise self._unavailable(err, "deleting an object") from None

    def sweep(self, referenced: set[str], older_than: datetime) -> list[str]:
        """Delete the prefix's objects no row refers to, last written before ``older_than``.

        Keys that ``put`` did not name (another tool's, a doctor probe) are left alone.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        removed: list[str] = []
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket.name, Prefix=self.bucket.prefix
        )
        try:
            for page in pages:
                for entry in page.get("Contents", []):
                    relpath = entry["Key"].removeprefix(self.bucket.prefix)
                    if not RELPATH.fullmatch(relpath) or relpath in referenced:
                        continue
                    if entry["LastModified"] < older_than:
                        self.delete(relpath)
                        removed.append(relpath)
        except (BotoCoreError, ClientError) as err:
            raise self._unavailable(err, "listing objects") from None
        return removed

    def check(self) -> str:
        """Write a probe (encrypted as answers are), read it back, delete it."""
        from botocore.exceptions import BotoCoreError, ClientError

        key = f"{self.bucket.prefix}.doctor-{os.urandom(8).hex()}"
        doing = "writing a probe"
        try:
            self._client.put_object(
                Bucket=self.bucket.name, Key=key, Body=b"ok", **self._encryption()
            )
            doing = "reading the probe back"
            head = self._client.head_object(Bucket=self.bucket.name, Key=key)
            doing = "deleting the probe"
            self._client.delete_object(Bucket=self.bucket.name, Key=key)
        except (BotoCoreError, ClientError) as err:
            raise self._unavailable(err, doing) from None
        at_rest = head.get("ServerSideEncryption")
        encrypted = f"encrypted at rest ({at_rest})" if at_rest else "not encrypted at rest"
        return f"Media bucket {self.bucket.where} is reachable and writable, {encrypted}."


def _code(err: Exception) -> str:
    from botocore.exceptions import ClientError

    if isinstance(err, ClientError):
        return str(err.response.get("Error", {}).get("Code") or "unknown")
    return type(err).__name__
