"""The reps section, charts, workbook sheets and app tab, wired the way the lead engineer
will wire them, and ``--anonymise`` over every file a run writes.

* The section renders in both languages with fixed chart ids; user text (a rep named
  ``<b>…</b>``) is escaped in the page and in the charts' labels.
* The funnel plot draws the limits of the result and the decomposition's stacked parts
  add up to each rep's total.
* The sheets have one value per column, numbers as numbers.
* ``analyze`` compares the reps; anonymised (the pipeline's ``anonymise``, and
  ``analyze --anonymise``) no real name is left in report.html, results.json, the
  workbook (every XML part), the next-action CSVs, their file names or the terminal;
  without it the names are there, so the search can fail.
* The app tab draws with a recording stand-in for streamlit, Markdown escaped.
* Every catalogue file has both languages with the same placeholders, no key twice.
"""

from __future__ import annotations

import json
import re
import tomllib
import zipfile
from importlib import resources
from pathlib import Path

import pytest

import royalroad as rr
from royalroad.analysis.reps import analyse_reps
from royalroad.analysis.reps_anon import Anonymiser, anonymiser
from royalroad.i18n import catalogue, t

HOSTILE = "<b>佐藤</b> & [x](http://h/b.png)"


@pytest.fixture(scope="module")
def sim(ingested):
    """1,000 simulated leads: the pipeline's results (no backtest) and the reps result."""
    path = ingested("manufacturing", 1000, 3)
    truth = json.loads((path.parent / "truth.json").read_text(encoding="utf-8"))
    with rr.open_workspace(path, read_only=True) as ws:  # the command-line test opens it too
        results = rr.analyse(ws, backtest=False)
        reps = analyse_reps(ws, goals=results.goals, paths=results.paths)
    return Sim((results, reps, sorted(truth["reps"])), path)


class Sim(tuple):
    """(results, reps, names), and the workspace file they came from."""

    def __new__(cls, parts: tuple, workspace: Path):
        obj = super().__new__(cls, parts)
        obj.workspace = workspace
        return obj


def _render(section, lang: str) -> str:
    from royalroad.report.html import _env

    def tr(key: str, **params) -> str:
        return t(key, lang=lang, **params)

    return _env().get_template(section.template).render(s=section, _=tr, lang=lang, aid=f"{lang}-")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_section_renders_with_fixed_chart_ids(sim, lang):
    from royalroad.report.sections_reps import reps as section

    _, reps, names = sim
    s = section(reps, lang)
    assert s.has_content() and [c.chart_id for c in s.charts] == [
        f"rr-reps-funnel-{lang}",
        f"rr-reps-gap-{lang}",
    ]
    html = _render(s, lang)
    assert t("reps.heading", lang=lang) in html and names[0] in html
    assert len(s.reach.rows) == len(reps.reps) + 1  # the reps and the team
    assert section(None, lang).has_content() is False


def test_user_text_is_escaped_in_the_page_and_the_charts(sim):
    from royalroad.report.sections_reps import reps as section

    _, reps, _ = sim
    hostile = Anonymiser({reps.reps[0].rep: HOSTILE}).reps(reps)
    s = section(hostile, "en")
    html = _render(s, "en")
    assert "<b>佐藤</b>" not in html and "&lt;b&gt;佐藤&lt;/b&gt; &amp;" in html
    labels = json.dumps([c.figure for c in s.charts], ensure_ascii=False)
    assert "<b>佐藤</b>" not in labels and "&lt;b&gt;佐藤&lt;/b&gt;" in labels


def test_charts_draw_the_limits_and_the_parts_of_each_gap(sim):
    from royalroad.report.charts_reps import funnel_plot, gap_chart

    _, reps, _ = sim
    fig = funnel_plot(reps, "en").figure
    upper = next(tr for tr in fig["data"] if tr.get("legendgroup") == "95" and tr["showlegend"])
    assert list(upper["y"]) == [p["hi95"] for p in reps.funnel["reach"]]
    points = fig["data"][-1]
    assert list(points["x"]) == [r.metrics["reach"].n for r in reps.reps]
    bars = gap_chart(reps, "en").figure["data"]
    totals = bars[-1]["x"]
    for i, total in enumerate(totals):
        assert sum(b["x"][i] for b in bars[:3]) == pytest.approx(total, abs=1e-9)


def test_sheets_have_one_typed_value_per_column(sim):
    from royalroad.report.sheets_reps import reps as sheets

    _, reps, _ = sim
    tables = sheets(reps, "ja")
    assert [tb.key for tb in tables] == ["reps", "reps_rates", "reps_practices"]
    for tb in tables:
        assert all(len(row) == len(tb.columns) for row in tb.rows), tb.key
    head = tables[0]
    col = [c.name for c in head.columns].index("reach")
    assert [row[col] for row in head.rows[: len(reps.reps)]] == [
        r.metrics["reach"].rate for r in reps.reps
    ]
    assert len(tables[1].rows) == (len(reps.reps) + 1) * 5
    assert len(tables[2].rows) == len(reps.practices)
    empty = sheets(None, "en")
    assert [len(tb.rows) for tb in empty] == [0, 0, 0]


def _everything(results, out: Path) -> dict[str, bytes]:
    """Every file a run writes, and the next actions' CSVs (one per owner)."""
    from royalroad.pipeline import write_outputs
    from royalroad.presenters.nba_csv import write_by_owner, write_next_csv

    write_outputs(results, out, lang="ja")
    write_next_csv(results.next, out / "next.csv")
    write_by_owner(results.next, out / "by_owner")
    files = {}
    for path in sorted(out.rglob("*")):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                for member in z.namelist():
                    files[f"{path.name}:{member}"] = z.read(member)
        elif path.is_file():
            files[str(path.relative_to(out))] = path.read_bytes()
    files["(file names)"] = "\n".join(str(p.relative_to(out)) for p in out.rglob("*")).encode()
    return files


