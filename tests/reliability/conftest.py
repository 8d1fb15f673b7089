"""Reliability fixtures: every test runs on each real store, through a URL.

A URL (SQLite path or postgresql://) rather than a store object, because the
tests open the same store from other processes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from cli.bootstrap import open_store
from tests.contract.conftest import fresh_postgres_schema

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, initialized store of each kind."""
    if request.param == "sqlite":
        pytest.importorskip("adapters.storage.sqlite")
        url = str(tmp_path / "store.db")
        open_store(url, create=True).close()
        yield url
        return
    with fresh_postgres_schema() as url:
        open_store(url, create=True).close()
        yield url
