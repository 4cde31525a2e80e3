"""Fixtures for flow-level tests: a migrated SQLite database per test, copied from a template."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.flows import FlowWorld, migrated_template


@pytest.fixture(scope="session")
def flow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Migrating takes a few hundred milliseconds; copying the result takes one.
    return migrated_template(tmp_path_factory.mktemp("flow-template"))


@pytest.fixture
def world(flow_template: Path, tmp_path: Path) -> Iterator[FlowWorld]:
    flows = FlowWorld.from_template(flow_template, tmp_path)
    yield flows
    flows.close()
