"""Issue 15, what leaves the workspace: the ``triggers`` command (ja/en, table/JSON), a bad
dictionary as one line with exit code 2, notes as user text (HTML and rich markup shown
as text), personal data masked in the JSON, the report section, the workbook sheets and
the app tab (the test searches their bytes), ``--no-snippets``, and determinism.
"""

from __future__ import annotations

import json
import zipfile

import pandas as pd
import pytest
from typer.testing import CliRunner

import royalroad as rr
from royalroad.analysis.triggers import triggers
from royalroad.cli import app
from royalroad.i18n import t
from royalroad.simulate import simulate

SECRETS = (
    "山田",
    "太郎",
    "yamada.taro@example.co.jp",
    "090-1234-5678",
    "03-1234-5678",
    "+81 3-1234-5678",
    "+81-90-1234-5678",
    "(03) 1234-5678",
    "0312345678",
    "https://crm.example.com/deal/123",
    "John Smith",
    "john.smith@acme.com",
    "+1 (415) 555-0100",
    "www.acme.com",
)
HOSTILE = (
    "山田太郎様(yamada.taro@example.co.jp、携帯 090-1234-5678、代表 03-1234-5678)に比較資料を送付。"
    "詳細は https://crm.example.com/deal/123 を参照",
    "代表 +81 3-1234-5678、直通 +81-90-1234-5678、FAX (03) 1234-5678、"
    "旧番号 0312345678。比較表で説明",
    "Call with Mr. John Smith (john.smith@acme.com, +1 (415) 555-0100): they reviewed the "
    "comparison sheet. See www.acme.com/deal",
    "<script>alert('x')</script>比較資料を送付<img src=x onerror=alert(1)>",
    "[bold red]予算未確保[/bold red] のため見送り",
)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The manufacturing simulation, with notes holding personal data and payloads written
    for the first won and lost leads (so that they are among the examples)."""
    tmp = tmp_path_factory.mktemp("triggers_out")
    simulate("manufacturing", leads=1500, seed=9).write(tmp)
    leads = pd.read_csv(tmp / "leads.csv", dtype=str, keep_default_na=False)
    notes = pd.read_csv(tmp / "notes.csv", dtype=str, keep_default_na=False)
    won = leads[leads.outcome == "won"].head(3)
    lost = leads[leads.outcome == "lost"].head(3)
    rows = []
    for r in won.itertuples():
        for text in HOSTILE[:4]:
            rows.append({"lead_id": r.lead_id, "ts": r.created_at, "text": text, "author": ""})
    for r in lost.itertuples():
        rows.append({"lead_id": r.lead_id, "ts": r.created_at, "text": HOSTILE[4], "author": ""})
    pd.concat([notes, pd.DataFrame(rows)]).to_csv(tmp / "notes.csv", index=False)
    ws_path = tmp / "ws.duckdb"
    ws = rr.ingest(
        leads=tmp / "leads.csv",
        events=tmp / "events.csv",
        notes=tmp / "notes.csv",
        tz="Asia/Tokyo",
        workspace=ws_path,
    )
    res = triggers(ws, goal_options=FAST)
    ws.close()
    return tmp, ws_path, res


FAST = {"pairs": 0}
"""A goal search without pairs: the same statistics, fewer candidates, quicker tests."""


def cli(*args):
    return CliRunner().invoke(app, ["triggers", "--pairs", "0", *args])


@pytest.fixture(scope="module")
def outputs(hostile):
    """Each way of running the command once: JSON and table, Japanese and English."""
    _, ws, _ = hostile
    runs = {
        "json_ja": cli("-w", str(ws), "--lang", "ja", "-f", "json", "-q"),
        "json_en": cli("-w", str(ws), "--lang", "en", "-f", "json", "-q", "--no-milestones"),
        "table_ja": cli("-w", str(ws), "--lang", "ja", "--no-milestones"),
        "table_en": cli("-w", str(ws), "--lang", "en", "--top", "3"),
    }
    for name, out in runs.items():
        assert out.exit_code == 0, (name, out.output)
    return runs


def test_json_in_both_languages_has_the_fields_and_no_personal_data(outputs):
    for name in ("json_ja", "json_en"):
        raw = outputs[name].stdout_bytes
        for secret in SECRETS:
            assert secret.encode() not in raw, (name, secret)
        d = json.loads(raw)
        assert {"term", "lang", "won", "lost", "log_odds", "z", "q"} <= set(d["terms"][0])
        cat = next(c for c in d["categories"] if c["category"] == "比較資料")
        for key in (
            "category",
            "won",
            "lost",
            "log_odds",
            "z",
            "q",
            "top_stage",
            "before_goal_share",
            "examples",
        ):
            assert key in cat
        assert cat["examples"]
        ex = cat["examples"][0]
        assert ex["text"][ex["highlight"][0] : ex["highlight"][1]]
        assert any("[email]" in e["text"] or "[phone]" in e["text"] for e in cat["examples"])
    ja, en = (json.loads(outputs[n].stdout) for n in ("json_ja", "json_en"))
    assert "受注したリードのメモ" in ja["sentence"] and "Won leads' notes" in en["sentence"]
    cat = next(c for c in ja["categories"] if c["category"] == "比較資料")
    assert cat["milestone"]["eligible"] is True and cat["milestone"]["q"] < 1e-6
    assert ja["milestones_tried"] > 0 and en["milestones_tried"] == 0


def test_table_in_both_languages_shows_user_text_as_text(outputs):
    ja, en = outputs["table_ja"].stdout, outputs["table_en"].stdout
    assert "商談メモの意思決定トリガー" in ja and "比較資料" in ja and "受注に特徴的な語" in ja
    assert "<script>alert('x')</script>" in ja  # shown as text, never run
    assert "[bold red]" in ja  # rich markup in a note is printed, not applied
    for secret in SECRETS:
        assert secret not in ja and secret not in en, secret
    assert "Decision triggers in the notes" in en
    assert "comparison material" in en and "Terms typical of wins" in en
    assert "In the goals grid with the note milestones" in en


def test_no_snippets_leaves_every_example_out(hostile):
    _, ws, _ = hostile
    out = cli("-w", str(ws), "--lang", "en", "-f", "json", "-q", "--no-snippets", "--no-milestones")
    assert out.exit_code == 0, out.output
    d = json.loads(out.stdout)
    assert all(not c["examples"] for c in d["categories"])
    assert all(not x["examples"] for x in d["terms"])
    assert "<script>" not in out.stdout and "見送り" not in json.dumps(
        [c["examples"] for c in d["categories"]]
    )
    assert all(c["milestone"] is None for c in d["categories"]) and d["milestones_tried"] == 0
    table = cli("-w", str(ws), "--lang", "en", "--no-snippets", "--no-milestones")
    assert "Examples left out (--no-snippets)." in table.stdout


def test_output_is_deterministic(hostile, outputs):
    _, ws, _ = hostile
    again = cli("-w", str(ws), "--lang", "ja", "-f", "json", "-q")
    assert again.stdout_bytes == outputs["json_ja"].stdout_bytes


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("categories:\n  a:\n    ja: [x\n", 4, "not valid YAML"),
        ("categories:\n  a:\n    ja: x\n", 3, "must be a list"),
        ("categories:\n  a:\n    colour: red\n", 3, "unknown key 'colour'"),
    ],
)
def test_a_bad_dictionary_is_one_line_and_exit_code_2(hostile, tmp_path, text, line, what):
    _, ws, _ = hostile
    f = tmp_path / "my triggers.yaml"
    f.write_text(text, encoding="utf-8")
    out = cli("-w", str(ws), "--triggers", str(f), "--lang", "en")
    assert out.exit_code == 2
    err = out.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert str(f) in err and f"line {line}" in err and what in err
    assert "Traceback" not in out.output
    ja = cli("-w", str(ws), "--triggers", str(f), "--lang", "ja")
    assert ja.exit_code == 2 and f"{line} 行目" in ja.stderr


def test_bad_options_are_one_line(hostile):
    _, ws, _ = hostile
    out = cli("-w", str(ws), "--min-count", "0", "--lang", "en")
    assert out.exit_code == 2 and "--min-count: 0" in out.stderr


def test_a_users_dictionary_changes_the_categories(hostile, tmp_path):
    _, ws, _ = hostile
    f = tmp_path / "mine.yaml"
    f.write_text(
        "use_defaults: false\ncategories:\n  図面:\n"
        "    label: {en: drawings, ja: 図面}\n    ja: [図面を受領]\n",
        encoding="utf-8",
    )
    out = cli("-w", str(ws), "--triggers", str(f), "-f", "json", "-q", "--no-milestones")
    assert out.exit_code == 0, out.output
    d = json.loads(out.stdout)
    assert [c["category"] for c in d["categories"]] == ["図面"]
    assert d["settings"]["dictionary"] == str(f)


# ---------------------------------------------------------------- report, workbook, app


def render_section(res, lang):
    from royalroad.report.html import _env
    from royalroad.report.sections_triggers import triggers as section

    s = section(res, lang)
    return s, _env().get_template(s.template).render(
        s=s, _=lambda k, **p: t(k, lang=lang, **p), lang=lang, aid=f"{lang}-"
    )


def test_report_section_is_escaped_masked_and_deterministic(hostile):
    _, _, res = hostile
    for lang in ("ja", "en"):
        s, html = render_section(res, lang)
        raw = html.encode()
        for secret in SECRETS:
            assert secret.encode() not in raw, (lang, secret)
        assert b"<script>alert" not in raw and b"<img src=x" not in raw
        assert b"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in raw
        assert (
            b"<mark>" in raw and s.chart is not None and s.chart.chart_id == f"rr-triggers-{lang}"
        )
        assert render_section(res, lang)[1] == html
    _, html = render_section(res, "ja")
    assert "商談メモの意思決定トリガー" in html and "比較資料" in html


def test_empty_section_is_left_out():
    from royalroad.report.sections_triggers import triggers as section

    assert not section(None, "en").has_content()


def test_workbook_sheets_keep_text_as_text_and_no_personal_data(hostile, tmp_path):
    import xlsxwriter

    from royalroad.report import excel
    from royalroad.report.sheets_triggers import triggers as sheets

    _, _, res = hostile
    tables = sheets(res, "ja")
    assert [tb.key for tb in tables] == [
        "triggers_categories",
        "triggers_terms",
        "triggers_examples",
    ]
    path = tmp_path / "t.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    formats = excel._Formats(wb)
    for tb in tables:
        excel._write_table(wb, tb, "ja", formats)
    wb.close()
    with zipfile.ZipFile(path) as z:
        raw = b"".join(z.read(n) for n in z.namelist())
    for secret in SECRETS:
        assert secret.encode() not in raw, secret
    cats = pd.read_excel(path, sheet_name="トリガー", header=0, skiprows=[1])
    row = cats[cats.category == "比較資料"].iloc[0]
    by = {c.category: c for c in res.categories}
    assert row.won == by["比較資料"].stats.won and row.z == pytest.approx(by["比較資料"].stats.z)
    assert bool(row.eligible) is True
    empty = sheets(None, "en")
    assert all(not tb.rows for tb in empty)


class FakeSt:
    """Records what the tab draws."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def record(*args, **kwargs):
            self.calls.append((name, args))

        return record


