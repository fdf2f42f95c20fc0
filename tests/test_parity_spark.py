"""Spark local[2] gives DuckDB's answers: goals, paths, next best actions, funnel.

The canonical tables of one simulated dataset are ingested into DuckDB, written to
Parquet (``royalroad.remote.export_parquet``) and read by Spark where they lie; each
engine then runs the same analysis code on its own tables. One SparkSession serves
the module (starting one costs 5–20 s).
"""

from __future__ import annotations

import shutil

import pytest
from parity import LEADS, SCENARIO, SEED, analyses, differences, n_numbers

pytestmark = [
    pytest.mark.spark,
    # pyspark 4.0's own pandas conversion, under pandas 3
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

SMALL_DATA = {
    # a few hundred leads: compiling whole-stage code costs more than running it, and
    # one shuffle partition is enough
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.shuffle.partitions": "1",
}

pyspark = pytest.importorskip("pyspark", reason="the spark extra: pip install 'royalroad[spark]'")


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        pytest.fail("Spark needs Java: apt-get install default-jre-headless (.ci/run does)")
    from royalroad.remote import spark_session

    session = spark_session("local[2]", SMALL_DATA)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """The simulated data ingested into DuckDB, and its canonical tables as Parquet."""
    from royalroad.io.load import ingest
    from royalroad.remote import export_parquet
    from royalroad.simulate import simulate

    root = tmp_path_factory.mktemp("spark_parity")
    leads, events, notes, _ = simulate(SCENARIO, leads=LEADS, seed=SEED).write(root / "csv")
    ws = ingest(leads=leads, events=events, notes=notes)
    files = export_parquet(ws, root / "parquet")
    yield ws, files
    ws.close()


@pytest.fixture(scope="module")
def results(spark, tables):
    from royalroad.remote import open_spark

    duck, files = tables
    rs = open_spark(
        leads=str(files["leads"]),
        events=str(files["events"]),
        notes=str(files["notes"]),
        meta=str(files["meta"]),
        session=spark,
    )
    assert rs.engine == "pyspark"
    return analyses(duck), analyses(rs)


@pytest.mark.parametrize("analysis", ["goals", "paths", "next", "funnel"])
def test_spark_equals_duckdb(results, analysis):
    duck, spark = results
    ints, floats = n_numbers(duck[analysis])
    assert ints > 10 and floats > 10, (ints, floats)  # the comparison covers real numbers
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
