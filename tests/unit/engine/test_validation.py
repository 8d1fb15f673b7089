from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from engine import schema as s
from engine.errors import ValidationError
from engine.events import new_events_to_frame
from engine.validation import (
    apply_activity_mapping,
    find_invalid_rows,
    normalize_input_frame,
    raise_first_invalid,
    split_valid_rows,
)
from tests.conftest import make_event


def _frame(**overrides):
    base = {
        s.EVENT_ID: [
            "00000000-0000-0000-0000-000000000001",
            "00000000-0000-0000-0000-000000000002",
        ],
        s.PARTNERSHIP_ID: ["p", "p"],
        s.ACTIVITY: ["propose_idea", "start_action"],
        s.TIMESTAMP: [
            datetime(2020, 1, 1, tzinfo=UTC),
            datetime(2020, 2, 1, tzinfo=UTC),
        ],
    }
    base.update(overrides)
    return pl.DataFrame(base)


def test_normalize_fills_optional_columns_and_infers_phase():
    out = normalize_input_frame(_frame())
    assert out.schema == s.INPUT_SCHEMA
    assert out[s.PHASE].to_list() == ["commitment", "execution"]
    assert out[s.SCHEMA_VERSION].to_list() == [s.CURRENT_SCHEMA_VERSION] * 2
    assert out[s.TZ_OFFSET].to_list() == [0, 0]


def test_normalize_keeps_a_given_phase():
    out = normalize_input_frame(_frame(phase=["negotiation", None]))
    assert out[s.PHASE].to_list() == ["negotiation", "execution"]


def test_missing_required_column_names_it():
    with pytest.raises(ValidationError) as info:
        normalize_input_frame(_frame().drop(s.TIMESTAMP), source="in.csv")
    assert info.value.field == s.TIMESTAMP
    assert "in.csv" in str(info.value)


def test_unexpected_column_is_refused():
    with pytest.raises(ValidationError, match="unexpected column"):
        normalize_input_frame(_frame(extra=[1, 2]))


def test_wrong_type_is_a_validation_error():
    with pytest.raises(ValidationError, match="types"):
        normalize_input_frame(_frame(**{s.TIMESTAMP: [[1], [2]]}))


def test_each_problem_is_located():
    frame = normalize_input_frame(
        _frame(
            **{
                s.EVENT_ID: ["00000000-0000-0000-0000-000000000001"] * 2,
                s.ACTIVITY: [None, "x"],
                s.TIMESTAMP: [None, datetime(2020, 1, 1, tzinfo=UTC)],
            },
            phase=[None, "later"],
        )
    )
    problems = find_invalid_rows(frame).rows()
    assert (0, s.ACTIVITY, "missing") in problems
    assert (0, s.TIMESTAMP, "missing or unparseable") in problems
    assert (1, s.EVENT_ID, "duplicate event id in this input") in problems
    assert any(row == 1 and field == s.PHASE for row, field, _ in problems)


def test_bad_participant_role():
    frame = new_events_to_frame([make_event(1)]).with_columns(
        pl.Series(
            s.PARTICIPANTS,
            [[{"actor": "a", "organization": "o", "role": "boss"}]],
            dtype=s.INPUT_SCHEMA[s.PARTICIPANTS],
        )
    )
    assert find_invalid_rows(frame)["field"].to_list() == [s.PARTICIPANTS]


def test_raise_first_invalid_uses_source_row_numbers():
    frame = normalize_input_frame(_frame(**{s.ACTIVITY: ["ok", ""]}))
    problems = find_invalid_rows(frame)
    with pytest.raises(ValidationError) as info:
        raise_first_invalid(problems, source="f.csv", row_numbers=pl.Series([10, 11]))
    assert (info.value.source, info.value.row, info.value.field) == (
        "f.csv",
        11,
        s.ACTIVITY,
    )
    raise_first_invalid(problems.clear(), source="f.csv")


def test_split_valid_rows_keeps_reasons():
    frame = normalize_input_frame(_frame(**{s.ACTIVITY: ["ok", ""]}))
    valid, rejected = split_valid_rows(frame, find_invalid_rows(frame))
    assert valid.height == 1
    assert rejected["row"].to_list() == [1]
    assert rejected["reject_reason"].to_list() == [f"{s.ACTIVITY}: empty"]


def test_activity_mapping():
    frame = normalize_input_frame(_frame(**{s.ACTIVITY: ["Kickoff", "start_action"]}))
    mapped = apply_activity_mapping(frame, {"Kickoff": "initiate_partnership"})
    assert mapped[s.ACTIVITY].to_list() == ["initiate_partnership", "start_action"]
    assert apply_activity_mapping(frame, {}) is frame
