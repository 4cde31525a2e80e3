"""Shared fixtures: a database on SQLite and on PostgreSQL, and a clean proxy environment.

Helpers that tests import live in ``tests/helpers``; a conftest only declares fixtures.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.unit_of_work import UnitOfWork, opened
from storage import migrate

PG_ADMIN_URL = os.environ.get(
    "HIREBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_reason() -> str | None:
    """None when PostgreSQL is reachable, else why the PostgreSQL runs are skipped."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'hirebot[postgres]')"
    try:
        with psycopg.connect(_libpq(PG_ADMIN_URL), connect_timeout=3):
            return None
    except psycopg.OperationalError as err:
        return f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {str(err).strip()[:120]}"


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


_PG_SKIP = _postgres_reason()

# CTranslate2 and torch run on OpenMP, whose idle threads spin for work by default. Two xdist
# workers transcribing at once on a small machine then burn each other's CPU: on
# tests/slack/test_threads.py and test_erase.py with -n 2, 29-35 s of CPU and 54-68 s wall
# spinning against 18-20 s and 28-32 s passive. bot/transcription sets it for the product;
# set here too, before any test imports either library by another way (the benches' raw runs).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: xdist hands tests out in this order, so the long ones start at once
    instead of leaving one worker busy at the end while the others wait."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # slack_sdk ignores NO_PROXY; loopback traffic must never go through a proxy.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


class _Templates:
    """Migrated databases to copy, made once per process (per xdist worker) on first use.

    Migrating an empty database takes most of a second; copying a migrated SQLite file or
    creating a PostgreSQL database from a template takes a fraction of that.
    """

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._sqlite: Path | None = None
        self._postgres: str | None = None
        self._dropping: list[threading.Thread] = []

    def sqlite(self) -> Path:
        if self._sqlite is None:
            path = self._folder / "migrated.db"
            migrate.upgrade(f"sqlite:///{path}")
            self._sqlite = path
        return self._sqlite

    def postgres(self, admin: Any) -> str:
        if self._postgres is None:
            name = f"hirebot_template_{uuid.uuid4().hex[:12]}"
            admin.execute(f'CREATE DATABASE "{name}"')
            migrate.upgrade(_url_of(name))
            self._postgres = name
        return self._postgres

    def drop_later(self, name: str) -> None:
        """Drop a test's database on a thread of its own: dropping waits on a checkpoint
        (seconds on a busy disk) that the next test need not wait for."""
        self._dropping.append(threading.Thread(target=_drop, args=(name,)))
        self._dropping[-1].start()

    def drop(self) -> None:
        for thread in self._dropping:
            thread.join()
        if self._postgres is not None:
            _drop(self._postgres)


def _drop(name: str) -> None:
    import psycopg

    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _url_of(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    templates = _Templates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, _templates: _Templates
) -> Iterator[str]:
    """A fresh database: a SQLite file, or a new PostgreSQL database (one per test, so
    xdist workers never share one). Empty, unless the test also asks for ``db``: then it
    starts as a copy of a migrated one."""
    migrated = "db" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "hirebot.db"
        if migrated:
            shutil.copyfile(_templates.sqlite(), path)
        yield f"sqlite:///{path}"
        return
    if _PG_SKIP:
        if os.environ.get("HIREBOT_REQUIRE_POSTGRES"):
            pytest.fail(_PG_SKIP)
        pytest.skip(_PG_SKIP)
    import psycopg

    name = f"hirebot_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as admin:
        template = f' TEMPLATE "{_templates.postgres(admin)}"' if migrated else ""
        admin.execute(f'CREATE DATABASE "{name}"{template}')
    try:
        yield _url_of(name)
    finally:
        _templates.drop_later(name)


@pytest.fixture
def uow(database_url: str, tmp_path: Path) -> Iterator[UnitOfWork]:
    """A migrated database (SQLite and PostgreSQL) and its media folder."""
    migrate.upgrade(database_url)  # a no-op on the migrated copy; a check that it is current
    with opened(database_url, tmp_path / "media") as unit:
        yield unit


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's standalone S3 server, one per test process (xdist worker), on 127.0.0.1."""
    from tests.helpers.s3 import moto_server

    with moto_server() as endpoint:
        yield endpoint
