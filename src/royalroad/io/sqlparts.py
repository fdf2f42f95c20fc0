"""SQL fragments that parse raw source values inside DuckDB.

Parsing happens in the engine, set-based, so that ten million events are parsed as
fast as ten: one expression per column, no Python loop over rows. Every parser
returns NULL for a value it cannot read; the caller compares with the raw value to
tell "empty" from "unreadable" and quarantines the latter.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import pyarrow as pa

# Naive values are dispatched by shape, because DuckDB's cast to TIMESTAMP is lenient:
# it reads '1-05-24' as the year 1 and ignores anything after the time ('1:00 PM' is
# 01:00). Only strict ISO goes to the cast; a value starting with a four-digit year
# goes to the year-first formats; anything else to month-first or day-first (two-digit
# years first: strptime is strict, so '%y' never eats the '20' of '2024').
_ISO = r"^\d{4}-\d{1,2}-\d{1,2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$"
_YEAR_LEAD = r"^(\d{4}\D|\d{8}$)"
_YEAR_FIRST = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %I:%M %p",
    "%Y/%m/%d %I:%M:%S %p",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %I:%M %p",
    "%Y-%m-%d %I:%M:%S %p",
    "%Y-%m-%d",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日 %H時%M分",
    "%Y年%m月%d日",
    "%Y%m%d",
)
_MONTH_FIRST = (
    "%m/%d/%y %H:%M:%S",
    "%m/%d/%y %H:%M",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y",
)
_DAY_FIRST = (
    "%d/%m/%y %H:%M:%S",
    "%d/%m/%y %H:%M",
    "%d/%m/%y",
    "%d.%m.%y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)
YEARS = (1900, 2199)
"""Plausible years of a CRM timestamp; anything else is a typo or a sentinel (0001-01-01)."""
# A value ending in a zone designator after a time: an offset, Z, UTC/GMT, an
# abbreviation such as JST, or an IANA name. Group 1 is the wall time, group 2 the
# zone. Such a value must never reach the naive parsers alone: DuckDB's cast to
# TIMESTAMP silently drops the zone.
_ZONED = (
    r"^(.*\d:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*"
    r"(Z|z|[+-]\d{1,2}(?::?\d{2})?|UTC|GMT|[A-Z]{3,4}|[A-Za-z]+(?:/[A-Za-z_+-]+)+)$"
)
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


STAGE = "rr_stage"
"""The database file ingest stages in (attached by :func:`royalroad.io.load.ingest`
in the temporary folder, deleted after): staging tables there are compressed and on
disk, where TEMP tables sat uncompressed in memory (1.41 GB at 10M events, 0.1 GB
and a 98 MB file this way) and spilled tens of GB at 100M."""


TRIMMED = (
    "".join(
        ch for ch in map(chr, range(1, 0x3001)) if ch.isspace() or unicodedata.category(ch) == "Cc"
    )
    + "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"
)
"""What is trimmed from both ends of every text value (with NUL): all Unicode white
space (tab, CR, LF, the ideographic space U+3000, NBSP…), every control character,
and the invisible format characters that pasting leaves behind (zero-width space,
byte-order mark, direction marks)."""


def text(expr: str, dtype: pa.DataType) -> str:
    """A trimmed VARCHAR, NULL when empty.

    Only spaces are trimmed here: the full :data:`TRIMMED` set (tabs, CR, NBSP,
    zero-width space…) is trimmed from text columns in Arrow before staging
    (:func:`royalroad.io.validate.stage`), because DuckDB's ``trim`` against a set
    of 90 characters is some 40 times slower than against spaces.
    """
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return f"NULLIF(trim({expr}), '')"
    if pa.types.is_null(dtype):
        return "CAST(NULL AS VARCHAR)"
    return f"NULLIF(trim(CAST({expr} AS VARCHAR)), '')"


_WIDE = "\u3000" + "".join(chr(c) for c in range(0xFF01, 0xFF5F))
_NARROW = " " + "".join(chr(c) for c in range(0x21, 0x7F))


def identifier(expr: str, dtype: pa.DataType) -> str:
    """An id as text: full-width ASCII letters, digits and signs (``ＬＤ－００１``) and
    the ideographic space folded to ASCII, then trimmed of white space and control
    characters at both ends (tabs and CRs too, see :data:`TRIMMED`); NULL when empty.

    The same lead typed in Excel with an IME and exported by the CRM then matches.
    This is the width part of NFKC only: kana and other characters are left as they
    are, so two ids that differ in anything but width stay different.

    >>> _WIDE[1:4], _NARROW[1:4]
    ('！＂＃', '!"#')
    """
    value = text(expr, dtype)
    # translate() with a 95-character map costs ~1.4 µs per value (14 s for 10M event
    # rows): only ids with a non-ASCII character (fewer characters than bytes) go
    # through it
    folded = f"NULLIF(trim(translate({value}, {lit(_WIDE)}, {lit(_NARROW)})), '')"
    return f"CASE WHEN strlen({value}) = length({value}) THEN {value} ELSE {folded} END"


def _list(formats: tuple[str, ...]) -> str:
    return "[" + ", ".join(lit(f) for f in formats) + "]"


def timestamp(
    expr: str,
    dtype: pa.DataType,
    *,
    tz: str,
    dayfirst: bool = False,
    years: tuple[int, int] | None = YEARS,
) -> str:
    """Parse a column into a naive TIMESTAMP in zone ``tz``.

    Values with an explicit offset (``2024-01-05T13:00:00+09:00``, ``…Z``) are
    converted to ``tz``; naive values are taken to be in ``tz`` already. Excel
    serial numbers (``45296.5``) are read as days since 1899-12-30. A value outside
    ``years`` is NULL (``years=None``: no bound, to tell "out of range" from
    "unreadable").
    """
    if pa.types.is_timestamp(dtype) or pa.types.is_date(dtype):
        if pa.types.is_timestamp(dtype) and dtype.tz:
            value = f"timezone({lit(tz)}, {expr})"
        else:
            value = f"CAST({expr} AS TIMESTAMP)"
        return _in_years(value, years)
    lo, hi = EXCEL_SERIAL_RANGE
    serial = (
        "TIMESTAMP '1899-12-30' + "
        "to_microseconds(CAST(round(CAST({x} AS DOUBLE) * 86400000000) AS BIGINT))"
    )
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype):
        return f"CASE WHEN {expr} BETWEEN {lo} AND {hi} THEN {serial.format(x=expr)} END"
    x = text(expr, dtype)
    others = _DAY_FIRST if dayfirst else _MONTH_FIRST

    def naive(v: str) -> str:
        parsed = (
            f"(CASE WHEN regexp_matches({v}, {lit(_ISO)}) THEN try_cast({v} AS TIMESTAMP) "
            f"WHEN regexp_matches({v}, {lit(_YEAR_LEAD)}) "
            f"THEN try_strptime({v}, {_list(_YEAR_FIRST)}) "
            f"ELSE try_strptime({v}, {_list(others)}) END)"
        )
        return _in_years(parsed, years)

    # Zoned values: the wall time is read like any naive value (so 05/01/2024 13:00+09:00
    # follows --dayfirst too), written back as ISO with the zone attached, and cast to
    # an instant. Whatever cannot be read that way is NULL, hence quarantined.
    wall = naive(f"regexp_extract({x}, {lit(_ZONED)}, 1)")
    zone = f"regexp_extract({x}, {lit(_ZONED)}, 2)"
    zone = (
        f"(CASE WHEN regexp_matches({zone}, '^[A-Za-z]{{2,}}') THEN ' ' || {zone} ELSE {zone} END)"
    )
    instant = f"try_cast(strftime({wall}, '%Y-%m-%dT%H:%M:%S.%f') || {zone} AS TIMESTAMPTZ)"
    return (
        f"(CASE WHEN {x} IS NULL THEN NULL "
        f"WHEN regexp_matches({x}, {lit(_ZONED)}) THEN timezone({lit(tz)}, {instant}) "
        f"WHEN regexp_matches({x}, {lit(_SERIAL)}) THEN "
        f"CASE WHEN CAST({x} AS DOUBLE) BETWEEN {lo} AND {hi} THEN {serial.format(x=x)} END "
        f"ELSE {naive(x)} END)"
    )


def _in_years(value: str, years: tuple[int, int] | None) -> str:
    if years is None:
        return value
    return f"(CASE WHEN year({value}) BETWEEN {years[0]} AND {years[1]} THEN {value} END)"


END_OF_DAY = "INTERVAL 1 DAY - INTERVAL 1 MICROSECOND"
"""Added to a date-only close: 23:59:59.999999, the last instant of its day."""
_HAS_TIME = "[:時]"


def date_only(expr: str, dtype: pa.DataType) -> str:
    """SQL truth of "this value is a date without a time of day".

    A text value is date-only when it has no ``:`` and no ``時`` (``2024/05/01``,
    ``2024年5月1日``, ``20240501``, an Excel serial without a fraction); a DATE
    column always is, a TIMESTAMP column never (a typed time says what it says).
    """
    if pa.types.is_date(dtype):
        return "TRUE"
    if pa.types.is_timestamp(dtype):
        return "FALSE"
    if pa.types.is_integer(dtype):
        return "TRUE"
    if pa.types.is_floating(dtype):
        return f"({expr} = floor({expr}))"
    x = text(expr, dtype)
    return (
        f"(NOT regexp_matches({x}, {lit(_HAS_TIME)}) "
        f"AND NOT regexp_matches({x}, '^\\d{{5}}\\.\\d*[1-9]'))"
    )


_FULLWIDTH = "０１２３４５６７８９．，－＋"
_HALFWIDTH = "0123456789.,-+"
# Currency marks and spaces around or inside an amount. The backslash is the yen sign
# as Shift_JIS/CP932 stores it (byte 0x5C): Excel in Japan writes "¥1,200" that way.
_CURRENCY = r"[\s¥￥$€£円\\]|JPY|USD|EUR"
_GROUPED = r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$"  # 1,234,567.89 or 1234.5
_SCIENTIFIC = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"  # 1e3, .5, 12.
_DECIMAL_COMMA = r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$"  # 1.234,56 or 12,5


def number(expr: str, dtype: pa.DataType) -> str:
    """Parse an amount; NULL for anything that is not plainly a finite number.

    Thousands separators must group by three (``1,234`` → 1234, ``12,34,5`` is not a
    number); a decimal comma is read when it cannot be a thousands separator
    (``1.234,56`` → 1234.56, ``12,5`` → 12.5). Currency marks and full-width
    digits are accepted: ``¥1,234`` / ``\\1,234`` (CP932) / ``１,２３４円`` → 1234,
    ``$12.50`` → 12.5. ``NaN`` and ``inf`` are not amounts.
    """
    if pa.types.is_integer(dtype) or pa.types.is_decimal(dtype):
        return f"CAST({expr} AS DOUBLE)"
    if pa.types.is_floating(dtype):
        return f"CASE WHEN isfinite({expr}) THEN CAST({expr} AS DOUBLE) END"
    x = text(expr, dtype)
    folded = f"translate({x}, {lit(_FULLWIDTH)}, {lit(_HALFWIDTH)})"
    c = f"regexp_replace({folded}, {lit(_CURRENCY)}, '', 'g')"
    value = (
        f"(CASE WHEN regexp_matches({c}, {lit(_GROUPED)}) "
        f"THEN try_cast(replace({c}, ',', '') AS DOUBLE) "
        f"WHEN regexp_matches({c}, {lit(_SCIENTIFIC)}) THEN try_cast({c} AS DOUBLE) "
        f"WHEN regexp_matches({c}, {lit(_DECIMAL_COMMA)}) "
        f"THEN try_cast(replace(replace({c}, '.', ''), ',', '.') AS DOUBLE) END)"
    )
    return f"(CASE WHEN isfinite({value}) THEN {value} END)"  # 1e309 overflows to inf


def norm_value(value: str) -> str:
    """How outcome values are compared: NFKC, case-folded, trimmed."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def outcome(
    expr: str,
    dtype: pa.DataType,
    values: dict[str, tuple[str, ...]],
    other: str,
    raw_values: Iterable[str | None] | None = None,
) -> str:
    """Map raw outcome values to won/lost/open; NULL for an unknown value.

    With ``raw_values`` (the column's distinct values, known for any in-memory
    source) the comparison is exactly :func:`norm_value` (NFKC, so ``Ｗｏｎ`` is
    ``won``); the engine only matches the listed raw strings. Without them, it falls
    back to lower-casing in SQL.
    """
    classes = ("won", "lost", "open")
    wanted = {cls: {norm_value(v) for v in values.get(cls, ())} for cls in classes}
    fallback = "'open'" if other == "open" else "NULL"
    parts = []
    if raw_values is not None and (pa.types.is_string(dtype) or pa.types.is_large_string(dtype)):
        matched: dict[str, list[str]] = {cls: [] for cls in classes}
        for value in raw_values:
            if value is None:
                continue
            key = norm_value(value)
            for cls in classes:
                if key and key in wanted[cls]:
                    matched[cls].append(value)
                    break
        for cls in classes:
            if matched[cls]:
                listed = ", ".join(lit(v) for v in sorted(matched[cls]))
                parts.append(f"WHEN {expr} IN ({listed}) THEN '{cls}'")
        return (
            f"(CASE {' '.join(parts)} ELSE {fallback} END)"
            if parts
            else f"(CASE WHEN TRUE THEN {fallback} END)"
        )
    x = f"lower({text(expr, dtype)})"
    for cls in classes:
        vals = sorted(wanted[cls])
        if vals:
            listed = ", ".join(lit(v) for v in vals)
            parts.append(f"WHEN {x} IN ({listed}) THEN '{cls}'")
    return f"(CASE {' '.join(parts)} ELSE {fallback} END)"


def coalesce(exprs: list[str]) -> str:
    return exprs[0] if len(exprs) == 1 else f"coalesce({', '.join(exprs)})"
