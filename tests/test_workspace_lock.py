"""Several processes on one workspace: readers share it, a conflict is one line.

Real processes, not threads: DuckDB's file lock is per process. The holder of a lock
is another Python process started here; its program name and PID, as the message
names them, are read from ``/proc`` and ``Popen`` independently of royalroad.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import royalroad as rr
from royalroad.cli import app

ROOT = Path(__file__).resolve().parents[1]


def royalroad_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("royalroad")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "royalroad.cli"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    from royalroad.simulate import simulate

    tmp = tmp_path_factory.mktemp("lock")
    simulate("manufacturing", leads=300, seed=11).write(tmp)
    ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv", workspace=tmp / "ws.duckdb")
    ws.close()
    return tmp


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Holder:
    """Another process holding the workspace open (read-only or for writing)."""

    def __init__(self, path: Path, *, read_only: bool) -> None:
        code = (
            "import duckdb, sys, time\n"
            f"con = duckdb.connect({str(path)!r}, read_only={read_only})\n"
            "con.execute('SELECT count(*) FROM leads').fetchall()\n"
            "print('ready', flush=True)\n"
            "sys.stdin.read()\n"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"

    @property
    def name(self) -> str:
        """``python3.11, PID 1234``: the holder as the message names it."""
        exe = Path(os.readlink(f"/proc/{self.proc.pid}/exe")).name
        return f"{exe}, PID {self.proc.pid}"

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def test_four_parallel_analyses_of_one_workspace_all_succeed(workspace, tmp_path):
    ws = workspace / "ws.duckdb"
    before = _digest(ws)
    env = {**os.environ, "ROYALROAD_PROGRESS_DELAY": "0", "LANG": "C.UTF-8"}
    quick = ["--pairs", "0", "--max-count", "2", "--windows", "30"]  # a smaller goal search
    procs = [
        subprocess.Popen(
            [*royalroad_cmd(), "analyze", "-w", str(ws), "--out", str(tmp_path / f"o{i}"), *quick],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(4)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "lock" not in err.lower() and "error" not in err.lower(), err
        assert "report" in out
    results = [(tmp_path / f"o{i}" / "results.json").read_bytes() for i in range(4)]
    assert len(set(results)) == 1  # the same workspace gives the same bytes
    assert json.loads(results[0])["goals"]["recommended"]["activity"] == "技術打合せ"
    assert _digest(ws) == before  # read-only: the workspace file is untouched
    assert not ws.with_name(ws.name + ".wal").exists()


def test_readers_share_a_workspace_another_process_reads(workspace):
    holder = Holder(workspace / "ws.duckdb", read_only=True)
    try:
        result = CliRunner().invoke(
            app, ["validate", "--workspace", str(workspace / "ws.duckdb"), "-f", "json"]
        )
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["leads"] == 300
    finally:
        holder.close()


def test_ingest_into_a_workspace_another_process_reads_is_one_line(workspace, tmp_path):
    ws = tmp_path / "ws.duckdb"
    ws.write_bytes((workspace / "ws.duckdb").read_bytes())
    before = _digest(ws)
    holder = Holder(ws, read_only=True)
    try:
        result = CliRunner().invoke(
            app,
            [
                "ingest",
                "--leads",
                str(workspace / "leads.csv"),
                "--events",
                str(workspace / "events.csv"),
                "--workspace",
                str(ws),
            ],
        )
        assert result.exit_code == 2, result.stdout + result.stderr
        assert result.stderr == (
            f"error: {ws}: the workspace is open in another process ({holder.name}); "
            "wait until it finishes, or write to another file with --workspace\n"
        )
    finally:
        holder.close()
    assert _digest(ws) == before  # neither replaced nor touched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws.duckdb"]


def test_reading_a_workspace_being_written_is_one_line(workspace, tmp_path):
    ws = tmp_path / "ws.duckdb"
    ws.write_bytes((workspace / "ws.duckdb").read_bytes())
    holder = Holder(ws, read_only=False)
    try:
        for command in (["goals"], ["analyze", "--out", str(tmp_path / "out")]):
            result = CliRunner().invoke(app, [*command, "--workspace", str(ws)])
            assert result.exit_code == 2, result.stdout + result.stderr
            assert result.stderr == (
                f"error: {ws}: the workspace is being written by another process "
                f"({holder.name}); wait until that ingest finishes (or close the Python "
                "session that opened it for writing), then run the command again\n"
            )
    finally:
        holder.close()
    assert not (tmp_path / "out").exists()


def test_analyses_write_nothing_to_a_read_only_workspace(workspace):
    """Temporary tables (Workspace.materialized) and meta() work on a read-only connection."""
    ws = rr.open_workspace(workspace / "ws.duckdb", read_only=True)
    try:
        results = rr.analyse(ws)
        assert results.goals.recommended is not None
        assert ws.meta()["as_of"] and ws.as_of is not None
        with pytest.raises(Exception, match="read-only"):
            ws.con.execute("CREATE TABLE x (a INT)")
    finally:
        ws.close()
