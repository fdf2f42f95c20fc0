"""The command line in scripts: ``--format json`` on stdout, ``--quiet``, and step lines on
a stderr that is not a terminal (CliRunner, and a real pipe read while the command runs)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import royalroad as rr
from royalroad.cli import app

STEP = re.compile(r"^\[\s*(\d+\.\d)s\] (.+)$")
QUICK = ["--pairs", "0", "--max-count", "2", "--windows", "30"]
"""A smaller goal search: these tests are about the interface, not the statistics."""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    from royalroad.simulate import simulate

    tmp = tmp_path_factory.mktemp("scripts")
    simulate("manufacturing", leads=300, seed=5).write(tmp)
    ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv", workspace=tmp / "ws.duckdb")
    ws.close()
    return tmp


def run(*args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(app, list(args), env=env)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def steps(stderr: str) -> list[tuple[float, str]]:
    lines = stderr.splitlines()
    found = [STEP.match(line) for line in lines]
    assert all(found), lines  # nothing but step lines
    return [(float(m[1]), m[2]) for m in found if m]


def test_analyze_json_goes_to_stdout_and_files_only_with_out(workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ws = str(workspace / "ws.duckdb")
    result = run("analyze", "-w", ws, *QUICK, "--format", "json", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert data["goals"]["recommended"]["activity"] == "技術打合せ"
    assert data["quality"]["leads"] == 300
    assert list(tmp_path.iterdir()) == []  # no --out: no files, not even out/

    with_out = run("analyze", "-w", ws, *QUICK, "-f", "json", "-q", "--out", "res")
    assert with_out.exit_code == 0, with_out.stderr
    assert (tmp_path / "res" / "results.json").read_text(encoding="utf-8") == with_out.stdout
    assert with_out.stdout == result.stdout  # the same results, byte for byte
    assert {p.name for p in (tmp_path / "res").iterdir()} == {
        "results.json",
        "report.html",
        "royalroad.xlsx",
        "next_actions.parquet",
    }


def test_quiet_prints_nothing_but_writes_the_files(workspace, tmp_path):
    env = {"ROYALROAD_PROGRESS_DELAY": "0"}
    out = tmp_path / "out"
    result = run("analyze", "-w", str(workspace / "ws.duckdb"), *QUICK, "--out", str(out), "-q")
    assert result.exit_code == 0
    assert (result.stdout, result.stderr) == ("", "")
    assert (out / "report.html").is_file() and (out / "results.json").is_file()
    for command in (["goals"], ["paths"], ["next"], ["validate"]):
        res = run(*command, "-w", str(workspace / "ws.duckdb"), "--quiet", env=env)
        assert res.exit_code == 0, (command, res.stderr)
        assert (res.stdout, res.stderr) == ("", ""), command
    # an error still gets its one line
    bad = run("goals", "-w", str(tmp_path / "none.duckdb"), "--quiet")
    assert (bad.exit_code, bad.stderr) == (
        2,
        f"error: {tmp_path / 'none.duckdb'}: file not found\n",
    )


def test_step_lines_on_a_non_terminal_stderr(workspace, tmp_path):
    env = {"ROYALROAD_PROGRESS_DELAY": "0"}
    result = run(
        "analyze",
        "-w",
        str(workspace / "ws.duckdb"),
        *QUICK,
        "--out",
        str(tmp_path / "o"),
        env=env,
    )
    assert result.exit_code == 0, result.stderr
    found = steps(result.stderr)
    assert [text for _, text in found] == [
        "Opening the workspace…",
        "Checking data quality…",
        "Counting milestones…",
        "Tracing journeys…",
        "Designing next actions…",
        "Building the funnel…",
        "Comparing reps…",
        "Backtesting P(win) as of an earlier date…",
        "Done.",
    ]
    seconds = [s for s, _ in found]
    assert seconds == sorted(seconds) and seconds[0] < 1.0
    assert result.stdout.startswith("Leads that reach “技術打合せ”")

    ja = run("goals", "-w", str(workspace / "ws.duckdb"), *QUICK, "--lang", "ja", env=env)
    assert [text for _, text in steps(ja.stderr)] == [
        "ワークスペースを開いています…",
        "マイルストーンを集計中…",
        "完了しました。",
    ]


def test_a_quick_failure_prints_only_its_error_line(tmp_path, monkeypatch):
    """Step lines start only after PROGRESS_DELAY seconds: bad input stays one line."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "leads.csv").write_text("lead_id,created_at\nA,2024-01-01\n", encoding="utf-8")
    result = run("analyze", "--leads", "leads.csv")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: leads.csv")


def test_step_lines_arrive_through_a_pipe_while_the_command_runs(workspace, tmp_path):
    exe = Path(sys.executable).with_name("royalroad")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "royalroad.cli"]
    env = {**os.environ, "LANG": "C.UTF-8", "ROYALROAD_PROGRESS_DELAY": "0"}
    started = time.monotonic()
    proc = subprocess.Popen(
        [*cmd, "analyze", "-w", str(workspace / "ws.duckdb"), "--out", str(tmp_path / "o")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None and proc.stdout is not None
    arrivals = []
    for line in proc.stderr:
        arrivals.append((time.monotonic() - started, proc.poll() is None, line.rstrip("\n")))
    out = proc.stdout.read()
    assert proc.wait(timeout=300) == 0
    texts = [STEP.match(line)[2] for _, _, line in arrivals]  # type: ignore[index]
    assert texts[0] == "Opening the workspace…" and texts[-1] == "Done."
    assert "Counting milestones…" in texts and "Designing next actions…" in texts
    # the first line came while the command was still working, not all at the end
    first_at, running, _ = arrivals[0]
    assert running and first_at < arrivals[-1][0]
    assert "report: " in out and "Done." not in out


def test_cli_engine_and_pipeline_messages_exist_in_both_languages():
    from royalroad.i18n import catalogue

    fields = re.compile(r"{(\w+)(?::[^}]*)?}")
    entries = {
        k: v for k, v in catalogue().items() if k.startswith(("cli.", "engine.", "pipeline."))
    }
    assert "engine.locked_read" in entries and "cli.progress.step" in entries
    for key, entry in entries.items():
        assert set(entry) == {"en", "ja"}, key
        assert set(fields.findall(entry["en"])) == set(fields.findall(entry["ja"])), key
    used: set[str] = set()
    for folder in ("cli", "app"):
        for path in (Path(rr.__file__).parent / folder).glob("*.py"):
            text = path.read_text(encoding="utf-8")
            used |= set(re.findall(r'"((?:cli|engine|pipeline)\.[a-z_.]+)"', text))
    for path in (Path(rr.__file__).parent).glob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'"((?:engine|pipeline)\.[a-z_.]+)"', text))
    assert sorted(k for k in used if k not in catalogue()) == []


def test_step_lines_printed_late_keep_the_language_of_the_command(workspace):
    # past the delay the lines are printed by a timer thread: it must speak --lang ja too
    env = {"ROYALROAD_PROGRESS_DELAY": "0.05"}
    result = run("goals", "-w", str(workspace / "ws.duckdb"), *QUICK, "--lang", "ja", env=env)
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert len(lines) >= 2
    assert all(re.search(r"[ぁ-んァ-ン一-龥]", line) for line in lines), lines
