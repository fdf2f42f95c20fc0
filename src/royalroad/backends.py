"""Where the engines differ: the few Ibis forms that not every backend compiles.

Every analysis is one Ibis expression per query, and the same expressions run on
DuckDB (the default), on Spark (``ibis.pyspark``) and on a warehouse such as
PostgreSQL (``ibis.postgres``). Where a backend cannot compile an Ibis form, the
analyses call a helper here instead, which spells it in a form every backend runs
and that gives DuckDB the same answer it gave before. Nothing else in the analyses
knows which engine it runs on.

The gaps, measured with ibis 12, pyspark 4.0 and PostgreSQL 15:

* **Filtered median.** ``x.median(where=c)`` compiles on PySpark to
  ``percentile(IF(c, x, NULL), IF(c, 0.5, NULL))``, which Spark rejects (the
  percentage must be a constant). :func:`median` moves the filter into the value
  (``ifelse(c, x, NULL).median()``): a median ignores NULLs, so it is the same
  number on every backend.
* **Median on PostgreSQL.** Postgres has no ``median``; Ibis compiles it to
  ``percentile_cont(0.5)``, the interpolated median, which is DuckDB's ``median``
  too (DuckDB's ``quantile_cont``) — nothing to do.
* **Counting with a filter on PySpark.** ``t.count(where=c)`` compiles to
  ``SUM(CAST(c AS BIGINT))``: NULL, not 0, when no row of a group matches (DuckDB and
  Postgres give 0). :func:`prepare` makes the PySpark compiler emit
  ``COUNT_IF(c)`` instead, so every ``count(where=…)`` in the analyses is a count.
* **Booleans as numbers on PostgreSQL.** ``b.cast("int64")`` is
  ``CAST(b AS BIGINT)``, which Postgres refuses; :func:`as_int` is
  ``CASE WHEN b THEN 1 WHEN NOT b THEN 0 END`` everywhere.
* **Hashes on PostgreSQL.** Ibis has no ``hash`` for Postgres; :func:`pair_hash`
  uses ``hashtextextended`` (64 bits, seeded) of the pair as text there and
  ``struct.hash()`` elsewhere. Only equality of hashes is used (the variants'
  fingerprints), so a different hash per engine gives the same variants.
* **Join planning on PostgreSQL.** :func:`prepare` turns nested loops off for
  royalroad's connection: over materialised CTEs without statistics the planner
  chose them and the funnel of 600 leads took 58 s instead of 4.6 s.
* **Float literals on PySpark.** Spark reads ``86400.0`` as a DECIMAL literal, so
  ``seconds / 86400.0`` is decimal division rounded to 6–7 digits; DuckDB divides
  in doubles. :func:`prepare` makes float literals ``CAST(… AS DOUBLE)``, and the
  days and hours the analyses compute are then the same doubles on both.
* **In-memory tables on PySpark.** ibis hands Spark a pandas copy of a memtable, and
  a NULL string arrives as the text ``"NaN"``. :func:`prepare` registers memtables
  from Arrow instead (PySpark ≥ 4.0 reads Arrow directly), NULLs intact.
* **Temporary tables.** ibis' PySpark backend has no temporary tables:
  :func:`create_temp` caches a Spark DataFrame under a temporary view instead.
* **Ordered collect.** PySpark has no ``collect(order_by=…)``, and Postgres cannot
  sort an array of structs (``UNNEST`` of a record needs a column list).
  :func:`ordered_collect` collects structs ``{position, value}`` and sorts the array
  on DuckDB and Spark, and uses ``array_agg(value ORDER BY position)`` on Postgres.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis.expr.types as ir


def median(x: ir.NumericValue, where: ir.BooleanValue | None = None) -> ir.NumericScalar:
    """The median of ``x`` over the rows where ``where`` holds (all rows when None).

    >>> import ibis
    >>> t = ibis.memtable({"x": [1.0, 2.0, 10.0], "ok": [True, True, False]})
    >>> ibis.duckdb.connect().execute(median(t.x, t.ok))
    1.5
    """
    import ibis

    if where is None:
        return x.median()
    return ibis.ifelse(where, x, ibis.null(x.type())).median()


def as_int(b: ir.BooleanValue) -> ir.IntegerValue:
    """``b`` as a BIGINT: 1 where it holds, 0 where it does not, NULL where it is NULL
    (what ``b.cast("int64")`` gives on DuckDB), on every backend."""
    import ibis

    return ibis.cases((b, 1), (~b, 0), else_=ibis.null("int64")).cast("int64")


def pair_hash(
    table: ir.Table, first: ir.Value, second: ir.Value, *, swap: bool = False
) -> ir.IntegerValue:
    """A 64-bit hash of ``(first, second)`` (of ``(second, first)`` with ``swap``: an
    independent second hash of the same pair), computed by ``table``'s backend."""
    import ibis

    if _kind(table) == "postgres":
        text = first.cast("string").concat("\x1f", second.cast("string"))
        return _hashtextextended(text, 1 if swap else 0)
    a, b = (second, first) if swap else (first, second)
    names = ("a", "p") if swap else ("p", "a")
    return ibis.struct({names[0]: a, names[1]: b}).hash()


