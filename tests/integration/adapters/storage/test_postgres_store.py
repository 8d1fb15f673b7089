"""The PostgreSQL store through the CLI and at its edges (errors, layout)."""

from __future__ import annotations

import json
import socket

import psycopg
import pytest
from click.testing import CliRunner

from adapters.storage.postgres import PostgresEventStore
from cli.main import cli
from engine.errors import IntegrityError, NotFoundError, StoreError
from tests.conftest import TickingClock, make_event
from tests.contract.conftest import fresh_postgres_schema

pytestmark = pytest.mark.postgres


@pytest.fixture
def url():
    with fresh_postgres_schema() as schema_url:
        yield schema_url


def event_line(n: int) -> str:
    return json.dumps(
        {
            "event_id": f"00000000-0000-0000-0000-{n:012d}",
            "partnership_id": "p1",
            "activity": "propose_idea",
            "timestamp": "2020-01-01T10:00:00+02:00",
            "actor": "a1",
        }
    )


def test_init_append_verify_through_the_cli(url, tmp_path):
    runner = CliRunner()
    missing = runner.invoke(cli, ["--store", url, "verify"])
    assert missing.exit_code == 2
    assert "partnermine init" in missing.output
    created = runner.invoke(cli, ["--store", url, "init", "--format", "json"])
    assert created.exit_code == 0, created.output
    assert json.loads(created.output)["created"] is True
    again = runner.invoke(cli, ["--store", url, "init"])
    assert again.exit_code == 0
    assert "already initialized" in again.output
    lines = tmp_path / "events.jsonl"
    lines.write_text("\n".join(event_line(i) for i in range(1, 4)) + "\n")
    appended = runner.invoke(cli, ["--store", url, "append", str(lines)])
    assert appended.exit_code == 0, appended.output
    verified = runner.invoke(cli, ["--store", url, "verify"])
    assert verified.exit_code == 0, verified.output
    with psycopg.connect(url) as conn:
        (count,) = conn.execute("SELECT count(*) FROM pm_events").fetchone()
    assert count == 3


def test_opening_without_tables_is_not_found(url):
    with pytest.raises(NotFoundError, match="partnermine init"):
        PostgresEventStore(url, clock=TickingClock())


def test_unreachable_server_is_a_store_error_without_password():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    dead = f"postgresql://u:hunter2@127.0.0.1:{port}/x?connect_timeout=2"
    with pytest.raises(StoreError) as info:
        PostgresEventStore(dead, clock=TickingClock())
    assert "hunter2" not in str(info.value)
    assert f"127.0.0.1:{port}/x" in str(info.value)
    runner = CliRunner()
    result = runner.invoke(cli, ["--store", dead, "verify"])
    assert result.exit_code == 3


def test_append_only_is_enforced_by_the_database(url):
    store = PostgresEventStore(url, clock=TickingClock(), create=True)
    try:
        store.append("p1", [make_event(1)])
        with psycopg.connect(url, autocommit=True) as conn:
            for sql in (
                "UPDATE pm_events SET version = 9",
                "DELETE FROM pm_events",
                "TRUNCATE pm_events CASCADE",
            ):
                with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                    conn.execute(sql)
        assert store.head_position() == 1
        assert store.verify().ok
    finally:
        store.close()


def test_driver_errors_inside_a_write_are_typed(url):
    store = PostgresEventStore(url, clock=TickingClock(), create=True)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON pm_events "
                "FOR EACH STATEMENT EXECUTE FUNCTION pm_refuse_change()"
            )
        with pytest.raises(IntegrityError, match="append-only"):
            store.append("p1", [make_event(1)])
        assert store.head_position() == 0
    finally:
        store.close()
