"""S3 for the tests: the sandbox's S3 server and buckets (bot/sandbox/s3_server.py), and a
look into a bucket."""

from __future__ import annotations

from bot.sandbox.s3_server import (
    KEY,
    REGION,
    SECRET,
    Outage,
    client,
    moto_server,
    new_bucket,
    outage,
    settings_of,
)

__all__ = [
    "KEY",
    "REGION",
    "SECRET",
    "Outage",
    "client",
    "keys",
    "moto_server",
    "new_bucket",
    "outage",
    "settings_of",
]


def keys(endpoint: str, bucket: str) -> list[str]:
    listed = client(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(entry["Key"] for entry in listed.get("Contents", []))
