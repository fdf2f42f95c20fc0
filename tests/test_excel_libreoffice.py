"""The workbook opened by another spreadsheet program: LibreOffice Calc, headless.

openpyxl (tests/test_excel.py) reads the XML we wrote; LibreOffice is what many
teams open it with. Every sheet must load, and text that looks like a formula must
stay text: exported to CSV, a formula would show its result, text shows itself.
``.ci/run`` installs ``libreoffice-calc-nogui``.
"""

from __future__ import annotations

import csv
import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest

import royalroad as rr
from royalroad.i18n import t
from royalroad.pipeline import AnalysisOptions, analyse
from royalroad.report.excel import write_workbook
from royalroad.simulate import simulate

PAYLOADS = {"技術打合せ": "=1+1", "見積依頼": "+2+2", "工場見学": "@SUM(A1)", "試作評価": "-3-3"}
# "ALL sheets" (-1) needs LibreOffice 7.2 or later
ALL_SHEETS_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is missing: apt-get install libreoffice-calc-nogui (.ci/run)"
    tmp = tmp_path_factory.mktemp("lo")
    simulate("manufacturing", leads=1000, seed=9).write(tmp)
    events = pd.read_csv(tmp / "events.csv", dtype=str, keep_default_na=False)
    events["activity"] = events["activity"].replace(PAYLOADS)
    events.to_csv(tmp / "events.csv", index=False)
    ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv")
    # with a plan, so that its sheets are full (they are built from user text too)
    options = AnalysisOptions(
        adjust=("industry",), pairs=2, target=1e8, period="2025-04..2025-09", benchmark="saas"
    )
    results = analyse(ws, options)
    path = write_workbook(results, tmp / "out", lang="ja")
    out = tmp / "csv"
    run = subprocess.run(
        [soffice, "--headless", "--norestore", "--convert-to", ALL_SHEETS_CSV]
        + ["--outdir", str(out), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"HOME": str(tmp / "home"), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    assert run.returncode == 0, run.stderr
    return path, out


def test_every_sheet_opens_in_libreoffice(exported):
    path, out = exported
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    files = {p.name for p in out.glob("*.csv")}
    assert files == {f"{path.stem}-{name}.csv" for name in names}
    for name in names:
        with open(out / f"{path.stem}-{name}.csv", encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows, name
    plan = out / f"{path.stem}-{t('excel.sheet.plan', lang='ja')}.csv"
    with open(plan, encoding="utf-8", newline="") as fh:
        periods = [row[0] for row in csv.reader(fh) if row and row[0].startswith("2025-")]
    assert periods[:6] == [f"2025-{m:02d}" for m in range(4, 10)], periods


def test_text_that_looks_like_a_formula_stays_text(exported):
    path, out = exported
    cells = set()
    for f in out.glob("*.csv"):
        with open(f, encoding="utf-8", newline="") as fh:
            cells |= {c for row in csv.reader(fh) for c in row}
    for payload in PAYLOADS.values():
        # shown as the text itself (with or without the quote prefix), never evaluated
        assert payload in cells or "'" + payload in cells, payload
