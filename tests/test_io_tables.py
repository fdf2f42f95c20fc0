"""Parquet, DuckDB-file and Ibis-URL readers against files built in tmp_path."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from royalroad.errors import InputError
from royalroad.i18n import set_lang
from royalroad.io.tables import _redact, _scrub, read_duckdb, read_parquet, read_url

ROWS = [(f"L-{i:03d}", "webinar" if i % 2 else "資料送付", i * 1.5) for i in range(1, 8)]


@pytest.fixture(autouse=True)
def _english():
    set_lang("en")
    yield
    set_lang(None)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    path = tmp_path / "crm.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE events (lead_id TEXT, activity TEXT, score REAL)")
        con.executemany("INSERT INTO events VALUES (?, ?, ?)", ROWS)
        con.execute("CREATE TABLE leads (lead_id TEXT)")
    con.close()
    return path


@pytest.fixture
def duck_db(tmp_path: Path) -> Path:
    path = tmp_path / "crm.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE events (lead_id VARCHAR, activity VARCHAR, score DOUBLE)")
        con.executemany("INSERT INTO events VALUES (?, ?, ?)", ROWS)
    return path


def _rows(raw) -> list[tuple]:
    data = raw.table.drop_columns(["_line"]).to_pylist()
    return [tuple(r.values()) for r in data]


# --- Parquet -----------------------------------------------------------------------


def test_parquet_keeps_arrow_types_and_adds_line(tmp_path: Path) -> None:
    table = pa.table(
        {
            "lead_id": pa.array(["L-1", "L-2", None]),
            "amount": pa.array([100, None, 300], pa.int32()),
            "ts": pa.array([dt.datetime(2024, 4, 1, 9)] * 3, pa.timestamp("us", tz="Asia/Tokyo")),
            "stage": pa.array(["won", "lost", "won"]).dictionary_encode(),
        }
    )
    path = tmp_path / "leads.parquet"
    pq.write_table(table, path)
    raw = read_parquet(path)
    assert (raw.kind, raw.source, raw.num_rows) == ("parquet", str(path), 3)
    assert raw.table.num_rows == 0  # the rows stream from the file when staged
    rows = pa.Table.from_batches(list(raw.batches()))
    assert rows.drop_columns(["_line"]).equals(table)
    assert rows.column("_line").to_pylist() == [1, 2, 3]
    assert rows.schema.field("_line").type == pa.int64()
    assert rows.schema == raw.table.schema
    assert raw.column("amount").to_pylist() == [100, None, 300]


def test_parquet_folder_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "events"
    folder.mkdir()
    pq.write_table(pa.table({"x": [1, 2]}), folder / "part-0.parquet")
    pq.write_table(pa.table({"x": [3]}), folder / "part-1.parquet")
    raw = read_parquet(folder)
    assert raw.column("x").to_pylist() == [1, 2, 3]
    assert raw.column("_line").to_pylist() == [1, 2, 3]


def test_parquet_own_line_column_is_renamed(tmp_path: Path) -> None:
    pq.write_table(pa.table({"_line": [7, 8]}), tmp_path / "l.parquet")
    raw = read_parquet(tmp_path / "l.parquet")
    assert raw.table.column_names == ["_line.1", "_line"]
    assert raw.column("_line.1").to_pylist() == [7, 8]
    assert raw.column("_line").to_pylist() == [1, 2]
    assert raw.notes == ("column '_line' appears more than once; this one was renamed '_line.1'",)


def test_parquet_fatal(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.parquet: file not found$"):
        read_parquet(tmp_path / "nope.parquet")
    (tmp_path / "x.parquet").write_text("lead_id\n1\n")
    with pytest.raises(
        InputError,
        match=r"x\.parquet: not a readable Parquet file \(.*magic "
        r"bytes.*\)$",
    ):
        read_parquet(tmp_path / "x.parquet")


# --- DuckDB file --------------------------------------------------------------------


def test_duckdb_single_table_is_the_default(duck_db: Path) -> None:
    raw = read_duckdb(duck_db)
    assert (raw.kind, raw.sheet, raw.num_rows) == ("duckdb", "events", 7)
    assert _rows(raw) == ROWS
    assert raw.table.column("_line").to_pylist() == list(range(1, 8))
    assert raw.table.schema.field("score").type == pa.float64()


def test_duckdb_named_table_schema_and_case(duck_db: Path) -> None:
    with duckdb.connect(str(duck_db)) as con:
        con.execute("CREATE SCHEMA crm; CREATE TABLE crm.crm.leads AS SELECT 'L-001' AS lead_id")
        con.execute("CREATE VIEW won AS SELECT * FROM events WHERE score >= 9")
    assert read_duckdb(duck_db, "EVENTS").num_rows == 7
    assert _rows(read_duckdb(duck_db, "crm.leads")) == [("L-001",)]
    assert read_duckdb(duck_db, "won").num_rows == 2
    with pytest.raises(
        InputError,
        match=r"crm\.duckdb: the database has 3 tables; name the one "
        r"to read: 'crm\.leads', 'events', 'won'$",
    ):
        read_duckdb(duck_db)
    with pytest.raises(
        InputError,
        match=r"crm\.duckdb: table 'deals' not found; available "
        r"tables: 'crm\.leads', 'events', 'won'$",
    ):
        read_duckdb(duck_db, "deals")


def test_duckdb_is_opened_read_only(duck_db: Path) -> None:
    before = duck_db.read_bytes()
    read_duckdb(duck_db)
    assert duck_db.read_bytes() == before
    with duckdb.connect(str(duck_db)) as con:  # no lock left behind
        con.execute("INSERT INTO events VALUES ('L-999', 'x', 0)")


def test_duckdb_fatal(tmp_path: Path, sqlite_db: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.duckdb: file not found$"):
        read_duckdb(tmp_path / "nope.duckdb")
    (tmp_path / "junk.duckdb").write_bytes(b"not a database" * 100)
    with pytest.raises(InputError, match=r"junk\.duckdb: not a readable DuckDB database \(.+\)$"):
        read_duckdb(tmp_path / "junk.duckdb")
    with pytest.raises(
        InputError,
        match=r"crm\.sqlite: is a SQLite database, not DuckDB; read it "
        r"with the URL sqlite:///.*crm\.sqlite$",
    ):
        read_duckdb(sqlite_db)
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    with pytest.raises(InputError, match=r"empty\.duckdb: the database has no tables$"):
        read_duckdb(tmp_path / "empty.duckdb")


# --- Ibis URL -----------------------------------------------------------------------


def test_url_sqlite_absolute_and_relative(sqlite_db: Path, monkeypatch) -> None:
    raw = read_url(f"sqlite:///{sqlite_db}", "events")
    assert (raw.kind, raw.sheet, raw.source) == ("sql", "events", f"sqlite:///{sqlite_db}")
    with sqlite3.connect(sqlite_db) as con:
        expected = con.execute("SELECT * FROM events").fetchall()
    con.close()
    assert _rows(raw) == expected == ROWS
    assert raw.table.column("_line").to_pylist() == list(range(1, 8))
    monkeypatch.chdir(sqlite_db.parent)
    assert read_url("sqlite://crm.sqlite", "Leads").num_rows == 0


def test_url_duckdb(duck_db: Path) -> None:
    raw = read_url(f"duckdb:///{duck_db}")
    assert (raw.sheet, raw.num_rows) == ("events", 7)
    assert _rows(raw) == ROWS


def test_url_missing_table_and_ambiguous(sqlite_db: Path) -> None:
    url = f"sqlite:///{sqlite_db}"
    with pytest.raises(
        InputError,
        match=r"crm\.sqlite: table 'deals' not found; available "
        r"tables: 'events', 'leads'$",
    ):
        read_url(url, "deals")
    with pytest.raises(
        InputError,
        match=r"crm\.sqlite: the database has 2 tables; name the one "
        r"to read: 'events', 'leads'$",
    ):
        read_url(url)


def test_url_file_must_exist_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    for scheme in ("sqlite", "duckdb"):
        with pytest.raises(InputError, match=r"nope\.db: file not found$"):
            read_url(f"{scheme}:///{missing}", "events")
    assert not missing.exists()


def test_url_unsupported_or_not_a_url() -> None:
    with pytest.raises(
        InputError,
        match=r"^ftp://host/x: unsupported connection URL scheme "
        r"'ftp'; supported: .*duckdb.*sqlite",
    ):
        read_url("ftp://host/x", "t")
    with pytest.raises(
        InputError,
        match=r"^'crm\.db' is not a connection URL; expected "
        r"backend://…",
    ):
        read_url("crm.db", "t")
    with pytest.raises(InputError, match=r"is not a connection URL"):
        read_url(r"C:\data\crm.db", "t")


def test_url_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"not a database" * 100)
    with pytest.raises(InputError, match=r"junk\.db: cannot connect \(.+\)$"):
        read_url(f"sqlite:///{tmp_path / 'junk.db'}", "t")


def test_password_never_shown() -> None:
    url = "postgres://rep:s3cret@db.example.com:5432/crm"
    assert _redact(url) == "postgres://rep:***@db.example.com:5432/crm"
    error = RuntimeError("auth failed for rep:s3cret\nmore")
    assert _scrub(error, url) == "auth failed for rep:***"
    assert _redact("duckdb:///x.db") == "duckdb:///x.db"


def test_message_in_japanese(tmp_path: Path) -> None:
    set_lang("ja")
    with pytest.raises(InputError, match=r"nope\.parquet: ファイルが見つかりません$"):
        read_parquet(tmp_path / "nope.parquet")
