"""XES reader: a hand-written fixture, broken files, BPIC 2012 counts, and pm4py as referee."""

from __future__ import annotations

import gzip
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest

from royalroad.errors import InputError
from royalroad.i18n import set_lang
from royalroad.io.xes import read_xes

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BPIC = DATA / "bpic2012" / "BPI_Challenge_2012.xes.gz"
RUNNING = DATA / "pm4py_example_logs" / "running-example.xes"
TELECLAIMS = DATA / "pm4py_example_logs" / "02_teleclaims.xes.gz"

# Line numbers matter: the tests below name them.
TINY = """\
<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <global scope="event">
    <string key="org:resource" value="DEFAULT"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <string key="concept:name" value="tiny log"/>
  <trace>
    <string key="concept:name" value="L-1"/>
    <string key="segment" value="製造業"/>
    <event>
      <string key="concept:name" value="展示会名刺交換"/>
      <date key="time:timestamp" value="2024-04-01T09:00:00.000+09:00"/>
      <string key="org:resource" value="佐藤"/>
      <int key="cost" value="100"/>
    </event>
    <event>
      <string key="concept:name" value="資料送付"/>
      <date key="time:timestamp" value="2024-04-03T10:30:00.000+09:00"/>
      <list key="tags">
        <values><string key="tag" value="nested-in-list"/></values>
      </list>
      <string key="channel" value="mail">
        <string key="nested" value="ignored"/>
      </string>
    </event>
  </trace>
  <trace>
    <event>
      <string key="concept:name" value="技術打合せ"/>
      <boolean key="online" value="true"/>
      <id key="meeting" value="c0ffee"/>
      <container key="attendees"><string key="who" value="x"/></container>
      <float key="cost" value="2.50"/>
    </event>
    <string key="concept:name" value="L-2"/>
    <date key="opened" value="2024-03-30T00:00:00.000+09:00"/>
  </trace>
</log>
"""


@pytest.fixture(autouse=True)
def _english():
    set_lang("en")
    yield
    set_lang(None)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.xes"
    path.write_text(TINY, encoding="utf-8")
    return path


def test_tiny_events_are_strings_in_file_order(tiny: Path) -> None:
    log = read_xes(tiny)
    assert log.events.kind == "xes" and log.events.source == str(tiny)
    assert log.events.columns == [
        "case:concept:name",
        "concept:name",
        "time:timestamp",
        "org:resource",
        "cost",
        "channel",
        "online",
        "meeting",
    ]
    assert log.events.table.to_pylist() == [
        {
            "case:concept:name": "L-1",
            "concept:name": "展示会名刺交換",
            "time:timestamp": "2024-04-01T09:00:00.000+09:00",
            "org:resource": "佐藤",
            "cost": "100",
            "channel": None,
            "online": None,
            "meeting": None,
            "_line": 12,
        },
        # org:resource is missing: null, not the <global> default "DEFAULT"
        {
            "case:concept:name": "L-1",
            "concept:name": "資料送付",
            "time:timestamp": "2024-04-03T10:30:00.000+09:00",
            "org:resource": None,
            "cost": None,
            "channel": "mail",
            "online": None,
            "meeting": None,
            "_line": 18,
        },
        # the trace's concept:name comes after its events: still the case
        {
            "case:concept:name": "L-2",
            "concept:name": "技術打合せ",
            "time:timestamp": None,
            "org:resource": None,
            "cost": "2.50",
            "channel": None,
            "online": "true",
            "meeting": "c0ffee",
            "_line": 30,
        },
    ]
    assert str(log.events.table.schema.field("_line").type) == "int64"


def test_tiny_traces(tiny: Path) -> None:
    traces = read_xes(tiny).traces
    assert traces.table.to_pylist() == [
        {"concept:name": "L-1", "segment": "製造業", "opened": None, "_line": 9},
        {
            "concept:name": "L-2",
            "segment": None,
            "opened": "2024-03-30T00:00:00.000+09:00",
            "_line": 29,
        },
    ]


def test_nested_values_are_ignored_and_noted(tiny: Path) -> None:
    log = read_xes(tiny)
    for table in (log.events, log.traces):
        flat = [v for row in table.table.to_pylist() for v in row.values()]
        assert "nested-in-list" not in flat and "ignored" not in flat and "x" not in flat
    assert log.events.notes == (
        "nested or list values ignored under 3 attribute(s): tags, channel, attendees",
    )


