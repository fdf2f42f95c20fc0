"""Spark local[2] gives DuckDB's answers: goals, paths, next best actions, funnel, reps,
the reverse plan, track and the triggers in the notes.

The canonical tables of one simulated dataset are ingested into DuckDB, written to
Parquet (``royalroad.remote.export_parquet``) and read by Spark where they lie; each
engine then runs the same analysis code on its own tables. One SparkSession serves
the whole test session (``conftest.spark``: starting one costs 5–20 s), and DuckDB's
answers are computed once for every engine (``conftest.parity_reference``).
"""

from __future__ import annotations

import pytest
from parity import ANALYSES, analyses, covered, differences

pytestmark = [
    pytest.mark.spark,
    # pyspark 4.0's own pandas conversion, under pandas 3
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

pyspark = pytest.importorskip("pyspark", reason="the spark extra: pip install 'royalroad[spark]'")


@pytest.fixture(scope="module")
def tables(parity_duck):
    """The parity data's canonical tables as Parquet."""
    from royalroad.remote import export_parquet

    ws, root = parity_duck
    return ws, export_parquet(ws, root / "parquet")


@pytest.fixture(scope="module")
def results(spark, tables, parity_reference):
    from royalroad.remote import open_spark

    _, files = tables
    rs = open_spark(
        leads=str(files["leads"]),
        events=str(files["events"]),
        notes=str(files["notes"]),
        meta=str(files["meta"]),
        session=spark,
    )
    assert rs.engine == "pyspark"
    return parity_reference, analyses(rs)


@pytest.mark.parametrize("analysis", ANALYSES)
def test_spark_equals_duckdb(results, analysis):
    duck, spark = results
    covered(duck[analysis], analysis)  # the comparison covers real numbers
    assert differences(duck[analysis], spark[analysis]) == []


def test_spark_found_the_planted_goal(results):
    duck, spark = results
    assert spark["goals"]["recommended"] is not None
    assert spark["goals"]["recommended"] == duck["goals"]["recommended"]


def test_spark_session_of_the_caller_is_left_running(spark, tables):
    """A session handed in is the caller's: closing the workspace does not stop it."""
    from royalroad.remote import open_spark

    _, files = tables
    ws = open_spark(leads=str(files["leads"]), events=str(files["events"]), session=spark)
    assert ws.outcome_counts() == tables[0].outcome_counts()
    ws.close()
    assert spark.range(3).count() == 3


def test_cli_engine_spark_reads_the_parquet_in_the_running_session(spark, tables):
    """``validate --engine spark`` on the exported Parquet: the command opens the files
    in the session already running (and leaves it running), with ``meta.parquet`` read
    from beside the leads; the other commands open their tables the same way."""
    import json

    from typer.testing import CliRunner

    from royalroad.cli import app

    duck, files = tables
    paths = [f"--{t}={files[t]}" for t in ("leads", "events", "notes")]
    got = CliRunner().invoke(app, ["validate", "--engine", "spark", *paths, "--format", "json"])
    assert got.exit_code == 0, got.output
    summary = json.loads(got.stdout)
    assert (summary["won"], summary["lost"], summary["open"]) == duck.outcome_counts()
    assert summary["notes"] == duck.con.execute("SELECT count(*) FROM notes").fetchone()[0]
    assert summary["as_of"] == duck.meta()["as_of"]
    assert spark.range(3).count() == 3