def test_app_tab_escapes_markdown_and_masks(hostile):
    from royalroad.app.tab_triggers import render

    _, _, res = hostile
    st = FakeSt()
    render(st, res, "ja")
    names = [c[0] for c in st.calls]
    assert "dataframe" in names and "plotly_chart" in names
    text = "\n".join(str(a) for _, args in st.calls for a in args if isinstance(a, str))
    for secret in SECRETS:
        assert secret not in text, secret
    assert "<script>" not in text  # escaped for Markdown
    assert "\\<script\\>" in text
    none = FakeSt()
    render(none, None, "en")
    assert [c[0] for c in none.calls] == ["info"]
    why = FakeSt()
    render(why, None, "en", "no *dictionary*")
    assert why.calls == [("info", ("no \\*dictionary\\*",))]


def test_trigger_messages_exist_in_both_languages_with_the_same_placeholders():
    import re
    import tomllib
    from importlib import resources
    from pathlib import Path

    from royalroad.i18n import catalogue

    folder = resources.files("royalroad.i18n")
    own = tomllib.loads(folder.joinpath("triggers.toml").read_text(encoding="utf-8"))
    others: set[str] = set()
    for f in folder.iterdir():
        if f.name.endswith(".toml") and f.name != "triggers.toml":
            others |= set(tomllib.loads(f.read_text(encoding="utf-8")))
    assert len(own) > 100 and not set(own) & others  # no key defined in two files
    fields = re.compile(r"{(\w+)}")
    for key, entry in own.items():
        assert set(entry) == {"en", "ja"}, key
        assert set(fields.findall(entry["en"])) == set(fields.findall(entry["ja"])), key
    used: set[str] = set()
    root = Path(rr.__file__).parent
    for path in [*root.rglob("*triggers*.py"), *root.glob("text/*.py")]:
        used |= set(re.findall(r'"(triggers\.[a-z_.]+)"', path.read_text(encoding="utf-8")))
    used = {k for k in used if not k.endswith(".") and k != "triggers.yaml"}  # not keys
    assert used and used <= set(catalogue()), used - set(catalogue())


def test_cli_without_notes_is_one_line_exit_2(hostile):
    """Leads and events but no notes: nothing to mine, said in one line before the search."""
    tmp = hostile[0]
    result = cli("--leads", str(tmp / "leads.csv"), "--events", str(tmp / "events.csv"))
    assert result.exit_code == 2, result.stdout
    assert result.stderr.strip().splitlines()[-1] == (
        "error: triggers: no notes written before a close; give the notes export with "
        "--notes (lead_id, ts, text)"
    )
    assert [x for x in result.stderr.splitlines() if x and not x.startswith("[")] == [
        result.stderr.strip().splitlines()[-1]
    ]
