"""A real S3 protocol server on 127.0.0.1: moto's standalone server as a process, and a
relay in front of it that can be taken off the network and brought back.

Every request goes over HTTP through boto3's real client, signed, as it would to AWS S3 or
MinIO; nothing in-process is patched. The tests and ``hirebot bench load`` use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

from bot.sandbox.world import free_port
from storage.media_s3 import Bucket

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

KEY, SECRET, REGION = "testing-key", "testing-secret", "us-east-1"
START_SECONDS = 60  # importing moto on a busy two-core machine takes seconds


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 server on a free loopback port for the ``with``; yields its endpoint URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _answers(endpoint):
            if process.poll() is not None:
                raise RuntimeError(f"moto's S3 server exited ({process.returncode})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto's S3 server did not answer in {START_SECONDS} s")
            time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer: it is up
    except OSError:
        return False


def client(endpoint: str) -> S3Client:
    """A plain boto3 client on the server, for the tests' own looks into the bucket."""
    import boto3

    return boto3.session.Session(
        aws_access_key_id=KEY, aws_secret_access_key=SECRET, region_name=REGION
    ).client("s3", endpoint_url=endpoint)


def new_bucket(endpoint: str, *, encrypt: bool = True, prefix: str = "media/") -> Bucket:
    """A bucket of its own (xdist workers and tests share the server), empty."""
    name = f"hirebot-{uuid.uuid4().hex[:16]}"
    client(endpoint).create_bucket(Bucket=name)
    return Bucket(
        name=name,
        endpoint_url=endpoint,
        region=REGION,
        prefix=prefix,
        encrypt=encrypt,
        access_key=KEY,
        secret_key=SECRET,
    )


def settings_of(bucket: Bucket) -> dict[str, object]:
    """``bucket`` as the bot's settings (``HIREBOT_MEDIA_S3_*``), for a World's overrides."""
    return {
        "media_s3_bucket": bucket.name,
        "media_s3_endpoint": bucket.endpoint_url,
        "media_s3_region": bucket.region,
        "media_s3_prefix": bucket.prefix,
        "media_s3_encryption": bucket.encrypt,
        "media_s3_access_key": bucket.access_key,
        "media_s3_secret_key": bucket.secret_key,
    }


class Outage:
    """A TCP relay in front of the S3 server that the test takes down and brings back.

    Down, nothing listens on its port (connection refused, as from a stopped server) and
    open connections are cut; up, it relays bytes both ways. The bot is pointed at
    ``endpoint``. It runs on its own thread and event loop, so that blocking S3 calls made
    on the test's loop (a store's ``put``) still get through.
    """

    def __init__(self, upstream: str) -> None:
        self._upstream_port = int(upstream.rsplit(":", 1)[1])
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def up(self) -> None:
        asyncio.run_coroutine_threadsafe(self._up(), self._loop).result(timeout=10)

    def down(self) -> None:
        asyncio.run_coroutine_threadsafe(self._down(), self._loop).result(timeout=10)

    def close(self) -> None:
        self.down()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _up(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._relay, "127.0.0.1", self.port, reuse_address=True
            )

    async def _down(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):  # kept-alive connections go down with it
            writer.close()
        self._open.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._upstream_port)
        self._open.update((writer, up_writer))

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            with contextlib.suppress(OSError):
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@contextlib.contextmanager
def outage(upstream: str) -> Iterator[Outage]:
    """An :class:`Outage` in front of ``upstream``, up at the start, closed at the end."""
    relay = Outage(upstream)
    relay.up()
    try:
        yield relay
    finally:
        relay.close()
