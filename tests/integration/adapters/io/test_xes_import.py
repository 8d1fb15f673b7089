from __future__ import annotations

import gzip
import warnings
from collections import Counter
from datetime import UTC

import polars as pl
import pytest

from adapters.io.xes import read_xes
from engine import schema as s
from engine.errors import ValidationError
from engine.memory_store import MemoryEventStore
from tests.conftest import LOGS, TickingClock
from tests.integration.adapters.io.xes_files import write_log

REAL = [
    "running-example.xes",
    "08_receipt.xes.gz",
    "helpdesk.xes.gz",
    "06_bpic2013_closed.xes.gz",
]


@pytest.fixture(scope="module")
def data_dir():
    from pathlib import Path

    return Path(__file__).resolve().parents[3] / "data" / "io"


def pm4py_frame(path) -> pl.DataFrame:
    pm4py = pytest.importorskip("pm4py")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = pm4py.read_xes(
            str(path), return_legacy_log_object=False, show_progress_bar=False
        )
    out = pl.DataFrame(
        {
            "case": df["case:concept:name"].astype(str).tolist(),
            "activity": df["concept:name"].astype(str).tolist(),
            "ts": df["time:timestamp"]
            .dt.tz_convert("UTC")
            .dt.tz_localize(None)
            .tolist(),
        }
    )
    return out.with_columns(
        pl.col("ts").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    )


def triples(frame: pl.DataFrame) -> Counter:
    return Counter(frame.select(s.PARTNERSHIP_ID, s.ACTIVITY, s.TIMESTAMP).rows())


@pytest.mark.parametrize("name", REAL)
def test_real_log_matches_pm4py(name):
    path = LOGS / name
    ours = read_xes(path)
    ours.raise_if_invalid()
    theirs = pm4py_frame(path)
    assert ours.frame.height == theirs.height
    assert ours.frame[s.PARTNERSHIP_ID].n_unique() == theirs["case"].n_unique()
    assert ours.frame[s.ACTIVITY].n_unique() == theirs["activity"].n_unique()
    assert triples(ours.frame) == Counter(theirs.rows())


@pytest.mark.parametrize("parser", ["text", "lxml"])
@pytest.mark.parametrize("name", REAL)
def test_every_parser_reads_the_same_events(name, parser):
    fast = read_xes(LOGS / name).frame
    other = read_xes(LOGS / name, parser=parser).frame
    assert fast.equals(other)


def test_lifecycle_classifier_makes_bpic2013_activities_meaningful():
    plain = read_xes(LOGS / "06_bpic2013_closed.xes.gz").frame
    classified = read_xes(
        LOGS / "06_bpic2013_closed.xes.gz", lifecycle_classifier=True
    ).frame
    assert plain[s.ACTIVITY].n_unique() == 4
    assert classified[s.ACTIVITY].n_unique() > 4
    assert "Accepted+In Progress" in classified[s.ACTIVITY].to_list()
    # the lifecycle transition is kept as an attribute either way
    assert plain[s.ATTRIBUTES].str.contains('"lifecycle:transition"').all()


def test_resource_group_offset_and_attributes_are_read():
    frame = read_xes(LOGS / "running-example.xes").frame
    first = frame.row(0, named=True)
    assert first[s.PARTNERSHIP_ID] == "3"
    assert first[s.ACTOR] == "Pete"
    assert first[s.TZ_OFFSET] == 3600
    assert first[s.TIMESTAMP].astimezone(UTC).hour == 13
    assert first[s.ATTRIBUTES] == (
        '{"Activity":"register request","Costs":"50","Resource":"Pete","case:creator":"Fluxicon Nitro"}'
    )
    bpic = read_xes(LOGS / "06_bpic2013_closed.xes.gz").frame
    assert bpic[s.ORGANIZATION].null_count() == 0


def test_unusual_layout_falls_back_and_matches_pm4py(data_dir):
    path = data_dir / "unusual.xes"
    batch = read_xes(path)
    batch.raise_if_invalid()
    assert batch.frame.select(
        s.PARTNERSHIP_ID, s.ACTIVITY, s.ACTOR, s.ORGANIZATION
    ).rows() == [
        ("c&1", "Fix été <now>", "ann", None),
        ("c&1", "close", None, None),
        ("c2", "open", None, "team A"),
    ]
    assert batch.frame[s.TZ_OFFSET].to_list() == [7200, 0, -18000]
    assert batch.frame[s.ATTRIBUTES].to_list() == [
        '{"count":7,"nested":"outer"}',
        '{"ok":true}',
        None,
    ]
    assert triples(batch.frame) == Counter(pm4py_frame(path).rows())


def test_gzip_and_plain_give_the_same_events(tmp_path):
    plain = LOGS / "running-example.xes"
    packed = tmp_path / "running-example.xes.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read_xes(plain).frame.equals(read_xes(packed).frame)


