"""``royalroad reps`` on the command line: JSON and tables in English and Japanese, the
same numbers in both, ``--anonymise`` leaving no real name in any byte it prints, an
unknown column in one line with exit code 2, byte-identical reruns.

The command runs on a workspace file of 1,000 simulated leads (the statistics are
checked in ``test_reps.py`` and ``test_reps_stats.py``; here, the command itself).
"""

from __future__ import annotations

import json
from functools import cache

import pytest
from typer.testing import CliRunner

LANGS = ("en", "ja")


@pytest.fixture(scope="module")
def sim(ingested):
    path = ingested("manufacturing", 1000, 3)
    names = sorted(json.loads((path.parent / "truth.json").read_text(encoding="utf-8"))["reps"])
    return path, names


@pytest.fixture(scope="module")
def run(sim):
    """``run(*options)`` → the result of ``royalroad reps --workspace … *options``, each
    distinct command run once per module."""
    ws, _ = sim

    @cache
    def invoke(*options: str):
        result = CliRunner().invoke(app(), ["reps", "--workspace", str(ws), *options])
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        return result

    return invoke


def app():
    from royalroad.cli import app as typer_app

    return typer_app


def test_json_has_the_fields_the_issue_asks_for(run):
    res = run("--format", "json", "--lang", "en")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["by"] == "rep" and data["goal"]["activity"] == "技術打合せ"
    fields = {
        "rep",
        "leads",
        "won",
        "lost",
        "open",
        "reach",
        "reach_shrunk",
        "reach_ci",
        "post_goal_win_rate",
        "post_goal_shrunk",
        "observed_expected",
        "funnel_plot_zone",
        "gap_reach",
        "gap_conversion",
    }
    for row in data["reps"]:
        assert fields <= set(row), fields - set(row)
        assert row["gap_reach"] + row["gap_conversion"] + row["gap_no_goal"] == pytest.approx(
            row["gap_total"], abs=1e-12
        )
    assert [r["rank"] for r in data["reps"]] == list(range(1, len(data["reps"]) + 1))
    for p in data["practices"]:
        assert {"activity", "then", "log_odds", "z", "q_value"} <= set(p)
    assert data["playbook"] and data["team"]["kind"] == "team"
    assert data["priors"]["reach"]["alpha"] > 0


def _numbers(data: dict) -> list:
    return [
        (r["rep"], r["leads"], r["reach"], r["reach_shrunk"], r["gap_total"], r["funnel_plot_zone"])
        for r in data["reps"]
    ]


def test_japanese_and_english_give_the_same_numbers_and_their_own_words(run):
    en = json.loads(run("--format", "json", "--lang", "en").stdout)
    ja = json.loads(run("--format", "json", "--lang", "ja").stdout)
    assert _numbers(en) == _numbers(ja)
    assert "association, not proof" in en["playbook"][-1]
    assert "因果の証明ではありません" in ja["playbook"][-1]
    table_en = run("--lang", "en")
    table_ja = run("--lang", "ja")
    assert table_en.exit_code == table_ja.exit_code == 0
    assert "Reps" in table_en.stdout and "Funnel plot" in table_en.stdout
    assert "担当者別の比較" in table_ja.stdout and "ファネルプロット" in table_ja.stdout
    assert "プレイブック" in table_ja.stdout and "Playbook" in table_en.stdout


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", ["json", "table"])
def test_anonymise_leaves_no_real_name_in_any_byte(sim, run, lang, fmt):
    _, names = sim
    plain = run("--format", fmt, "--lang", lang)
    hidden = run("--format", fmt, "--lang", lang, "--anonymise")
    assert plain.exit_code == hidden.exit_code == 0, hidden.stderr
    shown = (plain.stdout + plain.stderr).encode("utf-8")
    assert any(n.encode("utf-8") in shown for n in names)  # the check can fail
    data = (hidden.stdout + hidden.stderr).encode("utf-8")
    for name in names:
        for part in (name, *name.split()):  # neither the full name nor a family name
            assert part.encode("utf-8") not in data, (part, fmt, lang)
    label = "Rep A" if lang == "en" else "担当A"
    assert label.encode("utf-8") in data


