"""SQL fragments that parse raw source values inside DuckDB.

Parsing happens in the engine, set-based, so that ten million events are parsed as
fast as ten: one expression per column, no Python loop over rows. Every parser
returns NULL for a value it cannot read; the caller compares with the raw value to
tell "empty" from "unreadable" and quarantines the latter.
"""

from __future__ import annotations

import unicodedata

import pyarrow as pa

# Formats tried, in order, after DuckDB's own ISO cast. Year-first formats are
# unambiguous; the month/day order of slashed dates follows ``dayfirst``.
_YEAR_FIRST = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日 %H時%M分",
    "%Y年%m月%d日",
    "%Y%m%d",
    "%Y-%m-%dT%H:%M:%S.%f",
)
_MONTH_FIRST = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y",
)
_DAY_FIRST = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)
_AWARE = r"^\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$"
_SERIAL = r"^\d{5}(\.\d+)?$"
EXCEL_SERIAL_RANGE = (20000, 80000)  # 1954-10-03 .. 2119-01-10: anything else is not a date


def ident(name: str) -> str:
    """Quote an identifier for DuckDB.

    >>> print(ident('a"b'))
    "a""b"
    """
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """Quote a string literal for DuckDB.

    >>> lit("it's")
    "'it''s'"
    """
    return "'" + value.replace("'", "''") + "'"


def text(expr: str, dtype: pa.DataType) -> str:
    """A trimmed VARCHAR, NULL when empty."""
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return f"NULLIF(trim({expr}), '')"
    if pa.types.is_null(dtype):
        return "CAST(NULL AS VARCHAR)"
    return f"NULLIF(trim(CAST({expr} AS VARCHAR)), '')"


def _list(formats: tuple[str, ...]) -> str:
    return "[" + ", ".join(lit(f) for f in formats) + "]"


def timestamp(expr: str, dtype: pa.DataType, *, tz: str, dayfirst: bool = False) -> str:
    """Parse a column into a naive TIMESTAMP in zone ``tz``.

    Values with an explicit offset (``2024-01-05T13:00:00+09:00``, ``…Z``) are
    converted to ``tz``; naive values are taken to be in ``tz`` already. Excel
    serial numbers (``45296.5``) are read as days since 1899-12-30.
    """
    if pa.types.is_timestamp(dtype):
        return f"timezone({lit(tz)}, {expr})" if dtype.tz else f"CAST({expr} AS TIMESTAMP)"
    if pa.types.is_date(dtype):
        return f"CAST({expr} AS TIMESTAMP)"
    lo, hi = EXCEL_SERIAL_RANGE
    serial = (
        "TIMESTAMP '1899-12-30' + to_microseconds(CAST(round(CAST({x} AS DOUBLE) * 86400000000) AS BIGINT))"
    )
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype):
        return (
            f"CASE WHEN {expr} BETWEEN {lo} AND {hi} THEN {serial.format(x=expr)} END"
        )
    x = text(expr, dtype)
    formats = _YEAR_FIRST + (_DAY_FIRST if dayfirst else _MONTH_FIRST)
    return (
        f"(CASE WHEN {x} IS NULL THEN NULL "
        f"WHEN regexp_matches({x}, {lit(_AWARE)}) THEN timezone({lit(tz)}, try_cast({x} AS TIMESTAMPTZ)) "
        f"WHEN regexp_matches({x}, {lit(_SERIAL)}) THEN "
        f"CASE WHEN CAST({x} AS DOUBLE) BETWEEN {lo} AND {hi} THEN {serial.format(x=x)} END "
        f"ELSE coalesce(try_cast({x} AS TIMESTAMP), try_strptime({x}, {_list(formats)})) END)"
    )


def number(expr: str, dtype: pa.DataType) -> str:
    """Parse an amount: thousands separators and currency marks are removed.

    ``1,234`` → 1234, ``¥1,234`` → 1234, ``1 234 円`` → 1234, ``$12.50`` → 12.5.
    """
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return f"CAST({expr} AS DOUBLE)"
    x = text(expr, dtype)
    cleaned = f"regexp_replace({x}, '[,\\s¥￥$€£円]|JPY|USD|EUR', '', 'g')"
    return f"try_cast({cleaned} AS DOUBLE)"


def norm_value(value: str) -> str:
    """How outcome values are compared: NFKC, case-folded, trimmed."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def outcome(expr: str, dtype: pa.DataType, values: dict[str, tuple[str, ...]], other: str) -> str:
    """Map raw outcome values to won/lost/open; NULL for an unknown value."""
    x = f"lower({text(expr, dtype)})"
    parts = []
    for cls in ("won", "lost", "open"):
        vals = sorted({norm_value(v) for v in values.get(cls, ())})
        if vals:
            parts.append(f"WHEN {x} IN ({', '.join(lit(v) for v in vals)}) THEN '{cls}'")
    fallback = "'open'" if other == "open" else "NULL"
    return f"(CASE {' '.join(parts)} ELSE {fallback} END)"


def coalesce(exprs: list[str]) -> str:
    return exprs[0] if len(exprs) == 1 else f"coalesce({', '.join(exprs)})"
