"""A PostgreSQL warehouse gives DuckDB's answers: goals, paths, next best actions,
funnel, reps, the reverse plan, track and the triggers in the notes.

The canonical tables of one simulated dataset are ingested into DuckDB and copied
into a throwaway PostgreSQL server (:mod:`pg`); the analyses then run in the
database through ``ibis.postgres``, each engine on its own tables. DuckDB's answers
are computed once for every engine (``conftest.parity_reference``).
"""

from __future__ import annotations

import pytest
from parity import ANALYSES, TRIGGER_GOALS, analyses, covered, differences
from pg import postgres

pytestmark = pytest.mark.postgres

pytest.importorskip("psycopg", reason="the test extra: pip install 'royalroad[test]'")


@pytest.fixture(scope="module")
def duck(parity_duck):
    return parity_duck[0]


@pytest.fixture(scope="module")
def server():
    try:
        with postgres() as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def results(duck, server, parity_reference):
    from royalroad.remote import copy_tables, open_url

    copy_tables(duck, server)
    ws = open_url(server)
    assert ws.engine == "postgres"
    try:
        yield parity_reference, analyses(ws)
    finally:
        ws.close()


@pytest.mark.parametrize("analysis", ANALYSES)
def test_postgres_equals_duckdb(results, analysis):
    duck, pg = results
    covered(duck[analysis], analysis)  # the comparison covers real numbers
    assert differences(duck[analysis], pg[analysis]) == []


def test_unvalidated_tables_are_refused_in_one_line(duck, server):
    """Tables that break the canonical contract fail with the table and the check."""
    import ibis

    from royalroad.errors import InputError
    from royalroad.remote import open_url

    pg = ibis.connect(server)
    pg.raw_sql("DROP TABLE IF EXISTS bad_leads").close()
    pg.raw_sql(
        "CREATE TABLE bad_leads AS SELECT * FROM leads UNION ALL (SELECT * FROM leads LIMIT 2)"
    ).close()
    pg.disconnect()
    with pytest.raises(InputError, match=r"bad_leads: 2 rows fail the check duplicate_lead_id"):
        open_url(server, leads_table="bad_leads")


def test_cli_engine_url_gives_the_workspace_answer(duck, server, tmp_path, results):
    """``royalroad export --to URL`` then ``validate`` and ``goals`` with ``--engine
    URL``: the answers DuckDB gives (the analyses' parity is tested above)."""
    import json

    from typer.testing import CliRunner

    from royalroad.cli import app

    ws_file = tmp_path / "ws.duckdb"
    duck.con.execute(f"ATTACH '{ws_file}' AS f; COPY FROM DATABASE memory TO f; DETACH f")
    runner = CliRunner()
    out = runner.invoke(app, ["export", "--workspace", str(ws_file), "--to", server])
    assert out.exit_code == 0, out.output
    got = runner.invoke(app, ["goals", "--engine", server, "--format", "json"])
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout)["recommended"] == results[0]["goals"]["recommended"]
    checked = runner.invoke(app, ["validate", "--engine", server, "--format", "json"])
    assert checked.exit_code == 0, checked.output
    summary = json.loads(checked.stdout)
    won, lost, open_ = duck.outcome_counts()
    assert (summary["won"], summary["lost"], summary["open"]) == (won, lost, open_)


CLI = {  # the command line of each analysis that gives parity.analyses' answer
    "reps": ["reps", "--adjust", "industry"],
    "triggers": [
        "triggers",
        "--top",
        "15",
        *(f"--{k.replace('_', '-')}={v}" for k, v in TRIGGER_GOALS.items()),
    ],
    "plan": [
        "plan",
        "--target",
        "1.2e9",
        "--period",
        "{period}",
        "--segment",
        "industry",
        "--preset",
        "manufacturing",
    ],
    "track": ["track", "--plan", "{plan}"],
}


@pytest.mark.parametrize("command", list(CLI))
def test_cli_engine_url_runs_the_analysis(results, server, tmp_path, command):
    """``royalroad reps|triggers|plan|track --engine URL``: DuckDB's answers (the ones
    the API gave), read from the command's JSON."""
    import json

    from typer.testing import CliRunner

    from royalroad.cli import app

    duck = results[0]
    period = duck["plan"]["period"]
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(duck["plan"]), encoding="utf-8")
    fill = {"period": f"{period['start']}..{period['end']}", "plan": str(plan_file)}
    args = [a.format(**fill) for a in CLI[command]]
    got = CliRunner().invoke(app, [*args, "--engine", server, "--format", "json"])
    assert got.exit_code == 0, got.output
    out, want = json.loads(got.stdout), duck[command]
    if command == "reps":  # the command's goal search is adjusted too (--adjust)
        assert out.pop("goal")["activity"] == want["goal"]["activity"]
        want = {k: v for k, v in want.items() if k != "goal"}
    assert differences(want, out) == []


def test_a_database_without_notes_has_none_to_mine(results, server):
    """No ``notes`` table: an empty one, so ``triggers`` says "no notes" in one line
    instead of failing in SQL (and ``analyze`` skips the notes)."""
    from royalroad.analysis.triggers import has_notes
    from royalroad.remote import open_url

    ws = open_url(server)
    try:
        assert has_notes(ws)
        del ws._tables["notes"]
        assert not has_notes(ws)
    finally:
        ws.close()