def _hashtextextended(text: Any, seed: int) -> Any:
    import ibis

    @ibis.udf.scalar.builtin(name="hashtextextended")
    def hashtextextended(s: str, seed: int) -> int:  # type: ignore[empty-body]
        """PostgreSQL's 64-bit seeded text hash."""

    return hashtextextended(text, seed)


def ordered_collect(table: ir.Table, value: ir.Value, order: ir.Value) -> ir.ArrayValue:
    """The values of a group as an array in ``order`` (an aggregate: use in ``agg``)."""
    import ibis

    if _kind(table) == "postgres":
        return value.collect(order_by=order)
    return ibis.struct({"p": order, "a": value}).collect().sort().map(lambda x: x.a)


def _kind(table: ir.Table) -> str:
    try:
        return name(table._find_backend())
    except Exception:  # noqa: BLE001  # an unbound expression: any backend's form
        return "duckdb"


def prepare(backend: Any) -> None:
    """Fix the backend's compiler where it departs from DuckDB's answers (idempotent).

    PySpark: ``count(where=c)`` becomes ``COUNT_IF(c)`` (0 when nothing matches),
    not ``SUM(CAST(c AS BIGINT))`` (NULL then); float literals are doubles.
    """
    if name(backend) == "postgres":
        # The journeys' queries join CTEs that Postgres materialises without statistics;
        # it then expects a few rows and nests loops: the funnel of 600 leads took 58 s,
        # with hash joins 4.6 s. A setting of this connection only; results unchanged.
        backend.raw_sql("SET enable_nestloop = off").close()
    if name(backend) != "pyspark":
        return
    import sqlglot.expressions as sge
    from ibis.backends.sql.compilers.pyspark import PySparkCompiler

    if getattr(PySparkCompiler, "_royalroad", False):
        return

    def visit_CountStar(self: Any, op: Any, *, arg: Any, where: Any) -> Any:
        if where is not None:
            return self.f.count_if(where)
        return self.f.count(STAR)

    from ibis.backends.sql.compilers.base import STAR

    literal = PySparkCompiler.visit_NonNullLiteral

    def visit_NonNullLiteral(self: Any, op: Any, *, value: Any, dtype: Any) -> Any:
        out = literal(self, op, value=value, dtype=dtype)
        if dtype.is_floating() and not isinstance(out, sge.Cast):
            return sge.Cast(this=out, to=sge.DataType.build("DOUBLE"))
        return out

    PySparkCompiler.visit_CountStar = visit_CountStar
    from ibis.backends.pyspark import Backend
    from ibis.backends.pyspark.datatypes import PySparkSchema

    def _register_in_memory_table(self: Any, op: Any) -> None:
        data = op.data.to_pyarrow(op.schema)
        schema = PySparkSchema.from_ibis(op.schema)
        self._session.createDataFrame(data, schema=schema).createOrReplaceTempView(op.name)

    Backend._register_in_memory_table = _register_in_memory_table
    PySparkCompiler.visit_NonNullLiteral = visit_NonNullLiteral
    PySparkCompiler._royalroad = True


def name(backend: Any) -> str:
    """The backend's name: ``duckdb``, ``pyspark``, ``postgres``…"""
    return str(getattr(backend, "name", "duckdb"))


def create_temp(backend: Any, table: str, expr: ir.Table) -> ir.Table:
    """``expr`` computed once and held under the name ``table`` until :func:`drop_temp`."""
    if name(backend) == "pyspark":
        # Spark: a cached DataFrame under a temporary view (ibis' own form for
        # .cache()), with the in-memory tables it reads registered first (ibis' cache
        # path does not, and Spark would not find them)
        backend._register_in_memory_tables(expr)
        return backend._create_cached_table(table, expr)
    out = backend.create_table(table, expr, temp=True)
    if name(backend) == "postgres":
        # a new table has no statistics: without them the planner guesses one row and
        # nests loops over the journeys that the next queries join
        backend.raw_sql(f'ANALYZE "{table}"').close()
    return out


def drop_temp(backend: Any, table: str) -> None:
    """Drop what :func:`create_temp` made (plain SQL: ibis 12's ``drop_table`` renders
    ``DROP TABLE IF EXISTS`` without the table's name under sqlglot 30)."""
    kind = name(backend)
    if kind == "pyspark":
        backend._drop_cached_table(table)
        return
    cur = backend.raw_sql(f'DROP TABLE IF EXISTS "{table}"')
    if kind != "duckdb" and hasattr(cur, "close"):
        cur.close()
