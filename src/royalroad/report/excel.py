"""Write the Excel workbook ``royalroad.xlsx``: one sheet per table of the results.

Layout of every sheet: one visible header row, in the user's language (row 2: bold,
filled, with the autofilter), data from row 3, the panes frozen above it. Row 1 holds
the canonical column names (the names of ``results.json`` and
``GoalResult.to_frame()``) and is hidden: a person sees one header, a machine reads
``pandas.read_excel(path, sheet_name=..., header=0)`` and gets the same names in
either language (and skips row 2, the translated header: ``skiprows=[1]``). The
Summary sheet is an item/value table whose ``key`` column holds the canonical name
of each item.

Cells keep their type: counts, rates (with a percent number format), ratios,
p-values and days are numbers; booleans are TRUE/FALSE; NaN, ±inf and missing
values are empty cells. Every piece of text is written with ``write_string``, so
user text such as an activity named ``=cmd|' /C calc'!A0`` can never become a
formula, and formula-like text also gets the ``quote_prefix`` format (see
:mod:`royalroad.report.safe`).

Journey sheets follow the goal sheets: the royal road and how many won, lost and
open leads followed it, the Markov chain's states and removal effects, the variants
and the winners' variants, the directly-follows graph and every open lead's next
best action (all of them, the columns of the CRM CSV).

The file is deterministic: the workbook's creation time is the data's as-of time,
and xlsxwriter stamps zip members with a fixed date, so the same results give the
same bytes.
"""

from __future__ import annotations

import functools
import math
import os
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

from royalroad import __version__
from royalroad.i18n import LANGS, get_lang, has, t
from royalroad.report.safe import excel_text, is_formula_like
from royalroad.report.sheet import NUMBER_FORMATS, Table, as_of_datetime

FILENAME = "royalroad.xlsx"
FALLBACK_CREATED = datetime(2000, 1, 1)
"""Creation time stamped when the results carry no readable as-of time."""

MIN_WIDTH, MAX_WIDTH = 6, 60
_BAD_SHEET_CHARS = str.maketrans({ch: "_" for ch in "[]:*?/\\"})


def sheet_name(text: str) -> str:
    """A valid Excel sheet name: at most 31 characters, none of ``[]:*?/\\``.

    >>> sheet_name("Runner-ups: [top]/all")
    'Runner-ups_ _top__all'
    """
    return text.translate(_BAD_SHEET_CHARS).strip("'")[:31] or "Sheet"


def display_width(text: str) -> int:
    """Width in Excel character units: full-width (CJK) characters count double.

    >>> display_width("LD-001"), display_width("技術打合せ 2")
    (6, 12)
    """
    if text.isascii():  # ids, numbers as text, English: the common case, without a loop
        return len(text)
    return _wide_width(text)


@functools.lru_cache(maxsize=65536)
def _wide_width(text: str) -> int:
    # values repeat (activities, statuses, segment names): each is measured once
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def build_tables(results, lang: str) -> list[Table]:
    """The workbook's sheets in order; every sheet is present, empty tables keep their headers."""
    from royalroad.report import (
        sheets_data,
        sheets_funnel,
        sheets_goals,
        sheets_journeys,
        sheets_plan,
        sheets_reps,
        sheets_triggers,
        sheets_trust,
    )

    goals, quality = results.goals, results.quality
    return [
        sheets_goals.summary(goals, quality, results.meta, lang),
        sheets_goals.candidates(goals, lang),
        sheets_goals.runner_ups(goals, lang),
        sheets_goals.proxies(goals, lang),
        *sheets_journeys.journeys(results.paths, lang),
        sheets_journeys.next_actions(results.next, lang),
        *sheets_funnel.funnel(getattr(results, "funnel", None), lang),
        *sheets_reps.reps(getattr(results, "reps", None), lang),
        *sheets_plan.plan_sheets(getattr(results, "plan", None), lang),
        sheets_plan.track_sheet(getattr(results, "track", None), lang),
        *sheets_triggers.triggers(getattr(results, "triggers", None), lang),
        *sheets_trust.backtest(results.backtest, lang),
        sheets_goals.caveats(goals, quality, lang),
        sheets_data.files(quality),
        sheets_data.quarantine(quality, lang),
    ]