def test_gzip_is_detected_by_content_not_name(tiny: Path, tmp_path: Path) -> None:
    plain = read_xes(tiny)
    for name in ("tiny.xes.gz", "gzipped-but-named.xes"):
        path = tmp_path / name
        path.write_bytes(gzip.compress(TINY.encode("utf-8")))
        log = read_xes(path)
        assert log.events.table.equals(plain.events.table)
        assert log.traces.table.equals(plain.traces.table)


def test_events_outside_traces_are_kept_with_empty_case(tmp_path: Path) -> None:
    path = tmp_path / "orphan.xes"
    path.write_text(
        '<log>\n<event><string key="concept:name" value="a"/></event>\n'
        '<trace><string key="concept:name" value="T"/>\n'
        '<event><string key="concept:name" value="b"/></event></trace>\n</log>\n'
    )
    events = read_xes(path).events
    assert events.table.to_pylist() == [
        {"case:concept:name": None, "concept:name": "a", "_line": 2},
        {"case:concept:name": "T", "concept:name": "b", "_line": 4},
    ]
    assert events.notes == ("1 event(s) outside any trace (their case is empty)",)


def test_repeated_attribute_keeps_last_value_with_note(tmp_path: Path) -> None:
    path = tmp_path / "twice.xes"
    path.write_text(
        '<log><trace><event><string key="a" value="1"/><string key="a" value="2"/>'
        "</event></trace></log>"
    )
    events = read_xes(path).events
    assert events.table.column("a").to_pylist() == ["2"]
    assert "the last value was kept: a" in events.notes[0]


def test_log_without_traces_gives_empty_tables(tmp_path: Path) -> None:
    path = tmp_path / "empty.xes"
    path.write_text('<?xml version="1.0"?>\n<log xes.version="1.0"/>\n')
    log = read_xes(path)
    assert log.events.num_rows == 0 and log.events.columns == ["case:concept:name"]
    assert log.traces.num_rows == 0 and log.traces.columns == ["concept:name"]


@pytest.mark.parametrize("encoding", ["Shift_JIS", "EUC-JP", "UTF-16", "windows-1252"])
def test_declared_encodings_including_multibyte_ones_expat_lacks(
    tmp_path: Path, encoding: str
) -> None:
    text = TINY.replace('encoding="UTF-8"', f'encoding="{encoding}"')
    if encoding == "windows-1252":  # no Japanese in a Western code page
        text = text.replace("展示会名刺交換", "Messe").replace("資料送付", "Brochüre")
        text = text.replace("技術打合せ", "Café").replace("製造業", "Ind").replace("佐藤", "Sato")
    path = tmp_path / "enc.xes"
    path.write_bytes(text.encode(encoding))
    expected = tmp_path / "utf8.xes"
    expected.write_text(text.replace(f'encoding="{encoding}"', 'encoding="UTF-8"'), "utf-8")
    log = read_xes(path)
    assert log.events.encoding == encoding
    assert log.events.table.equals(read_xes(expected).events.table)


def test_bytes_invalid_in_declared_encoding(tmp_path: Path) -> None:
    path = tmp_path / "sjis.xes"
    path.write_bytes(b'<?xml version="1.0" encoding="Shift_JIS"?>\n<log>\n<trace \xff\xff/></log>')
    with pytest.raises(
        InputError,
        match=r"sjis\.xes: line 3, column 8: not a readable XES file "
        r"\(shift_jis: illegal multibyte sequence\)",
    ):
        read_xes(path)


# --- fatal -------------------------------------------------------------------------


def test_truncated_xml_names_file_and_line(tiny: Path, tmp_path: Path) -> None:
    path = tmp_path / "cut.xes"
    path.write_text("\n".join(TINY.splitlines()[:20]), encoding="utf-8")
    with pytest.raises(
        InputError,
        match=r"^.*cut\.xes: line 20, column \d+: not a readable XES "
        r"file \(.+\); expected a well-formed XES \(XML\) event log$",
    ):
        read_xes(path)


def test_not_xml(tmp_path: Path) -> None:
    path = tmp_path / "events.xes"
    path.write_text("lead_id,activity\nL-1,webinar\n")
    with pytest.raises(
        InputError,
        match=r"events\.xes: line 1, column 1: not a readable XES "
        r"file \(syntax error\)",
    ):
        read_xes(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.xes"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.xes: line 1, column 1: .*\(no element found\)"):
        read_xes(path)


