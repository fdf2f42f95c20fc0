"""A PostgreSQL warehouse gives DuckDB's answers: goals, paths, next best actions, funnel.

The canonical tables of one simulated dataset are ingested into DuckDB and copied
into a throwaway PostgreSQL server (:mod:`pg`); the analyses then run in the
database through ``ibis.postgres``, each engine on its own tables.
"""

from __future__ import annotations

import pytest
from parity import LEADS, SCENARIO, SEED, analyses, differences, n_numbers
from pg import postgres

pytestmark = pytest.mark.postgres

pytest.importorskip("psycopg", reason="the test extra: pip install 'royalroad[test]'")


@pytest.fixture(scope="module")
def duck(tmp_path_factory):
    from royalroad.io.load import ingest
    from royalroad.simulate import simulate

    root = tmp_path_factory.mktemp("pg_parity")
    leads, events, notes, _ = simulate(SCENARIO, leads=LEADS, seed=SEED).write(root / "csv")
    ws = ingest(leads=leads, events=events, notes=notes)
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def server():
    try:
        with postgres() as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def results(duck, server):
    from royalroad.remote import copy_tables, open_url

    copy_tables(duck, server)
    ws = open_url(server)
    assert ws.engine == "postgres"
    try:
        yield analyses(duck), analyses(ws)
    finally:
        ws.close()


@pytest.mark.parametrize("analysis", ["goals", "paths", "next", "funnel"])
def test_postgres_equals_duckdb(results, analysis):
    duck, pg = results
    ints, floats = n_numbers(duck[analysis])
    assert ints > 10 and floats > 10, (ints, floats)
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
