"""Resource guards: a small upload must not take the machine down.

The bomb cases themselves (their one-line errors through the library and the CLI)
are in ``test_ingest_corpus.py``. Here: that the guards act *before* the expensive
part runs (openpyxl never opens a zip bomb, never parses a row bomb), that column
handling is linear (counted, not timed, where it can be) and fast, and that the
limits are parameters with the documented defaults.
"""

from __future__ import annotations

import os
import threading
import time

import pytest
from test_ingest_corpus import column_bomb, row_bomb, zip_bomb

import royalroad as rr
from royalroad.errors import InputError
from royalroad.io import excel, guards, mapping
from royalroad.quality import summarise


def test_default_limits_are_documented():
    assert guards.Limits() == guards.Limits(
        max_file_mb=1024,
        max_rows=20_000_000,
        max_columns=2_000,
        max_unzipped_mb=1024,
        max_zip_ratio=100,
    )


@pytest.mark.parametrize("bomb", [zip_bomb, row_bomb], ids=["zip_bomb", "row_bomb"])
def test_workbook_bombs_are_refused_before_openpyxl_reads_rows(bomb, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(excel, "_read_rows", lambda *a, **k: calls.append(a) or ([], 0))
    (tmp_path / "leads.xlsx").write_bytes(bomb())
    start = time.perf_counter()
    with pytest.raises(InputError):
        rr.ingest(leads=tmp_path / "leads.xlsx")
    assert calls == []  # no sheet row was ever parsed
    assert time.perf_counter() - start < 10


def test_zip_bomb_is_refused_before_the_workbook_is_opened(tmp_path, monkeypatch):
    import openpyxl

    opened = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(a))
    (tmp_path / "leads.xlsx").write_bytes(zip_bomb())
    with pytest.raises(InputError, match="a zip bomb"):
        excel.read_xlsx(tmp_path / "leads.xlsx")
    assert opened == []


def test_a_column_bomb_stops_at_the_first_wide_row(tmp_path):
    (tmp_path / "leads.xlsx").write_bytes(column_bomb())
    with pytest.raises(InputError, match=r"16,384 columns \(line 2\)"):
        excel.read_xlsx(tmp_path / "leads.xlsx")


def test_header_matching_is_linear_in_the_number_of_columns(monkeypatch):
    """find_header over 20 candidate rows × every preset normalises each header name a
    bounded number of times (it rebuilt the look-up for every candidate name before)."""
    calls = 0
    real = mapping.normalise_header

    def counting(name: str) -> str:
        nonlocal calls
        calls += 1
        return real(name)

    monkeypatch.setattr(mapping, "normalise_header", counting)
    for n in (1_000, 4_000):
        calls = 0
        rows = [[f"x{i}" for i in range(n)] for _ in range(20)]
        assert mapping.find_header(rows, "leads") == 0
        assert calls <= 20 * len(mapping.PRESET_ORDER) * (n + 200), (n, calls)
    # 4 times the columns, about 4 times the work (not 16)
    per_column = calls / 4_000
    assert per_column <= 20 * len(mapping.PRESET_ORDER) + 1


def test_many_columns_read_when_the_limit_is_raised(tmp_path):
    """5,000 columns (above the default limit, raised): ingest and summary work, every
    column a segment with its values, none lost. (How the work grows with the columns
    is checked by counting, in the header test above, not by a clock: a wall-time
    bound here failed on a busy machine.)"""
    n = 5_000
    header = ["lead_id", "created_at", "outcome", "closed_at"] + [f"c{i}" for i in range(n)]
    rows = [",".join(header)]
    for i in range(10):
        rows.append(
            ",".join(
                [f"L{i}", "2024-01-01", ("won", "lost")[i % 2], "2024-02-01"]
                + [f" v{i}_{j}\t" for j in range(n)]
            )
        )
    (tmp_path / "wide.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    ws = rr.ingest(leads=tmp_path / "wide.csv", max_columns=n + 4, tz="UTC")
    s = summarise(ws)
    assert (s.won, s.lost) == (5, 5)
    assert len(ws.segments()) == n
    got = ws.con.execute('SELECT "c0", "c4999" FROM leads ORDER BY lead_id').fetchall()
    assert got[0] == ("v0_0", "v0_4999")  # trimmed of the space and the tab


def test_default_column_limit_fails_fast(tmp_path):
    header = ",".join(f"c{i}" for i in range(100_000))
    (tmp_path / "wide.csv").write_text(header + "\n" + "," * 99_999 + "\n", encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(InputError, match="100,000 columns"):
        rr.ingest(leads=tmp_path / "wide.csv")
    assert time.perf_counter() - start < 10


def test_dev_zero_and_devices_are_refused_at_once():
    start = time.perf_counter()
    for device in ("/dev/zero", "/dev/urandom"):
        if os.path.exists(device):
            with pytest.raises(InputError, match="not a regular file"):
                rr.ingest(leads=device)
    assert time.perf_counter() - start < 5


def test_an_endless_pipe_is_read_only_up_to_the_limit(tmp_path):
    fifo = tmp_path / "leads.csv"
    os.mkfifo(fifo)
    written = 0

    def writer() -> None:
        nonlocal written
        try:
            with open(fifo, "wb") as fh:
                chunk = b"L1,2024-01-01,won,2024-02-01\n" * 10_000
                while written < 500 * guards.MB:
                    fh.write(chunk)
                    written += len(chunk)
        except OSError:
            pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    with pytest.raises(InputError, match="the pipe delivers more than 1.0 MB"):
        rr.ingest(leads=fifo, max_file_mb=1)
    thread.join(timeout=10)
    assert written < 20 * guards.MB  # the writer was stopped soon after the limit


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"max_rows": 0}, "max_rows"),
        ({"max_columns": -5}, "max_columns"),
        ({"max_file_mb": "10"}, "max_file_mb"),
        ({"max_zip_ratio": True}, "max_zip_ratio"),
    ],
)
def test_a_limit_must_be_a_positive_number(kwargs, name, tmp_path):
    (tmp_path / "leads.csv").write_text("lead_id,created_at,outcome,closed_at\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"^{name}: "):
        rr.ingest(leads=tmp_path / "leads.csv", **kwargs)