def _found(files: dict[str, bytes], names: list[str]) -> set[tuple[str, str]]:
    hits = set()
    for name in names:
        for part in (name, *name.split()):
            needle = part.encode("utf-8")
            hits |= {(part, f) for f, data in files.items() if needle in data}
    return hits


def test_anonymise_leaves_no_real_name_in_the_report_results_workbook_or_csvs(sim, tmp_path):
    from royalroad.pipeline import anonymised

    results, reps, names = sim
    assert results.reps is not None  # analyze compares the reps when there is a rep column
    plain = _everything(results, tmp_path / "plain")
    shown = _found(plain, names)
    for kind in ("report.html", "results.json", "royalroad.xlsx", "next.csv", "(file names)"):
        assert any(kind in f for _, f in shown), kind  # without it, names are everywhere

    hidden = _everything(anonymised(results), tmp_path / "anon")
    assert _found(hidden, names) == set()
    label = anonymiser(reps, lang="en").names[sorted(names)[0]]
    assert label == "Rep A"
    assert label.encode() in hidden["report.html"] and label.encode() in hidden["next.csv"]
    # the same person keeps the same letter in the report, the JSON and the CSV
    rows = json.loads(hidden["results.json"])["reps"]["reps"]
    assert any(r["rep"] == label for r in rows)


def test_analyze_anonymise_on_the_command_line(sim, tmp_path):
    from typer.testing import CliRunner

    from royalroad.cli import app

    _, _, names = sim
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        ["analyze", "-w", str(sim.workspace), "--no-backtest", "--anonymise"]
        + ["--pairs", "0", "--out", str(out)],
    )
    assert res.exit_code == 0, res.stderr
    files = {}
    for path in sorted(out.rglob("*")):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                files |= {f"{path.name}:{m}": z.read(m) for m in z.namelist()}
        else:
            files[path.name] = path.read_bytes()
    files["(stdout)"] = res.stdout.encode()
    assert _found(files, names) == set()
    assert b"Rep A" in files["results.json"]


def test_anonymiser_helpers():
    anon = Anonymiser.from_names(["鈴木 美咲", "佐藤 健", None, "佐藤 健"], lang="en")
    assert anon.names == {"佐藤 健": "Rep A", "鈴木 美咲": "Rep B"}  # sorted, None left out
    assert anon.text("佐藤 健 → 鈴木 美咲") == "Rep A → Rep B"
    assert anon.data({"佐藤 健": ["鈴木 美咲", 3, ("佐藤 健",)]}) == {
        "Rep A": ["Rep B", 3, ("Rep A",)]
    }
    groups = Anonymiser.from_names(["関東", "関西"], people=False, lang="ja")
    assert groups.names == {"関東": "グループA", "関西": "グループB"}
    long = Anonymiser({"佐藤": "X", "佐藤 健": "Y"})
    assert long.text("佐藤 健と佐藤") == "YとX"  # the longer name first


class FakeSt:
    """Records what the tab draws."""

    def __init__(self):
        self.calls: list[tuple[str, object]] = []

    def __getattr__(self, name):
        def record(*args, **kwargs):
            self.calls.append((name, args[0] if args else None, kwargs))

        return record


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_app_tab_draws_every_part_with_markdown_escaped(sim, lang):
    from royalroad.app import tab_reps

    _, reps, _ = sim
    st = FakeSt()
    tab_reps.render(st, Anonymiser({reps.reps[0].rep: HOSTILE}).reps(reps), lang)
    kinds = [c[0] for c in st.calls]
    assert kinds.count("plotly_chart") == 2 and kinds.count("dataframe") >= 2
    keys = [c[2]["key"] for c in st.calls if c[0] == "plotly_chart"]
    assert len(set(keys)) == len(keys)
    text = " ".join(str(c[1]) for c in st.calls if c[0] in ("markdown", "caption", "info"))
    assert "<b>佐藤</b>" not in text and "[x](" not in text
    frames = [c[1] for c in st.calls if c[0] == "dataframe"]
    assert all(f.columns.is_unique for f in frames)
    assert HOSTILE in frames[0].iloc[:, 1].tolist()  # a dataframe shows text as text
    st_none = FakeSt()
    tab_reps.render(st_none, None, lang)
    assert st_none.calls == []


def test_every_catalogue_file_has_both_languages_and_no_key_twice():
    fields = re.compile(r"{(\w+)}")
    seen: dict[str, str] = {}
    files = sorted(
        f for f in resources.files("royalroad.i18n").iterdir() if f.name.endswith(".toml")
    )
    assert any(f.name == "reps.toml" for f in files)
    for f in files:
        for key, entry in tomllib.loads(f.read_text(encoding="utf-8")).items():
            assert key not in seen, (key, f.name, seen.get(key))
            seen[key] = f.name
            assert set(entry) == {"en", "ja"}, (f.name, key)
            assert set(fields.findall(entry["en"])) == set(fields.findall(entry["ja"])), key
    assert set(seen) == set(catalogue())
    # every reps message the code names exists
    root = Path(rr.__file__).parent
    used: set[str] = set()
    for path in [*root.rglob("*reps*.py"), *root.rglob("reps.html.j2")]:
        found = re.findall(r'"(reps\.[a-z_.0-9]+)"', path.read_text(encoding="utf-8"))
        used |= {k for k in found if not k.endswith((".j2", ".py"))}
    assert used and used <= set(catalogue()), used - set(catalogue())