def write_workbook(results, path: str | Path, *, lang: str | None = None) -> Path:
    """Write the results as an Excel workbook and return its path.

    Parameters
    ----------
    results : royalroad.pipeline.Results
    path : str or Path
        A ``.xlsx`` file, or a directory that receives ``royalroad.xlsx``.
    lang : {"en", "ja"}, optional
        Language of sheet names, headers and text; default: the current language.

    Examples
    --------
    >>> from royalroad.pipeline import analyse                      # doctest: +SKIP
    >>> write_workbook(analyse(ws), "out", lang="ja")                # doctest: +SKIP
    PosixPath('out/royalroad.xlsx')
    """
    import xlsxwriter

    lang = lang or get_lang()
    if lang not in LANGS:
        from royalroad.errors import InputError

        raise InputError("error.bad_lang", value=lang, allowed=", ".join(LANGS))
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        path.mkdir(parents=True, exist_ok=True)
        path = path / FILENAME
    tmp = path.with_name(f".{path.name}.tmp")
    wb = xlsxwriter.Workbook(
        str(tmp),
        {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )
    try:
        wb.set_properties(
            {
                "title": t("excel.title", lang=lang),
                "author": "royalroad",
                "comments": f"royalroad {__version__}",
                "created": _created(results.meta),
            }
        )
        formats = _Formats(wb)
        tables = build_tables(results, lang)
        anon = getattr(results, "anonymiser", None)
        if anon is not None:  # names in free text too
            tables = anon.tables(tables)
        for table in tables:
            _write_table(wb, table, lang, formats)
        wb.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


# ---------------------------------------------------------------- writing


class _Formats:
    """xlsxwriter formats, created once per distinct look (a workbook allows ~64k)."""

    HEADER = {
        "bold": True,
        "bg_color": "#1F4E79",
        "font_color": "#FFFFFF",
        "valign": "top",
        "text_wrap": True,
    }
    CANONICAL = {"italic": True, "font_color": "#595959", "bg_color": "#DDEBF7", "font_size": 9}

    def __init__(self, wb) -> None:
        self.wb = wb
        self.cache: dict[tuple, Any] = {}

    def get(
        self, kind: str = "text", *, quote: bool = False, wrap: bool = False, style: str = ""
    ) -> Any:
        key = (kind, quote, wrap, style)
        if key not in self.cache:
            props: dict[str, Any] = {"valign": "top"}
            props |= {"header": self.HEADER, "canonical": self.CANONICAL}.get(style, {})
            if kind in NUMBER_FORMATS:
                props["num_format"] = NUMBER_FORMATS[kind]
            if quote:
                props["quote_prefix"] = True
            if wrap:
                props["text_wrap"] = True
            self.cache[key] = self.wb.add_format(props)
        return self.cache[key]


def _write_table(wb, table: Table, lang: str, formats: _Formats) -> None:
    ws = wb.add_worksheet(sheet_name(t(f"excel.sheet.{table.key}", lang=lang)))
    widths = _write_block(ws, table, 0, lang, formats)
    ws.set_row(0, None, None, {"hidden": True})  # the canonical names, for machines
    for j, w in enumerate(widths):
        ws.set_column(j, j, min(MAX_WIDTH, max(MIN_WIDTH, w + 2)))
    ws.freeze_panes(2, table.freeze_cols)
    ws.autofilter(1, 0, 1 + len(table.rows), len(table.columns) - 1)
    if any(table.row_levels):
        ws.outline_settings(True, False, True, False)  # the +/- on the group's top row
        for i, level in enumerate(table.row_levels):
            if level:
                ws.set_row(i + 2, None, None, {"level": level, "hidden": True})


def _write_block(ws, table: Table, c0: int, lang: str, formats: _Formats) -> list[int]:
    """The canonical names (row 1), the header (row 2) and the data of ``table`` from
    column ``c0``; return the column widths."""
    widths = []
    for j, col in enumerate(table.columns):
        key = col.header or f"excel.col.{col.name}"
        header = t(key, lang=lang) if has(key) else col.name
        _text(ws, 0, c0 + j, col.name, formats, style="canonical")
        _text(ws, 1, c0 + j, header, formats, style="header")
        widths.append(display_width(header))
    for i, row in enumerate(table.rows):
        for j, (col, value) in enumerate(zip(table.columns, row, strict=True)):
            kind = table.row_kinds[i] if col.kind == "row" else col.kind
            widths[j] = max(widths[j], _write_cell(ws, i + 2, c0 + j, value, kind, formats))
    return widths


def _write_cell(ws, r: int, c: int, value: Any, kind: str, formats: _Formats) -> int:
    """Write one value with its type kept; return its display width."""
    value = _plain(value)
    if value is None:
        return 0
    if isinstance(value, bool):
        ws.write_boolean(r, c, value, formats.get("bool"))
        return 5
    if isinstance(value, datetime):
        ws.write_datetime(r, c, value, formats.get("datetime"))
        return 19
    if isinstance(value, (int, float)):
        kind = kind if kind in NUMBER_FORMATS else "num"
        ws.write_number(r, c, value, formats.get(kind))
        return _number_width(value, kind)
    return _text(ws, r, c, value, formats)


def _text(ws, r: int, c: int, text: str, formats: _Formats, *, style: str = "") -> int:
    """``write_string`` (never a formula), quote-prefixed when formula-like; return the width."""
    text = excel_text(text)
    multiline = "\n" in text
    width = (
        max(display_width(line) for line in text.split("\n")) if multiline else display_width(text)
    )
    wrap = multiline or width > MAX_WIDTH
    ws.write_string(
        r, c, text, formats.get("text", quote=is_formula_like(text), wrap=wrap, style=style)
    )
    return width


def _plain(value: Any) -> Any:
    """A Python bool, int, float, str or datetime; ``None`` for missing, NaN and ±inf."""
    if value is None or isinstance(value, (bool, str, datetime)):
        return value
    if hasattr(value, "item") and not isinstance(value, (int, float)):
        value = value.item()  # numpy scalar → Python scalar
        if isinstance(value, bool):
            return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _number_width(value: float, kind: str) -> int:
    if kind == "int":
        return len(f"{value:,.0f}")
    if kind == "pct":
        return len(f"{100 * value:.1f}%")
    if kind == "p":
        return 9
    return len(f"{value:,.3f}")


def _created(meta: dict) -> datetime:
    """The workbook's creation time: the data's as-of time, so reruns give the same bytes."""
    return as_of_datetime(meta.get("as_of")) or FALLBACK_CREATED
