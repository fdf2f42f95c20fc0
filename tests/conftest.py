"""Shared fixtures for the ingest and CLI tests.

Every test runs in English with a neutral locale (``LANG=C.UTF-8``), so messages
can be pinned exactly; tests of Japanese output set the language themselves.

The helpers here count rows *independently* of royalroad's own bookkeeping: the
``files`` table says how many rows were read, accepted and quarantined, and
:func:`accounting` checks those numbers against what is actually in the canonical
tables and in ``quarantine``, and against counts the test makes by hand.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from royalroad.i18n import set_lang

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
SHARED_DATA = TESTS.parents[1] / "shared" / "data"
"""../shared/data beside the repository (CI clones the repo with shared/ next to it)."""

CANONICAL_TABLE = {"leads": "leads", "events": "events", "notes": "notes"}


@pytest.fixture(autouse=True)
def _english_neutral_locale(monkeypatch):
    for var in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("TZ", "UTC")  # the machine's zone is the default for naive times
    monkeypatch.delenv("ROYALROAD_DEBUG", raising=False)
    set_lang("en")
    yield
    set_lang(None)


@dataclass(frozen=True)
class Counts:
    """Row accounting of one file: read, accepted, quarantined."""

    read: int
    accepted: int
    quarantined: int


def accounting(ws) -> dict[str, Counts]:
    """Per file: rows read from ``files``, checked against the tables themselves.

    ``accepted`` is the number of rows of the canonical table that name the file in
    ``_file``; ``quarantined`` the rows of ``quarantine`` that name it. Both must
    match the ``files`` table, and ``read == accepted + quarantined``.
    """
    out: dict[str, Counts] = {}
    rows = ws.con.execute(
        "SELECT table_name, file, rows_read, accepted, quarantined FROM files ORDER BY file_idx"
    ).fetchall()
    for table, file, read, accepted, quarantined in rows:
        canon = CANONICAL_TABLE[table]
        in_table = ws.con.execute(
            f"SELECT count(*) FROM {canon} WHERE _file = ?", [file]
        ).fetchall()[0][0]
        in_quarantine = ws.con.execute(
            "SELECT count(*) FROM quarantine WHERE file = ? AND table_name = ?", [file, table]
        ).fetchall()[0][0]
        assert accepted == in_table, (file, accepted, in_table)
        assert quarantined == in_quarantine, (file, quarantined, in_quarantine)
        assert read == accepted + quarantined, (file, read, accepted, quarantined)
        out[file] = Counts(read, accepted, quarantined)
    return out


def csv_records(path: str | Path, *, encoding: str = "utf-8", delimiter: str = ",") -> int:
    """Data records of a delimited file, counted with Python's csv module (blank rows skipped)."""
    text = Path(path).read_bytes().decode(encoding)
    rows = [
        r
        for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        if any(f.strip() for f in r)
    ]
    return len(rows) - 1


def quarantine_rows(ws) -> list[tuple]:
    """``(table, file, line, reason, column, value)`` of every quarantined row, in file order."""
    return ws.con.execute(
        "SELECT table_name, file, line, reason, column_name, value FROM quarantine "
        "ORDER BY table_name, file, line"
    ).fetchall()


@pytest.fixture
def write(tmp_path, monkeypatch):
    """``write(name, text, encoding='utf-8', newline='\\n')`` → the file's name, in a tmp cwd.

    Files are written byte for byte: ``text`` with ``\\n`` replaced by ``newline``.
    The working directory is the tmp folder so that messages name ``leads.csv``.
    """
    monkeypatch.chdir(tmp_path)

    def _write(
        name: str, text: str | bytes, *, encoding: str = "utf-8", newline: str = "\n"
    ) -> str:
        data = text if isinstance(text, bytes) else text.replace("\n", newline).encode(encoding)
        (tmp_path / name).write_bytes(data)
        return name

    return _write


# ---------------------------------------------------------------- simulated data sets


@pytest.fixture(scope="session")
def simulated(tmp_path_factory):
    """``simulated(scenario, leads, seed)`` → a folder with the simulator's CSVs.

    Written once per session for each (scenario, leads, seed) and shared by every
    module that asks for the same set: **read only** (a test that edits the files
    writes its own copy).
    """
    from royalroad.simulate import simulate

    folders: dict[tuple[str, int, int], Path] = {}

    def _simulated(scenario: str, leads: int, seed: int) -> Path:
        key = (scenario, leads, seed)
        if key not in folders:
            folder = tmp_path_factory.mktemp(f"sim_{scenario}_{leads}_{seed}")
            simulate(scenario, leads=leads, seed=seed).write(folder)
            folders[key] = folder
        return folders[key]

    return _simulated


@pytest.fixture(scope="session")
def ingested(simulated):
    """``ingested(scenario, leads, seed, notes=False)`` → a workspace file of that
    simulated set (leads and events; the notes too when asked), ingested once per
    session and closed: open it with ``read_only=True`` (command-line tests read it
    too)."""
    from royalroad.io.load import ingest

    paths: dict[tuple[str, int, int, bool], Path] = {}

    def _ingested(scenario: str, leads: int, seed: int, *, notes: bool = False) -> Path:
        key = (scenario, leads, seed, notes)
        if key not in paths:
            folder = simulated(scenario, leads, seed)
            path = folder / f"ws{'_notes' if notes else ''}.duckdb"
            ingest(
                leads=folder / "leads.csv",
                events=folder / "events.csv",
                notes=folder / "notes.csv" if notes else None,
                workspace=path,
            ).close()
            paths[key] = path
        return paths[key]

    return _ingested


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"shared test data not found at {SHARED_DATA} (clone shared/ beside the repository)"
        )
    return SHARED_DATA


# ---------------------------------------------------------------- engine parity

SMALL_DATA = {
    # a few hundred leads: compiling whole-stage code costs more than running it, and
    # one shuffle partition is enough
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.shuffle.partitions": "1",
}


@pytest.fixture(scope="session")
def spark():
    """One Spark ``local[2]`` session for the whole test session (starting one costs
    5–20 s); the ``--engine spark`` commands run in it too (they use the active one)."""
    import shutil

    pytest.importorskip("pyspark", reason="the spark extra: pip install 'royalroad[spark]'")
    if shutil.which("java") is None:
        pytest.fail("Spark needs Java: apt-get install default-jre-headless (.ci/run does)")
    from royalroad.remote import spark_session

    session = spark_session("local[2]", SMALL_DATA)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def parity_duck(tmp_path_factory):
    """The parity data set (``tests/parity.py``) ingested into DuckDB, once for the
    Spark and the PostgreSQL parity tests: ``(workspace, csv folder)``."""
    from parity import LEADS, SCENARIO, SEED

    from royalroad.io.load import ingest
    from royalroad.simulate import simulate

    root = tmp_path_factory.mktemp("parity")
    leads, events, notes, _ = simulate(SCENARIO, leads=LEADS, seed=SEED).write(root / "csv")
    ws = ingest(leads=leads, events=events, notes=notes)
    yield ws, root
    ws.close()


@pytest.fixture(scope="session")
def parity_reference(parity_duck):
    """DuckDB's answers on the parity data set (``parity.analyses``), computed once: what
    every other engine must give, number for number."""
    from parity import analyses

    return analyses(parity_duck[0])