@pytest.mark.parametrize("parser", ["auto", "text"])
def test_small_blocks_give_the_same_events(parser):
    whole = read_xes(LOGS / "08_receipt.xes.gz").frame
    # ~100 blocks: indexes, lines and traces carry over block boundaries
    small = read_xes(LOGS / "08_receipt.xes.gz", parser=parser, block_bytes=50_000)
    assert small.frame.equals(whole)
    assert small.source_rows.equals(read_xes(LOGS / "08_receipt.xes.gz").source_rows)


def test_reimport_is_an_idempotent_noop():
    store = MemoryEventStore(clock=TickingClock())
    frame = read_xes(LOGS / "running-example.xes").frame
    first = store.append_frame(frame)
    again = store.append_frame(read_xes(LOGS / "running-example.xes").frame)
    assert (first.appended, again.appended, again.duplicates) == (42, 0, 42)


@pytest.mark.parametrize(
    ("name", "line", "words"),
    [
        ("truncated.xes", 21, "truncated"),
        ("malformed.xes", 8, "mismatch"),
        ("not_xes.xes", 2, "not an XES file"),
    ],
)
def test_bad_xes_files_name_the_line(data_dir, name, line, words):
    with pytest.raises(ValidationError) as info:
        read_xes(data_dir / name)
    assert info.value.line == line
    assert info.value.source.endswith(name)
    assert words in str(info.value)


def test_truncated_gzip_is_a_validation_error(tmp_path):
    data = gzip.compress((LOGS / "running-example.xes").read_bytes())
    cut = tmp_path / "cut.xes.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValidationError, match="truncated") as info:
        read_xes(cut)
    assert info.value.line is not None


def test_text_file_is_not_xes(tmp_path):
    path = tmp_path / "notes.xes"
    path.write_text("just some notes\nno tags here\n")
    with pytest.raises(ValidationError, match="not an XES file"):
        read_xes(path)


def test_naive_timestamps_need_a_zone(data_dir):
    batch = read_xes(data_dir / "naive.xes")
    with pytest.raises(ValidationError) as info:
        batch.raise_if_invalid()
    assert (info.value.line, info.value.field) == (9, "time:timestamp")
    assert "naive" in info.value.reason
    zoned = read_xes(data_dir / "naive.xes", timezone="Europe/Helsinki")
    assert zoned.frame[s.TZ_OFFSET].to_list() == [0, 10800, 0]
    # the unparseable one is still reported, on its own line
    assert zoned.problems.row(0) == (2, s.TIMESTAMP, "unparseable timestamp")
    assert zoned.source_rows[2] == 13


def test_bad_file_leaves_the_store_as_it_was(data_dir):
    store = MemoryEventStore(clock=TickingClock())
    store.append_frame(read_xes(LOGS / "running-example.xes").frame)
    before = store.read_all()
    with pytest.raises(ValidationError):
        read_xes(data_dir / "naive.xes").raise_if_invalid()
    assert store.read_all().equals(before)


def test_activity_mapping_is_applied():
    batch = read_xes(
        LOGS / "running-example.xes",
        mapping={"register request": "initiate_partnership"},
    )
    activities = batch.frame[s.ACTIVITY].unique().to_list()
    assert "initiate_partnership" in activities
    assert "register request" not in activities
    assert set(
        batch.frame.filter(pl.col(s.ACTIVITY) == "initiate_partnership")[s.PHASE]
    ) == {"negotiation"}


@pytest.mark.parametrize("parser", ["auto", "text", "lxml"])
def test_other_layouts_read_alike_and_match_pm4py(data_dir, parser):
    path = data_dir / "layouts.xes"
    batch = read_xes(path, parser=parser)
    batch.raise_if_invalid()
    assert batch.frame.select(s.PARTNERSHIP_ID, s.ACTIVITY, s.ATTRIBUTES).rows() == [
        ("case 1", "a & b", None),
        ("case 1", "b", '{"cost":15.0,"note":"tab inside"}'),
        ("case 2", "renamed", None),
    ]
    assert batch.source_rows.to_list() == [5, 6, 14]
    assert triples(batch.frame) == Counter(pm4py_frame(path).rows())


def test_a_log_without_events_is_empty(tmp_path):
    path = tmp_path / "empty.xes"
    path.write_text(
        '<?xml version="1.0"?>\n<log xes.version="1.0">\n  <trace/>\n</log>\n'
    )
    batch = read_xes(path)
    assert batch.frame.height == 0
    assert batch.problems.is_empty()


def _event(name: str, *attrs: str) -> str:
    lines = [
        f'      <string key="concept:name" value="{name}"/>\n',
        '      <date key="time:timestamp" value="2020-01-01T10:00:00.000+02:00"/>\n',
        *(f"      {a}\n" for a in attrs),
    ]
    return "    <event>\n" + "".join(lines) + "    </event>\n"


