"""``analyze --target``: the plan (and the pace with ``--track``) in every output of one run.

The plan's own numbers are tested in tests/test_plan.py against hand computations; here:
the plan that ``analyze`` writes is the plan ``royalroad plan`` writes for the same data
and options, the workbook's plan sheet carries its periods, the report has the section,
and bad plan options stop in one line before any data is read.
"""

from __future__ import annotations

import json
import time

import openpyxl
import pytest
from typer.testing import CliRunner

from royalroad.cli import app
from royalroad.i18n import t

QUICK = ["--pairs", "0", "--max-count", "2", "--windows", "30"]
PLAN = ["--target", "1.2億", "--period", "2025-04..2025-09", "--by", "quarter"]


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def ws(ingested):
    return ingested("manufacturing", 1500, 3)


@pytest.fixture(scope="module")
def analysed(ws, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    plan_json = out / "plan.json"
    made = run("plan", "-w", str(ws), *QUICK, *PLAN, "--preset", "manufacturing", "-f", "json")
    assert made.exit_code == 0, made.stderr
    plan_json.write_text(made.stdout, encoding="utf-8")
    res = run(
        "analyze", "-w", str(ws), *QUICK, *PLAN, "--preset", "manufacturing",
        "--track", str(plan_json), "--no-backtest", "--out", str(out / "res"), "--lang", "en",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    return out, json.loads(made.stdout), res


def test_analyze_writes_the_same_plan_as_the_plan_command(analysed):
    out, standalone, res = analysed
    doc = json.loads((out / "res" / "results.json").read_text("utf-8"))
    assert doc["plan"] == standalone
    assert doc["track"]["target"] == standalone["target"] == 120_000_000
    assert doc["track"]["goal"] == standalone["goal"]["activity"]
    # the headline says what the target needs and the chance of reaching it
    text = " ".join(res.stdout.split())
    assert f"{standalone['wins_needed']:,.0f}" in text and "P(reaching the target)" in text


def test_workbook_and_report_carry_the_plan(analysed):
    out, standalone, _ = analysed
    wb = openpyxl.load_workbook(out / "res" / "royalroad.xlsx", read_only=True)
    sheet = wb[t("excel.sheet.plan", lang="en")]
    rows = list(sheet.iter_rows(values_only=True))
    periods = [p["period"] for p in standalone["periods"]]
    shown = [r[0] for r in rows if r and r[0] in periods]
    assert shown == periods
    html = (out / "res" / "report.html").read_text("utf-8")
    assert 'id="en-plan"' in html and 'id="ja-plan"' in html


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--period", "2025-13..2026-01"], "--period"),
        (["--target", "lots"], "--target"),
        (["--target", "1億", "--by", "week"], "--by"),
        (["--period", "2025-04..2025-09"], "--target"),
    ],
)
def test_bad_plan_options_stop_before_reading_data(ws, args, needle):
    started = time.monotonic()
    res = run("analyze", "-w", str(ws), *args, "--out", "unused")
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert needle in res.stderr
    assert time.monotonic() - started < 5  # not after the whole analysis
