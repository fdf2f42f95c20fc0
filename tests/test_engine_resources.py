"""Bounded memory: every connection sets DuckDB's memory limit, threads and a spill
folder; ``--memory-limit`` and the API's ``memory_limit`` change the limit."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from royalroad import engine
from royalroad.cli import app
from royalroad.errors import InputError
from royalroad.io.load import ingest

LEADS = "lead_id,created_at,outcome,closed_at\nL1,2024-01-01,won,2024-02-01\n"
EVENTS = "lead_id,activity,ts\nL1,call,2024-01-05\n"


def settings(con) -> tuple[str, int, str]:
    return con.execute(
        "SELECT current_setting('memory_limit'), current_setting('threads'), "
        "current_setting('temp_directory')"
    ).fetchall()[0]


def test_a_connection_is_bounded_by_default():
    limit, threads, temp = settings(engine.connect())
    total = engine.physical_memory()
    assert total is not None
    expected = min(total * engine.MEMORY_SHARE, engine.MEMORY_CAP_GB * 2**30)
    # DuckDB shows the limit in its own units (e.g. "7.6 GiB"): read it back in bytes
    number, unit = limit.split()
    shown = float(number) * {"MiB": 2**20, "GiB": 2**30}[unit]
    assert abs(shown - expected) / expected < 0.01
    assert threads == len(os.sched_getaffinity(0))
    assert os.path.basename(temp).startswith(f"royalroad-spill-{os.getpid()}-")


def test_two_connections_spill_to_different_folders():
    assert settings(engine.connect())[2] != settings(engine.connect())[2]


@pytest.mark.parametrize(
    ("given", "expected"),
    [("4GB", "4GB"), ("4gb", "4GB"), ("512MiB", "512MIB"), ("1.5GB", "1.5GB"), ("100", "100B")],
)
def test_memory_setting_sizes(given, expected):
    assert engine.memory_setting(given) == expected


def test_memory_setting_share_of_the_machine():
    total = engine.physical_memory()
    assert engine.memory_setting("25%") == f"{int(total * 0.25 / 2**20)}MiB"


@pytest.mark.parametrize("bad", ["lots", "0GB", "-1GB", "150%", "4 parsecs"])
def test_bad_memory_limit_is_an_input_error(bad):
    with pytest.raises(InputError, match="not a memory size"):
        engine.memory_setting(bad)


def test_api_memory_limit(tmp_path):
    (tmp_path / "l.csv").write_text(LEADS)
    (tmp_path / "e.csv").write_text(EVENTS)
    ws = ingest(leads=tmp_path / "l.csv", events=tmp_path / "e.csv", memory_limit="300MB")
    assert settings(ws.con)[0] == "286.1 MiB"  # DuckDB's MB are 10^6 bytes
    ws.close()


def test_env_and_process_default(monkeypatch):
    monkeypatch.setenv("ROYALROAD_MEMORY_LIMIT", "1GB")
    assert settings(engine.connect())[0] == "953.6 MiB"
    engine.set_default_memory_limit("2GB")
    try:
        assert settings(engine.connect())[0] == "1.8 GiB"
    finally:
        engine.set_default_memory_limit(None)


def test_cli_memory_limit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "l.csv").write_text(LEADS)
    (tmp_path / "e.csv").write_text(EVENTS)
    seen: list[str | None] = []
    original = engine.set_resources

    def spy(con, memory_limit=None):
        original(con, memory_limit)
        seen.append(settings(con)[0])

    monkeypatch.setattr(engine, "set_resources", spy)
    args = ["ingest", "--leads", "l.csv", "--events", "e.csv", "-w", "ws.duckdb", "-q"]
    result = CliRunner().invoke(app, [*args, "--memory-limit", "300MB"])
    assert result.exit_code == 0, result.stderr
    assert seen and set(seen) == {"286.1 MiB"}
    bad = CliRunner().invoke(app, [*args, "--memory-limit", "lots"])
    assert bad.exit_code == 2
    assert "--memory-limit lots: not a memory size" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_spill_is_capped_at_half_the_free_disk(tmp_path):
    import shutil

    con = engine.connect()
    temp = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    cap = con.execute("SELECT current_setting('max_temp_directory_size')").fetchone()[0]
    number, unit = cap.split()
    shown = float(number) * {"MiB": 2**20, "GiB": 2**30, "TiB": 2**40}[unit]
    free = shutil.disk_usage(os.path.dirname(temp)).free
    assert abs(shown - max(2**30, free / 2)) / shown < 0.05


def test_running_out_of_spill_space_is_one_line_not_a_bug(tmp_path, monkeypatch):
    """A run that needs more spill space than allowed stops with a message naming the
    two remedies, exit 1, and no traceback (it was reported as a bug in royalroad)."""
    from royalroad.simulate import simulate

    leads, events, _, _ = simulate("saas", leads=4000, seed=5).write(tmp_path / "csv")
    monkeypatch.setattr(engine, "spill_cap", lambda folder: "1MiB")
    # --memory-limit sets the process default: restored after the test
    monkeypatch.setattr(engine, "_process_memory_limit", None)
    result = CliRunner().invoke(
        app,
        [
            "ingest",
            "--leads",
            str(leads),
            "--events",
            str(events),
            "--memory-limit",
            "8MB",
            "--workspace",
            str(tmp_path / "ws.duckdb"),
            "--lang",
            "en",
        ],
    )
    assert result.exit_code == 1, result.output
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, result.stderr
    assert "--memory-limit" in lines[0] and "TMPDIR" in lines[0] and "bug" not in lines[0]
