"""Validate raw sources into canonical staging tables, inside DuckDB.

Each source becomes one staging table with the canonical columns, the row's raw
values as JSON, where it came from (file, line) and ``_reason``: NULL for a good
row, else a struct ``{reason, col, val}`` naming the *first* problem found. The
loader then splits staging tables into the canonical tables and ``quarantine``, so
that for every file ``rows read = accepted + quarantined`` holds by construction,
and tests check it.

Reason codes (rendered through the catalogue as ``quarantine.<code>``):

============================  ====================================================
``too_many_fields``           a CSV row longer than its header (non-empty surplus)
``missing_id``                empty lead id
``missing_activity``          empty activity
``missing_timestamp``         empty timestamp where one is required
``bad_timestamp``             a timestamp no known format reads
``out_of_range_timestamp``    a readable date outside 1900–2199 (2204, 9999-12-31)
``bad_encoding``              bytes the file's encoding cannot read (a damaged row)
``nul_byte``                  a NUL byte in the row (a damaged file)
``missing_outcome``           a close date but no outcome
``unknown_outcome``           an outcome value that is neither won, lost nor open
``bad_amount``                an amount that is not a number
``negative_amount``           an amount below zero
``closed_without_date``       won or lost without a close date
``close_before_creation``     closed before it was created
``missing_created``           won or lost without a creation date
``missing_text``              an empty note
``duplicate_lead``            the same lead again, identical (first kept)
``conflicting_lead``          the same lead again with other values (first kept)
``unknown_lead``              an event or note for a lead not in the leads table
``quarantined_lead``          an event or note for a lead whose row was quarantined
============================  ====================================================
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from royalroad.errors import InputError
from royalroad.io import sqlparts as sp
from royalroad.io.mapping import ColumnMap
from royalroad.io.raw import DAMAGE, EXTRA, LINE, RawTable

CANONICAL: dict[str, tuple[str, ...]] = {
    "leads": ("lead_id", "created_at", "outcome", "closed_at", "amount"),
    "events": ("lead_id", "activity", "ts", "lifecycle"),
    "notes": ("lead_id", "ts", "text", "author"),
    "traces": ("lead_id", "amount"),
}
SYSTEM = frozenset(
    {"_file", "_line", "_file_idx", "_raw", "_reason", "seq", "mark", "lead_key", "pos", "occ"}
    | {EXTRA, DAMAGE}
)


@dataclass(frozen=True)
class Settings:
    """How raw values are read. ``tz``: zone of naive times and of all output."""

    tz: str = "UTC"
    dayfirst: bool = False


def extra_name(name: str, role: str) -> str:
    """Name of a carried-over source column in the canonical table."""
    taken = set(CANONICAL[role]) | SYSTEM
    return f"{name}_src" if name in taken else name


def _unique_extra_names(extras: list[str], role: str) -> list[str]:
    """Output names of carried-over columns: canonical and system names get ``_src``,
    and a name that is still taken (a source with both ``seq`` and ``seq_src``) a number.

    >>> _unique_extra_names(["seq", "seq_src", "industry"], "events")
    ['seq_src', 'seq_src2', 'industry']
    """
    taken = set(CANONICAL[role]) | SYSTEM
    out: list[str] = []
    for c in extras:
        name, n = extra_name(c, role), 1
        while name in taken:
            n += 1
            name = f"{extra_name(c, role)}{n}"
        taken.add(name)
        out.append(name)
    return out


def _check(cond: str, reason: str, col: str | None, val: str) -> tuple[str, str]:
    col_sql = sp.lit(col) if col is not None else "CAST(NULL AS VARCHAR)"
    return (
        cond,
        f"struct_pack(reason := '{reason}', col := {col_sql}, val := CAST({val} AS VARCHAR))",
    )


def _reason_case(checks: list[tuple[str, str]]) -> str:
    if not checks:
        return "CAST(NULL AS STRUCT(reason VARCHAR, col VARCHAR, val VARCHAR))"
    whens = " ".join(f"WHEN {cond} THEN {value}" for cond, value in checks)
    return f"(CASE {whens} END)"


def stage(
    con: duckdb.DuckDBPyConnection,
    raw: RawTable,
    cmap: ColumnMap,
    *,
    file_idx: int,
    settings: Settings,
    known_leads: str | None = None,
) -> str:
    """Create ``rr_stage.stg_<role>_<file_idx>`` (:data:`~royalroad.io.sqlparts.STAGE`)
    from one raw source; return its name.

    ``_raw`` (the row's values as JSON, for the quarantine) is built for every row,
    except for events when ``known_leads`` is given: a query of the lead ids already
    staged and accepted. An event row can then only be quarantined for its own
    problems or for a lead not among those (unknown or quarantined, see
    :meth:`~royalroad.io.build.Builder._check_leads`), and only such rows get the
    JSON: at 10M events it was half the staging table (1.25 of 2.65 GB) and a third of
    its time.
    """
    role = cmap.role
    view = f"src_{role}_{file_idx}"
    src_cols = raw.columns
    extras = [c for c in cmap.extras if c in raw.table.column_names]
    used = [c for cols in cmap.fields.values() for c in cols]
    cleaned = [*dict.fromkeys(used), *extras]
    table, clean = _clean(raw.table, cleaned)
    schema = table.schema
    names = set(schema.names)
    failed: list[BaseException] = []
    if raw.scan is not None:  # rows stream from the file into DuckDB, trimmed on the way
        batches = _cleaned_batches(raw, cleaned, failed)
        con.register(view, pa.RecordBatchReader.from_batches(table.schema, batches))
    else:
        con.register(view, table)

    def dtype(col: str) -> pa.DataType:
        return schema.field(col).type

    def col(name: str) -> str:
        """The column to parse: its trimmed copy (see _clean) when it is text."""
        return sp.ident(clean.get(name, name))

    def raw_of(field: str) -> str:
        cols = cmap.fields[field]
        if len(cols) == 1 and _is_temporal(dtype(cols[0])):
            # typed: NULL or a value, never blank; text only in a message (a check's val)
            return col(cols[0])
        return sp.coalesce([sp.text(col(c), dtype(c)) for c in cols])

    def ts_of(field: str, *, end_of_day: bool = False) -> str:
        """The field parsed without a bound on the year (bounded in a later layer)."""
        cols = cmap.fields[field]
        parsed = []
        for c in cols:
            x = sp.timestamp(
                col(c), dtype(c), tz=settings.tz, dayfirst=settings.dayfirst, years=None
            )
            if end_of_day:  # a close without a time is the end of its day
                day = sp.date_only(col(c), dtype(c))
                x = f"({x} + CASE WHEN {day} THEN {sp.END_OF_DAY} ELSE INTERVAL 0 SECOND END)"
            parsed.append(x)
        return sp.coalesce(parsed)

    def out_of_range(raw_col: str, parsed: str, field: str) -> tuple[str, str]:
        """A value that reads as a date, but outside :data:`~sqlparts.YEARS`."""
        return _check(
            f"{raw_col} IS NOT NULL AND {parsed} IS NULL AND {parsed}_any IS NOT NULL",
            "out_of_range_timestamp",
            label(field),
            raw_col,
        )

    def bounded(name: str) -> str:
        lo, hi = sp.YEARS
        return f"CASE WHEN year({name}_any) BETWEEN {lo} AND {hi} THEN {name}_any END AS {name}"

    def label(field: str) -> str:
        return " | ".join(cmap.fields[field])

    lazy_raw = role == "events" and known_leads is not None
    # the source's columns, carried to the end under their own names when the JSON
    # is built there for some rows only
    carried = [f"_rr_src_{i}" for i in range(len(src_cols))] if lazy_raw else list(src_cols)
    raw_json = (
        "json_object("
        + ", ".join(
            f"{sp.lit(c)}, CAST({sp.ident(k)} AS VARCHAR)"
            for c, k in zip(src_cols, carried, strict=True)
        )
        + ")"
    )
    select: list[str] = [
        f"{file_idx} AS _file_idx",
        f"{sp.lit(raw.source)} AS _file",
        f"{sp.ident(LINE)} AS _line",
        *(
            [f"{sp.ident(c)} AS {sp.ident(k)}" for c, k in zip(src_cols, carried, strict=True)]
            if lazy_raw
            else [f"{raw_json} AS _raw"]
        ),
    ]
    inner: list[str] = []  # parsed columns, computed once in a sub-select
    checks: list[tuple[str, str]] = []
    if DAMAGE in names:
        checks.append(
            (
                f"{sp.ident(DAMAGE)} IS NOT NULL",
                f"struct_pack(reason := split_part({sp.ident(DAMAGE)}, chr(9), 1), "
                f"col := nullif(split_part({sp.ident(DAMAGE)}, chr(9), 3), ''), "
                f"val := split_part({sp.ident(DAMAGE)}, chr(9), 2))",
            )
        )
    has_extra = EXTRA in names
    if has_extra:
        checks.append(
            _check(f"{sp.ident(EXTRA)} IS NOT NULL", "too_many_fields", None, sp.ident(EXTRA))
        )

    ids = cmap.fields["lead_id"]
    inner.append(f"{sp.coalesce([sp.identifier(col(c), dtype(c)) for c in ids])} AS lead_id")
    checks.append(_check("lead_id IS NULL", "missing_id", label("lead_id"), "NULL"))

    if role == "leads":
        inner += [
            f"{raw_of('created_at')} AS _created_raw",
            f"{ts_of('created_at')} AS created_at_any",
            f"{raw_of('outcome')} AS _outcome_raw",
            f"{_outcome_expr(cmap, dtype, raw, clean)} AS _outcome_mapped",
            f"{raw_of('closed_at')} AS _closed_raw",
            f"{ts_of('closed_at', end_of_day=True)} AS _closed_parsed_any",
        ]
        if "amount" in cmap.fields:
            inner += [
                f"{raw_of('amount')} AS _amount_raw",
                f"{_number(cmap, dtype, col)} AS amount",
            ]
        else:
            inner += ["CAST(NULL AS VARCHAR) AS _amount_raw", "CAST(NULL AS DOUBLE) AS amount"]
        checks += [
            out_of_range("_created_raw", "created_at", "created_at"),
            _check(
                "_created_raw IS NOT NULL AND created_at IS NULL",
                "bad_timestamp",
                label("created_at"),
                "_created_raw",
            ),
            _check(
                "_outcome_raw IS NULL AND _closed_raw IS NOT NULL",
                "missing_outcome",
                label("outcome"),
                "NULL",
            ),
            _check(
                "_outcome_raw IS NOT NULL AND _outcome_mapped IS NULL",
                "unknown_outcome",
                label("outcome"),
                "_outcome_raw",
            ),
            _check(
                "_outcome IN ('won', 'lost') AND _closed_raw IS NOT NULL "
                "AND _closed_parsed IS NULL AND _closed_parsed_any IS NOT NULL",
                "out_of_range_timestamp",
                label("closed_at"),
                "_closed_raw",
            ),
            _check(
                "_outcome IN ('won', 'lost') AND _closed_raw IS NOT NULL "
                "AND _closed_parsed IS NULL",
                "bad_timestamp",
                label("closed_at"),
                "_closed_raw",
            ),
            _check(
                "_amount_raw IS NOT NULL AND amount IS NULL",
                "bad_amount",
                _opt_label(cmap, "amount"),
                "_amount_raw",
            ),
            _check("amount < 0", "negative_amount", _opt_label(cmap, "amount"), "_amount_raw"),
            _check(
                "_outcome IN ('won', 'lost') AND _closed_raw IS NULL",
                "closed_without_date",
                label("closed_at"),
                "_outcome_raw",
            ),
            _check(
                "_outcome IN ('won', 'lost') AND created_at IS NULL",
                "missing_created",
                label("created_at"),
                "_outcome_raw",
            ),
            _check(
                "_outcome IN ('won', 'lost') AND closed_at < created_at",
                "close_before_creation",
                label("closed_at"),
                "_closed_raw",
            ),
        ]
        # Empty outcome and no close date: the deal is simply still open.
        derived = (
            "coalesce(_outcome_mapped, "
            "CASE WHEN _outcome_raw IS NULL AND _closed_raw IS NULL THEN 'open' END) AS _outcome"
        )
        # An open deal's close date is a forecast (Salesforce CloseDate): not a fact.
        closed = "CASE WHEN _outcome IN ('won', 'lost') THEN _closed_parsed END AS closed_at"
        canonical = ["lead_id", "created_at", "_outcome AS outcome", "closed_at", "amount"]
        layers = [f"{bounded('created_at')}, {bounded('_closed_parsed')}", derived, closed]
    elif role == "traces":
        if "amount" in cmap.fields:
            inner += [
                f"{raw_of('amount')} AS _amount_raw",
                f"{_number(cmap, dtype, col)} AS amount",
            ]
        else:
            inner += ["CAST(NULL AS VARCHAR) AS _amount_raw", "CAST(NULL AS DOUBLE) AS amount"]
        checks += [
            _check(
                "_amount_raw IS NOT NULL AND amount IS NULL",
                "bad_amount",
                _opt_label(cmap, "amount"),
                "_amount_raw",
            ),
            _check("amount < 0", "negative_amount", _opt_label(cmap, "amount"), "_amount_raw"),
        ]
        canonical = ["lead_id", "amount"]
        layers = []
    else:
        ts_label = label("ts")
        inner += [f"{raw_of('ts')} AS _ts_raw", f"{ts_of('ts')} AS ts_any"]
        if role == "events":
            inner.append(f"{raw_of('activity')} AS activity")
            inner.append(
                f"{raw_of('lifecycle')} AS lifecycle"
                if "lifecycle" in cmap.fields
                else "CAST(NULL AS VARCHAR) AS lifecycle"
            )
            checks.append(_check("activity IS NULL", "missing_activity", label("activity"), "NULL"))
            canonical = ["lead_id", "activity", "ts", "lifecycle"]
        else:
            inner.append(f"{sp.ident(cmap.fields['text'][0])} AS text")
            inner.append(
                f"{raw_of('author')} AS author"
                if "author" in cmap.fields
                else "CAST(NULL AS VARCHAR) AS author"
            )
            checks.append(
                _check("text IS NULL OR trim(text) = ''", "missing_text", label("text"), "NULL")
            )
            canonical = ["lead_id", "ts", "text", "author"]
        checks += [
            _check("_ts_raw IS NULL", "missing_timestamp", ts_label, "NULL"),
            out_of_range("_ts_raw", "ts", "ts"),
            _check("ts IS NULL", "bad_timestamp", ts_label, "_ts_raw"),
        ]
        layers = [bounded("ts")]

    out_names = _unique_extra_names(extras, role)
    extra_sql = [
        f"{sp.text(col(c), dtype(c))} AS {sp.ident(n)}"
        for c, n in zip(extras, out_names, strict=True)
    ]
    extra_out = [sp.ident(n) for n in out_names]
    extra_src = [sp.ident(EXTRA)] if has_extra else []
    if DAMAGE in names:
        extra_src.append(sp.ident(DAMAGE))

    base = f"SELECT {', '.join(select + inner + extra_sql + extra_src)} FROM {view}"
    for layer in layers:
        base = f"SELECT *, {layer} FROM ({base})"
    name = f"{sp.STAGE}.stg_{role}_{file_idx}"
    if lazy_raw:
        rows = (
            f"SELECT _file_idx, _file, _line, {', '.join(carried)}, "
            f"{', '.join([*canonical, *extra_out])}, {_reason_case(checks)} AS _reason "
            f"FROM ({base})"
        )
        may_fail = f"_reason IS NOT NULL OR lead_id NOT IN ({known_leads})"
        body = (
            f"SELECT _file_idx, _file, _line, CASE WHEN {may_fail} THEN {raw_json} END AS _raw, "
            f"{', '.join([*(c.split(' AS ')[-1] for c in canonical), *extra_out])}, _reason "
            f"FROM ({rows})"
        )
    else:
        out_cols = ["_file_idx", "_file", "_line", "_raw", *canonical, *extra_out]
        body = f"SELECT {', '.join(out_cols)}, {_reason_case(checks)} AS _reason FROM ({base})"
    try:
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {body}")
    finally:
        con.unregister(view)
    if failed:  # a page the footer promised but the file cannot give: a damaged file
        reason = (str(failed[0]).strip() or type(failed[0]).__name__).splitlines()[0]
        raise InputError("io.parquet_unreadable", file=raw.source, reason=reason)
    return name


def _cleaned_batches(
    raw: RawTable, columns: list[str], failed: list[BaseException]
) -> Iterator[pa.RecordBatch]:
    """The source's batches through :func:`_clean`. A read error ends the stream and
    is kept in ``failed``: raised inside DuckDB's scan it would invalidate the
    database, so the caller raises it after the statement."""
    try:
        for part in raw.batches():
            yield from _clean(pa.Table.from_batches([part]), columns)[0].to_batches()
    except (pa.ArrowException, OSError) as exc:
        failed.append(exc)


def _clean(table: pa.Table, columns: list[str]) -> tuple[pa.Table, dict[str, str]]:
    """Trim :data:`~royalroad.io.sqlparts.TRIMMED` (and NUL) from both ends of every
    text column that is parsed or carried over, in Arrow, and null the empty ones.

    In Arrow because it is fast there (2M values in 0.06 s; DuckDB's ``trim`` against
    a character set took 9 s) and linear in the number of columns (the staging SQL's
    optimiser takes time quadratic in the number of expressions: 6,000 trimmed segment
    columns took 20 s). The cleaned columns are added under new names, the originals
    stay for ``_raw``; returns the table and, per cleaned column, its new name.
    """
    table = _fit_timestamps(table, columns)
    clean: dict[str, str] = {}
    taken = set(table.column_names)
    arrays: list[pa.ChunkedArray] = []
    new_names: list[str] = []
    for i, c in enumerate(columns):
        column = table[c]
        if not _is_text(column.type):
            continue
        arrays.append(_trimmed(column))
        name = f"_rr_clean_{i}"
        while name in taken:
            name += "_"
        taken.add(name)
        new_names.append(name)
        clean[c] = name
    if not clean:
        return table, clean
    return pa.Table.from_arrays(
        [*table.columns, *arrays], names=[*table.column_names, *new_names]
    ), clean


_MICROS_PER = {"s": 1_000_000, "ms": 1_000}


def _fit_timestamps(table: pa.Table, columns: list[str]) -> pa.Table:
    """Null the second or millisecond timestamps DuckDB cannot hold in microseconds.

    Such a value (year 31,690,708 in a damaged or odd file) makes DuckDB's cast fail
    inside the engine and invalidates the database. It is nulled in the table and the
    row marked in ``_damage`` as ``out_of_range_timestamp`` (value and column), so
    that it is quarantined with its reason. A table with such a column always gets
    the ``_damage`` column, so that every streamed batch has the same schema.
    """
    fits: list[tuple[str, int]] = []
    for c in columns:
        dtype = table.schema.field(c).type
        if pa.types.is_timestamp(dtype) and dtype.unit in _MICROS_PER:
            fits.append((c, (2**63 - 1) // _MICROS_PER[dtype.unit]))
    if not fits:
        return table
    damage = (
        table[DAMAGE]
        if DAMAGE in table.column_names
        else pa.chunked_array([pa.nulls(table.num_rows, pa.string())])
    )
    for c, bound in fits:
        ticks = pc.cast(table[c], pa.int64())
        bad = pc.fill_null(pc.greater(pc.abs(ticks), bound), False)
        if not pc.any(bad).as_py():
            continue
        unit = table.schema.field(c).type.unit
        value = pc.binary_join_element_wise(pc.cast(ticks, pa.string()), unit, "")
        note = pc.binary_join_element_wise("out_of_range_timestamp", value, c, "\t")
        damage = pc.if_else(pc.and_(bad, pc.is_null(damage)), note, damage)
        nulled = pc.if_else(bad, pa.scalar(None, table.schema.field(c).type), table[c])
        table = table.set_column(table.schema.get_field_index(c), c, nulled)
    if DAMAGE in table.column_names:
        return table.set_column(table.schema.get_field_index(DAMAGE), DAMAGE, damage)
    return table.append_column(DAMAGE, damage)


def _is_temporal(dtype: pa.DataType) -> bool:
    return pa.types.is_timestamp(dtype) or pa.types.is_date(dtype)


def _is_text(dtype: pa.DataType) -> bool:
    return pa.types.is_string(dtype) or pa.types.is_large_string(dtype)


def _trimmed(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """``column`` without :data:`~royalroad.io.sqlparts.TRIMMED` (and NUL) at either
    end, an empty value null."""
    trimmed = pc.utf8_trim(column, characters="\x00" + sp.TRIMMED)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, column.type), trimmed)


def open_values(raw: RawTable, cmap: ColumnMap) -> list[tuple[str, int]]:
    """Outcome values read as open only because the mapping treats unknown values as
    open (``other = "open"``): 見積提出済, ヒアリング… with their row counts, most
    frequent first, for the summary."""
    if cmap.role != "leads" or cmap.other_outcome != "open":
        return []
    known = {sp.norm_value(v) for vals in cmap.outcome_values.values() for v in vals}
    counts: dict[str, int] = {}
    damaged = None
    if DAMAGE in raw.table.column_names:  # a damaged row is quarantined, not read as open
        damaged = pc.is_null(raw.column(DAMAGE))
    for c in cmap.fields.get("outcome", ()):
        col = raw.column(c)
        if not _is_text(col.type):
            continue
        if damaged is not None:
            col = col.filter(damaged)
        for item in pc.value_counts(col).to_pylist():
            value, n = item["values"], item["counts"]
            if value is None or not value.strip() or sp.norm_value(value) in known:
                continue
            key = value.strip()
            counts[key] = counts.get(key, 0) + n
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _opt_label(cmap: ColumnMap, field: str) -> str | None:
    return " | ".join(cmap.fields[field]) if field in cmap.fields else None


def _outcome_expr(cmap: ColumnMap, dtype, raw: RawTable, clean: dict[str, str]) -> str:
    return sp.coalesce(
        [
            sp.outcome(
                sp.ident(clean.get(c, c)),
                dtype(c),
                cmap.outcome_values,
                cmap.other_outcome,
                _distinct(raw, c),
            )
            for c in cmap.fields["outcome"]
        ]
    )


def _distinct(raw: RawTable, column: str) -> list[str | None] | None:
    """Distinct trimmed values of a text column (a handful for an outcome column)."""
    col = raw.column(column)
    if not _is_text(col.type):
        return None
    return pc.unique(_trimmed(col)).to_pylist()


def _number(cmap: ColumnMap, dtype, col) -> str:
    cols = cmap.fields["amount"]
    return sp.coalesce([sp.number(col(c), dtype(c)) for c in cols])