@pytest.mark.parametrize("splice_from", [0, 10**9])
@pytest.mark.parametrize("own_case_key", [False, True])
def test_inherited_attributes_sit_in_key_order(
    tmp_path, monkeypatch, own_case_key, splice_from
):
    import json

    import adapters.io.xes_attributes

    # 0: the traces' part is spliced into every block; 10**9: never.
    monkeypatch.setattr(adapters.io.xes_attributes, "_SPLICE_FROM_EVENTS", splice_from)

    extra = '<string key="case:own" value="o"/>' if own_case_key else ""
    trace = (
        '    <string key="concept:name" value="c1"/>\n'
        '    <string key="zeta" value="t"/>\n    <int key="alpha" value="7"/>\n'
        + _event(
            "A",
            '<string key="cat" value="x"/>',
            '<string key="cas" value="y"/>',
            '<string key="case;" value="z"/>',
            '<boolean key="Zed" value="TRUE"/>',
            extra,
        )
        + _event("B")
    )
    path = tmp_path / "order.xes"
    write_log(path, [trace])
    expected = {"case:alpha": 7, "case:zeta": "t", "cat": "x", "cas": "y"}
    expected |= {"case;": "z", "Zed": True} | ({"case:own": "o"} if extra else {})
    for parser in ("auto", "text", "lxml"):
        got = read_xes(path, parser=parser).frame[s.ATTRIBUTES].to_list()
        assert got[0] == json.dumps(expected, sort_keys=True, separators=(",", ":"))
        assert json.loads(got[1]) == {"case:alpha": 7, "case:zeta": "t"}


def test_entities_and_late_character_references_read_as_lxml(tmp_path):
    plain = [
        '    <string key="concept:name" value="c&amp;1"/>\n'
        + _event("A &amp; B", '<string key="k&lt;" value="&quot;q&quot; &amp;lt;"/>')
        for _ in range(400)
    ]
    # A character reference only in the last block: the file falls back to lxml.
    late = '    <string key="concept:name" value="c2"/>\n' + _event("&#65;&#x42;")
    path = tmp_path / "entities.xes"
    for traces in (plain, [*plain, late]):
        write_log(path, traces)
        fast = read_xes(path, block_bytes=20_000).frame
        assert fast.equals(read_xes(path, parser="lxml").frame)
    assert fast[s.ACTIVITY].to_list()[0] == "A & B"
    assert fast[s.ACTIVITY].to_list()[-1] == "AB"
    assert fast[s.ATTRIBUTES][0] == '{"k<":"\\"q\\" &lt;"}'


def test_timestamps_parse_alike_in_any_block(tmp_path):
    stamps = ["2020-01-01T10:00:00.000+02:00", "2020-01-01T10:00:00.5-03:30"]
    stamps += [
        "2020-01-01T08:00:00Z",
        "2020-01-01 10:00:00",
        "2020-02-30T10:00:00+01:00",
    ]
    traces = []
    for i in range(300):
        stamp = stamps[(i // 50) % len(stamps)] if i % 50 == 7 else stamps[0]
        event = _event("A").replace(stamps[0], stamp)
        traces.append(f'    <string key="concept:name" value="c{i}"/>\n' + event)
    path = tmp_path / "stamps.xes"
    write_log(path, traces)
    whole = read_xes(path, timezone="Europe/Helsinki")
    for block_bytes in (2_000, 30_000):
        part = read_xes(path, timezone="Europe/Helsinki", block_bytes=block_bytes)
        assert part.frame.equals(whole.frame)
        assert part.problems.equals(whole.problems)
    assert whole.problems["row"].to_list() == [207]  # 30 February
    assert whole.frame[s.TZ_OFFSET].to_list()[57] == -12600
    assert whole.frame[s.TZ_OFFSET].to_list()[157] == 7200  # naive, in Helsinki


@pytest.mark.parametrize("block_bytes", [1_500, 1 << 20])
def test_a_bad_byte_in_a_later_block_names_its_line(tmp_path, block_bytes):
    # Blocks are scanned two at a time: line numbers still count from the file.
    traces = [
        f'    <string key="concept:name" value="c{i}"/>\n' + _event("A")
        for i in range(60)
    ]
    path = tmp_path / "bad_byte.xes"
    write_log(path, traces)
    lines = path.read_bytes().split(b"\n")
    target = next(i for i, line in enumerate(lines) if b'value="c50"' in line)
    lines[target] = lines[target].replace(b"c50", b"c\xff50")
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(ValidationError, match="UTF-8") as info:
        read_xes(path, block_bytes=block_bytes)
    assert info.value.line == target + 1


def test_streaming_keeps_only_the_blocks_in_work(tmp_path, monkeypatch):
    # Memory is bounded by the block size: a scanned block's long form is
    # dropped once it is assembled, however long the file.
    import weakref

    import adapters.io.xes

    traces = [
        f'    <string key="concept:name" value="c{i}"/>\n' + _event("A")
        for i in range(400)
    ]
    path = tmp_path / "long.xes"
    write_log(path, traces)
    scan, refs, most = adapters.io.xes.scan_block, [], [0]

    def counting(*args, **kwargs):
        scanned = scan(*args, **kwargs)
        refs.append(weakref.ref(scanned))
        most[0] = max(most[0], sum(ref() is not None for ref in refs))
        return scanned

    monkeypatch.setattr(adapters.io.xes, "scan_block", counting)
    frame = read_xes(path, block_bytes=2_000).frame
    assert frame.height == 400
    assert len(refs) > 20
    assert most[0] <= 5  # two in work, one waiting, the last taken, one more