def test_anonymised_labels_follow_the_sorted_names_in_both_languages(sim, run):
    _, names = sim
    plain = json.loads(run("--format", "json", "--lang", "en").stdout)
    by_name = {r["rep"]: r for r in plain["reps"]}
    for lang, word in (("en", "Rep "), ("ja", "担当")):
        hidden = json.loads(run("--format", "json", "--lang", lang, "--anonymise").stdout)
        assert hidden["anonymised"] is True
        for row in hidden["reps"]:
            letter = row["rep"].removeprefix(word)
            real = names["ABCDEFGH".index(letter)]
            assert row["leads"] == by_name[real]["leads"]
            assert row["reach_shrunk"] == by_name[real]["reach_shrunk"]
        assert set(hidden["best"]["reps"]) <= {r["rep"] for r in hidden["reps"]}


def test_reruns_are_byte_identical(sim, run):
    ws, _ = sim
    first = run("--format", "json", "--lang", "en")
    again = CliRunner().invoke(
        app(), ["reps", "--workspace", str(ws), "--format", "json", "--lang", "en"]
    )
    assert first.exit_code == again.exit_code == 0, again.stderr
    assert first.stdout == again.stdout


def test_adjust_reports_observed_over_expected_and_a_fair_rank(run):
    res = run("--format", "json", "--adjust", "industry", "--lang", "en")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["adjust"] == ["industry"]
    assert all(r["observed_expected"] is not None for r in data["reps"])
    assert sorted(r["rank_adjusted"] for r in data["reps"]) == list(range(1, len(data["reps"]) + 1))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--by", "nosuch"], "--by: 'nosuch' is not a column of the leads or the activity log"),
        (["--adjust", "nosuch"], "--adjust: 'nosuch' is not a lead column"),
        (["--adjust", "rep"], "--adjust: 'rep' is the column reps are compared by"),
        (["--horizon", "0"], "--horizon: '0' is not a whole number of days"),
    ],
)
def test_bad_options_are_one_line_and_exit_code_2(sim, options, message):
    ws, _ = sim
    res = CliRunner().invoke(app(), ["reps", "--workspace", str(ws), "--lang", "en", *options])
    assert res.exit_code == 2, res.stdout + res.stderr
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], res.stderr


def test_any_segment_can_be_compared(run):
    res = run("--format", "json", "--by", "region", "--lang", "en")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["by"] == "region" and len(data["reps"]) == 6
    hidden = json.loads(
        run("--format", "json", "--by", "region", "--lang", "en", "--anonymise").stdout
    )
    assert {r["rep"] for r in hidden["reps"]} == {f"Group {c}" for c in "ABCDEF"}


def test_data_without_a_rep_column_is_one_line_and_exit_code_2(sim):
    """No column names a rep (nor --by): one line listing the columns there are."""
    import pandas as pd

    ws, _ = sim
    folder = ws.parent
    leads = pd.read_csv(folder / "leads.csv").drop(columns=["rep"])
    events = pd.read_csv(folder / "events.csv").drop(columns=["rep"])
    leads.to_csv(folder / "norep_leads.csv", index=False)
    events.to_csv(folder / "norep_events.csv", index=False)
    args = ["--leads", str(folder / "norep_leads.csv"), "--events"]
    args += [str(folder / "norep_events.csv"), "--lang", "en"]
    res = CliRunner().invoke(app(), ["reps", *args])
    assert res.exit_code == 2, res.stdout + res.stderr
    lines = [x for x in res.stderr.strip().splitlines() if not x.startswith("[")]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: No column names the rep (rep, owner, 担当者…)")
    assert "--by" in lines[0] and "rep" not in lines[0].split("columns:")[1]