def test_root_is_not_log(tmp_path: Path) -> None:
    path = tmp_path / "page.xes"
    path.write_text("<?xml version='1.0'?>\n\n<html><body/></html>")
    with pytest.raises(
        InputError,
        match=r"^.*page\.xes: line 3: the root element is <html>; "
        r"expected <log> \(an XES event log\)$",
    ):
        read_xes(path)


def test_truncated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "cut.xes.gz"
    whole = gzip.compress((TINY * 1).encode("utf-8"))
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(
        InputError,
        match=r"cut\.xes\.gz: the gzip data is damaged or truncated "
        r"\(stopped after XML line \d+\); expected a complete \.xes\.gz file",
    ):
        read_xes(path)


def test_gzip_magic_with_garbage(tmp_path: Path) -> None:
    path = tmp_path / "bad.xes.gz"
    path.write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    with pytest.raises(InputError, match=r"bad\.xes\.gz: the gzip data is damaged or truncated"):
        read_xes(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.xes: file not found$"):
        read_xes(tmp_path / "nope.xes")
    with pytest.raises(InputError, match=r": is a folder, not a file$"):
        read_xes(tmp_path)


def test_message_in_japanese(tmp_path: Path) -> None:
    path = tmp_path / "page.xes"
    path.write_text("<html/>")
    set_lang("ja")
    with pytest.raises(InputError, match=r"page\.xes: 1 行: ルート要素が <html> です"):
        read_xes(path)


# --- real logs ----------------------------------------------------------------------

needs_data = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"shared test data not found at {DATA} (expected ../shared/data)"
)


@pytest.fixture(scope="module")
def bpic():
    if not BPIC.is_file():
        pytest.skip(f"BPIC 2012 log not found at {BPIC}")
    return read_xes(BPIC)


@pytest.mark.slow
def test_bpic2012_counts(bpic) -> None:
    events, traces = bpic.events, bpic.traces
    assert traces.num_rows == 13_087
    assert events.num_rows == 262_200
    assert events.columns == [
        "case:concept:name",
        "org:resource",
        "lifecycle:transition",
        "concept:name",
        "time:timestamp",
    ]
    assert traces.columns == ["concept:name", "REG_DATE", "AMOUNT_REQ"]
    activities = set(events.table.column("concept:name").to_pylist())
    assert len(activities) == 24
    assert set(events.table.column("lifecycle:transition").to_pylist()) == {
        "SCHEDULE",
        "START",
        "COMPLETE",
    }
    cases = events.table.column("case:concept:name").to_pylist()
    assert set(cases) == set(traces.table.column("concept:name").to_pylist())
    lines = events.table.column("_line").to_pylist()
    assert all(a < b for a, b in pairwise(lines))  # file order
    # first trace, as `zcat … | grep -n` shows it
    assert traces.table.slice(0, 1).to_pylist() == [
        {
            "concept:name": "173688",
            "REG_DATE": "2011-10-01T00:38:44.546+02:00",
            "AMOUNT_REQ": "20000",
            "_line": 12740,
        }
    ]
    assert events.table.slice(0, 1).to_pylist()[0]["_line"] == 12744
    assert bpic.events.notes == ()  # the log-level nested floats are not trace/event data


@needs_data
@pytest.mark.filterwarnings("ignore:Install the optional requirement")
@pytest.mark.parametrize("path", [RUNNING, TELECLAIMS], ids=lambda p: p.name)
def test_agrees_with_pm4py(path: Path) -> None:
    pm4py = pytest.importorskip("pm4py")
    pd = pytest.importorskip("pandas")
    if not path.is_file():
        pytest.skip(f"{path} not found")
    theirs = pm4py.read_xes(str(path))
    ours = read_xes(path).events.table.to_pandas()
    case, act, ts = "case:concept:name", "concept:name", "time:timestamp"

    assert len(ours) == len(theirs)
    assert ours.groupby(case).size().sort_index().equals(theirs.groupby(case).size().sort_index())
    assert Counter(ours[act]) == Counter(theirs[act])

    def rows(frame, stamps):  # (case, activity, µs since epoch), order-free
        micros = stamps.dt.as_unit("us").astype("int64")
        return sorted(zip(frame[case], frame[act], micros, strict=True))

    ours_ts = pd.to_datetime(ours[ts], utc=True, format="ISO8601")
    theirs_ts = pd.to_datetime(theirs[ts], utc=True)
    assert rows(ours, ours_ts) == rows(theirs, theirs_ts)
