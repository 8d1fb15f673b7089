"""Hand-built logs for the rule tests: readable ids, days from 2020-01-01."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from engine import schema as s

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def build_log(rows: list[dict]) -> pl.DataFrame:
    """Return an event frame from short rows.

    Keys: id, act, day, pid (default p1), phase (default: the activity's stage),
    org, actor, parts (list of (actor, org, role)), attrs (dict). Versions follow
    list order per partnership.
    """
    versions: dict[str, int] = {}
    data: dict[str, list] = {
        c: []
        for c in (
            s.EVENT_ID,
            s.PARTNERSHIP_ID,
            s.VERSION,
            s.ACTIVITY,
            s.TIMESTAMP,
            s.PHASE,
            s.ACTOR,
            s.ORGANIZATION,
            s.PARTICIPANTS,
            s.ATTRIBUTES,
        )
    }
    for row in rows:
        pid = row.get("pid", "p1")
        versions[pid] = versions.get(pid, 0) + 1
        data[s.EVENT_ID].append(row["id"])
        data[s.PARTNERSHIP_ID].append(pid)
        data[s.VERSION].append(versions[pid])
        data[s.ACTIVITY].append(row["act"])
        data[s.TIMESTAMP].append(day(row["day"]))
        data[s.PHASE].append(row.get("phase", s.ACTIVITY_STAGE.get(row["act"])))
        data[s.ACTOR].append(row.get("actor"))
        data[s.ORGANIZATION].append(row.get("org"))
        data[s.PARTICIPANTS].append(
            [
                {"actor": a, "organization": o, "role": r}
                for a, o, r in row.get("parts", ())
            ]
        )
        attrs = row.get("attrs")
        data[s.ATTRIBUTES].append(json.dumps(attrs, sort_keys=True) if attrs else None)
    schema = {
        s.EVENT_ID: pl.String,
        s.PARTNERSHIP_ID: pl.String,
        s.VERSION: pl.Int64,
        s.ACTIVITY: pl.String,
        s.TIMESTAMP: pl.Datetime("us", "UTC"),
        s.PHASE: pl.String,
        s.ACTOR: pl.String,
        s.ORGANIZATION: pl.String,
        s.PARTICIPANTS: pl.List(s.PARTICIPANT_DTYPE),
        s.ATTRIBUTES: pl.String,
    }
    return pl.DataFrame(data, schema=schema)


def team(*orgs: str, role: str = "manager") -> list[tuple[str, str, str]]:
    """One participant per organization, actor named after it."""
    return [(f"{o.lower()}-{role}", o, role) for o in orgs]


@pytest.fixture
def log():
    return build_log
