"""Fresh, throwaway stores of every kind for the store benchmarks, by URL.

A URL rather than a store object, so that concurrent appenders in other
processes can open the same store. PostgreSQL needs
``PARTNERMINE_TEST_POSTGRES`` (``bash .ci/postgres.sh`` starts a local one).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from cli.bootstrap import open_store

if TYPE_CHECKING:
    from collections.abc import Iterator

POSTGRES_ENV = "PARTNERMINE_TEST_POSTGRES"


def available_store_kinds() -> list[str]:
    """Return the store kinds this machine can benchmark."""
    kinds = ["memory"]
    if importlib.util.find_spec("adapters.storage.sqlite") is not None:
        kinds.append("sqlite")
    if os.environ.get(POSTGRES_ENV):
        kinds.append("postgres")
    return kinds


@contextlib.contextmanager
def fresh_store_url(kind: str) -> Iterator[str]:
    """Yield the URL of a new, initialized store; remove it afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = str(Path(tmp) / "bench.db")
            open_store(url, create=True).close()
            yield url
        return
    if kind != "postgres":
        msg = f"no URL for a {kind} store"
        raise ValueError(msg)
    import psycopg

    base = os.environ[POSTGRES_ENV]
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    try:
        open_store(url, create=True).close()
        yield url
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
