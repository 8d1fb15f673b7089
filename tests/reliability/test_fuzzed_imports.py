"""Fuzzed imports end in a typed error or a whole write: never a traceback, never half.

Each input goes the way ``partnermine ingest`` takes it: an importer of
``adapters.io`` reads the file, the batch is checked, and the store appends it
in one transaction. Any exception that is not a :class:`PartnermineError`
fails the test (it would be a traceback for the user); after an error the store
must hold exactly what it held before.
"""

from __future__ import annotations

import gzip
import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.bootstrap import open_store
from engine.errors import PartnermineError
from tests.conftest import LOGS

xes = pytest.importorskip("adapters.io.xes")
jsonl = pytest.importorskip("adapters.io.jsonl")
tabular = pytest.importorskip("adapters.io.tabular")

READERS = {
    ".xes": xes.read_xes,
    ".xes.gz": xes.read_xes,
    ".jsonl": jsonl.read_jsonl,
    ".csv": tabular.read_csv_events,
    ".parquet": tabular.read_parquet_events,
}
FUZZ = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
RUNNING_EXAMPLE = (LOGS / "running-example.xes").read_bytes()
GOOD_LINE = {
    "partnership_id": "p1",
    "activity": "propose_idea",
    "timestamp": "2020-01-01T10:00:00+02:00",
    "actor": "a1",
    "organization": "EM",
    "participants": [{"actor": "a1", "organization": "EM", "role": "manager"}],
    "attributes": {"idea_id": "i1"},
}
GOOD_CSV = (
    "case:concept:name,concept:name,time:timestamp,org:resource\n"
    "p1,propose_idea,2020-01-01T10:00:00+02:00,ann\n"
    "p1,agree_action_plan,2020-01-02T10:00:00+02:00,bo\n"
)


@pytest.fixture
def store(store_url):
    opened = open_store(store_url)
    yield opened
    opened.close()


def ingest(store, tmp_path, suffix: str, payload: bytes) -> str:
    """Import ``payload`` as a file and append it; return 'error' or 'stored'."""
    path = tmp_path / f"{uuid.uuid4().hex}{suffix}"
    path.write_bytes(payload)
    before = store.head_position()
    try:
        batch = READERS[suffix](path)
        batch.raise_if_invalid()
        report = store.append_frame(batch.frame)
    except PartnermineError:
        assert store.head_position() == before, "a failed import wrote something"
        return "error"
    assert report.appended + report.duplicates == batch.frame.height
    assert store.head_position() == before + report.appended
    return "stored"


@FUZZ
@given(payload=st.binary(max_size=2_000), suffix=st.sampled_from(sorted(READERS)))
def test_random_bytes(store, tmp_path, payload, suffix):
    ingest(store, tmp_path, suffix, payload)


@FUZZ
@given(cut=st.integers(1, len(RUNNING_EXAMPLE) - 1), gz=st.booleans())
def test_truncated_xes(store, tmp_path, cut, gz):
    head = RUNNING_EXAMPLE[:cut]
    payload = gzip.compress(RUNNING_EXAMPLE)[: max(1, cut // 8)] if gz else head
    assert ingest(store, tmp_path, ".xes.gz" if gz else ".xes", payload) in {
        "error",
        "stored",
    }
    assert store.verify().ok


_TEXTS = {
    ".xes": RUNNING_EXAMPLE.decode().replace("Pete", "Pété"),
    ".jsonl": json.dumps(GOOD_LINE | {"actor": "Pété"}, ensure_ascii=False) + "\n",
    ".csv": GOOD_CSV.replace("ann", "Ännä"),
}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "latin-1", "cp1252"])
@pytest.mark.parametrize("suffix", sorted(_TEXTS))
def test_wrong_encodings(store, tmp_path, suffix, encoding):
    text = _TEXTS[suffix]
    if suffix == ".xes":  # keep the declaration lying: it says UTF-8
        assert "encoding='UTF-8'" in text
    ingest(store, tmp_path, suffix, text.encode(encoding))


@pytest.mark.parametrize("size", [70_000, 1_000_000])
@pytest.mark.parametrize("field", ["partnership_id", "activity", "actor", "attributes"])
def test_huge_fields(store, tmp_path, field, size):
    big = "".join(chr(0x4E00 + (i * 7919) % 20_000) for i in range(size // 3))
    value = {"note": big} if field == "attributes" else big
    line = GOOD_LINE | {"event_id": str(uuid.uuid4()), field: value}
    outcome = ingest(store, tmp_path, ".jsonl", (json.dumps(line) + "\n").encode())
    if outcome == "stored":
        assert store.verify().ok


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=12,
)


@FUZZ
@given(
    field=st.sampled_from([*sorted(GOOD_LINE), "event_id", "phase", "workstream"]),
    junk=_json,
    depth=st.integers(0, 200),
)
def test_nested_junk_in_json(store, tmp_path, field, junk, depth):
    for _ in range(depth):
        junk = [junk]
    line = GOOD_LINE | {field: junk}
    payload = (json.dumps(line, allow_nan=True) + "\n").encode()
    ingest(store, tmp_path, ".jsonl", payload)


def test_deeply_nested_json_is_a_typed_error(store, tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    payload = json.dumps(GOOD_LINE)[:-1] + f', "attributes": {deep}}}\n'
    assert ingest(store, tmp_path, ".jsonl", payload.encode()) == "error"
