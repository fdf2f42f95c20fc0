"""Write the Excel workbook ``royalroad.xlsx``: one sheet per table of the results.

Layout of every sheet: row 1 holds the column headers in the user's language (bold,
filled), row 2 the canonical column names (the names of ``results.json`` and
``GoalResult.to_frame()``; small grey italics) and carries the autofilter; data
starts on row 3 and the panes are frozen above it. Machines read a sheet with
``pandas.read_excel(path, sheet_name=..., header=1)`` and get the canonical names in
either language. The Summary sheet is an item/value table whose ``key`` column
holds the canonical name of each item.

Cells keep their type: counts, rates (with a percent number format), ratios,
p-values and days are numbers; booleans are TRUE/FALSE; NaN, ±inf and missing
values are empty cells. Every piece of text is written with ``write_string``, so
user text such as an activity named ``=cmd|' /C calc'!A0`` can never become a
formula, and formula-like text also gets the ``quote_prefix`` format (see
:mod:`royalroad.report.safe`).

Journey sheets follow the goal sheets: the royal road (with how many won, lost
and open leads followed it, in a small block to its right), the Markov chain's
states and removal effects, the variants, the directly-follows graph and every open
lead's next best action (all of them, the columns of the CRM CSV).

The file is deterministic: the workbook's creation time is the data's as-of time,
and xlsxwriter stamps zip members with a fixed date, so the same results give the
same bytes.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from royalroad import __version__
from royalroad.analysis.goals_result import Candidate, GoalResult
from royalroad.analysis.journeys import START, WON
from royalroad.analysis.nba import CLOSE, NextResult
from royalroad.analysis.paths_result import PathsResult, state_label
from royalroad.i18n import LANGS, get_lang, has, t
from royalroad.quality import FileSummary, IngestSummary
from royalroad.report.safe import excel_text, is_formula_like

FILENAME = "royalroad.xlsx"
FALLBACK_CREATED = datetime(2000, 1, 1)
"""Creation time stamped when the results carry no readable as-of time."""

NUMBER_FORMATS = {
    "int": "#,##0",
    "pct": "0.0%",
    "ratio": "0.00",
    "mcc": "0.000",
    "p": "0.00E+00",
    "days": "0.0",
    "dec1": "0.0",
    "num": "General",
    "datetime": "yyyy-mm-dd hh:mm:ss",
}
COLUMN_KINDS = {
    **dict.fromkeys(
        (
            "rank",
            "min_count",
            "within_days",
            "leads",
            "won",
            "lost",
            "open",
            "count",
            "rows_read",
            "accepted",
            "quarantined",
            "blank_rows",
            "header_line",
            "preamble_rows",
            "step",
            "followed",
            "total",
            "exits",
            "evidence_n",
        ),
        "int",
    ),
    **dict.fromkeys(
        (
            "win_rate",
            "win_rate_ci_low",
            "win_rate_ci_high",
            "recall",
            "precision",
            "npv",
            "specificity",
            "p_win_after",
            "share",
            "p_win",
            "removal_effect",
            "expected_win_rate",
            "current_win_rate",
        ),
        "pct",
    ),
    **dict.fromkeys(
        (
            "lift",
            "odds_ratio",
            "odds_ratio_ci_low",
            "odds_ratio_ci_high",
            "adjusted_odds_ratio",
            "adjusted_odds_ratio_ci_low",
            "adjusted_odds_ratio_ci_high",
        ),
        "ratio",
    ),
    **dict.fromkeys(("p_value", "q_value"), "p"),
    **dict.fromkeys(
        ("median_days_to_reach", "median_days_to_close", "median_days", "days_idle"), "days"
    ),
    **dict.fromkeys(("expected_steps", "median_hours"), "dec1"),
    **dict.fromkeys(("recommended", "outcome_proxy", "confounded", "eligible", "stalled"), "bool"),
    "mcc": "mcc",
}
MIN_WIDTH, MAX_WIDTH = 6, 60
_BAD_SHEET_CHARS = str.maketrans({ch: "_" for ch in "[]:*?/\\"})


@dataclass(frozen=True)
class Column:
    """A column by canonical name; ``kind`` picks the number format (``row``: per row).

    ``header``: message key of the translated header when the canonical name's
    usual one (``excel.col.<name>``) would mislead on this sheet.
    """

    name: str
    kind: str = "text"
    header: str | None = None


def _cols(*names: str) -> tuple[Column, ...]:
    return tuple(Column(n, COLUMN_KINDS.get(n, "text")) for n in names)


@dataclass(frozen=True)
class Table:
    """One sheet's content: data only, localised text already rendered."""

    key: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    row_kinds: tuple[str, ...] = ()
    freeze_cols: int = 0
    side: Table | None = None
    """A small second table written to the right of this one, after an empty column."""


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
        for table in build_tables(results, lang):
            _write_table(wb, table, lang, formats)
        wb.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def build_tables(results, lang: str) -> list[Table]:
    """The workbook's sheets in order; every sheet is present, empty tables keep their headers."""
    goals, quality = results.goals, results.quality
    return [
        _summary(goals, quality, results.meta, lang),
        _candidates(goals, lang),
        _runner_ups(goals, lang),
        Table(
            "proxies",
            (Column("activity"), Column("reason"), Column("reason_text")),
            tuple((p.activity, p.reason, p.text(lang)) for p in goals.proxies),
        ),
        *_journeys(results.paths, lang),
        _next_actions(results.next, lang),
        _caveats(goals, quality, lang),
        Table(
            "files",
            tuple(
                Column(f.name, COLUMN_KINDS.get(f.name, "text"))
                for f in dataclasses.fields(FileSummary)
            ),
            tuple(dataclasses.astuple(f) for f in quality.files),
        ),
        _quarantine(quality, lang),
    ]


def _summary(goals: GoalResult, q: IngestSummary, meta: dict, lang: str) -> Table:
    rows: list[tuple] = []
    kinds: list[str] = []

    def add(key: str, value: Any, kind: str, ci: tuple | None = None) -> None:
        lo, hi = ci or (None, None)
        rows.append((t(f"excel.item.{key}", lang=lang), value, lo, hi, key))
        kinds.append(kind)

    add("sentence", goals.sentence(lang), "text")
    add("reason", goals.reason_text(lang), "text")
    if (g := goals.recommended) is not None:
        add("goal", g.label(lang), "text")
        add("goal_win_rate", g.win_rate, "pct", g.win_rate_ci)
        add("goal_lift", g.lift, "ratio")
        add("goal_recall", g.recall, "pct")
        add("goal_odds_ratio", g.odds_ratio, "ratio", g.odds_ratio_ci)
        add("goal_q_value", g.q_value, "p")
        add("goal_days_to_reach", g.median_days_to_reach, "days")
        add("goal_days_to_close", g.median_days_to_close, "days")
    add("base_rate", goals.base_rate, "pct", goals.base_rate_ci)
    for key in ("closed", "won", "lost", "open"):
        add(key, getattr(goals, key), "int")
    add("candidates_tried", len(goals.candidates), "int")
    for key in (
        "leads",
        "events",
        "events_counted",
        "activities",
        "notes",
        "rows_read",
        "quarantined",
    ):
        add(key, getattr(q, key), "int")
    as_of = _as_of(meta.get("as_of") or q.as_of)
    add("as_of", as_of or (meta.get("as_of") or q.as_of), "datetime" if as_of else "text")
    add("tz", meta.get("tz") or q.tz, "text")
    add("version", __version__, "text")
    cols = (
        Column("item"),
        Column("value", "row"),
        Column("ci_low", "row"),
        Column("ci_high", "row"),
        Column("key"),
    )
    return Table("summary", cols, tuple(rows), tuple(kinds))


def _candidate_columns() -> list[str]:
    """Columns of ``GoalResult.to_frame()`` when there is no candidate to take them from."""
    names = []
    for f in dataclasses.fields(Candidate):
        names += [f"{f.name}_low", f"{f.name}_high"] if f.name.endswith("_ci") else [f.name]
    return names


def _status(c: Candidate, lang: str) -> str:
    key = "goal.status.eligible" if c.eligible else f"goal.status.{c.why_not}"
    return t(key, lang=lang) if has(key) else (c.why_not or "")


def _candidates(goals: GoalResult, lang: str) -> Table:
    frame = goals.to_frame()
    names = [n for n in (list(frame.columns) or _candidate_columns()) if n != "label"]
    goal_key = goals.recommended.key if goals.recommended else None
    records = frame[names].to_dict("records") if len(frame) else []
    rows = tuple(
        (i, c.key == goal_key, c.label(lang), _status(c, lang), *(r[n] for n in names))
        for i, (c, r) in enumerate(zip(goals.candidates, records, strict=True), start=1)
    )
    kinds = {n: COLUMN_KINDS.get(n) or _infer_kind(frame.get(n)) for n in names}
    cols = (
        Column("rank", "int"),
        Column("recommended", "bool"),
        Column("label"),
        Column("status"),
        *(Column(n, kinds[n]) for n in names),
    )
    return Table("candidates", cols, rows, freeze_cols=3)


def _runner_ups(goals: GoalResult, lang: str) -> Table:
    metrics = ("won", "lost", "win_rate", "lift", "recall", "mcc", "q_value")
    rows = tuple(
        (
            i,
            r.candidate.label(lang),
            r.why,
            r.text(lang),
            *(getattr(r.candidate, m) for m in metrics[:3]),
            *r.candidate.win_rate_ci,
            *(getattr(r.candidate, m) for m in metrics[3:]),
        )
        for i, r in enumerate(goals.runner_ups, start=1)
    )
    names = (
        "rank",
        "label",
        "why",
        "why_text",
        *metrics[:3],
        "win_rate_ci_low",
        "win_rate_ci_high",
        *metrics[3:],
    )
    return Table(
        "runner_ups",
        tuple(Column(n, COLUMN_KINDS.get(n, "text")) for n in names),
        rows,
        freeze_cols=2,
    )


def _journeys(paths: PathsResult, lang: str) -> list[Table]:
    """Royal road (with its conformance), Markov states, removal effects, variants and DFG."""
    road = tuple(
        (i, state_label(s.activity, lang) if s.activity == WON else s.activity, s.p_win_after)
        for i, s in enumerate(paths.royal_road, start=1)
    )
    c = paths.conformance
    fit = (
        tuple(
            (t(f"word.{o}", lang=lang), getattr(c, f"{o}_followed"), getattr(c, o), c.share(o), o)
            for o in ("won", "lost", "open")
        )
        if c is not None
        else ()
    )
    conformance = Table(
        "conformance",
        (Column("outcome"), *_cols("followed", "total", "share"), Column("outcome_code")),
        fit,
    )
    states = sorted(
        paths.states, key=lambda s: (-(s.p_win if math.isfinite(s.p_win) else -1), s.state)
    )
    variants = tuple(
        (
            i,
            " → ".join(v.path),
            v.leads,
            v.won,
            v.lost,
            v.open,
            v.win_rate,
            *v.win_rate_ci,
            v.median_days,
        )
        for i, v in enumerate(paths.variants, start=1)
    )
    return [
        Table("royal_road", _cols("step", "activity", "p_win_after"), road, side=conformance),
        Table(
            "markov_states",
            _cols("state", "p_win", "expected_steps", "exits"),
            tuple((state_label(s.state, lang), s.p_win, s.expected_steps, s.exits) for s in states),
            freeze_cols=1,
        ),
        Table(
            "removal_effects",
            _cols("activity", "removal_effect"),
            tuple(paths.removal_effects.items()),
        ),
        Table(
            "variants",
            (
                *_cols("rank", "path"),
                Column("leads", "int", "excel.head.variant_leads"),
                *_cols(
                    "won",
                    "lost",
                    "open",
                    "win_rate",
                    "win_rate_ci_low",
                    "win_rate_ci_high",
                    "median_days",
                ),
            ),
            variants,
            freeze_cols=2,
        ),
        Table(
            "dfg",
            (
                *_cols("from", "to"),
                Column("count", "int", "excel.head.dfg_count"),
                *_cols("won", "lost", "open", "median_hours"),
            ),
            tuple(
                (e.src, e.dst, e.count, e.won, e.lost, e.open, e.median_hours) for e in paths.dfg
            ),
            freeze_cols=2,
        ),
    ]


def _action(action: str | None, lang: str) -> str | None:
    """An action's display name in ``lang``, as ``presenters.paths_terminal.action_label``."""
    return t("nba.close", lang=lang) if action == CLOSE else action


def _next_actions(nxt: NextResult, lang: str) -> Table:
    """Every open lead, with the columns of the CRM CSV (status translated, its code beside it)."""
    cols = (
        Column("lead_id"),
        Column("status", header="excel.head.lead_status"),
        Column("status_code"),
        *_cols(
            "recommended_action",
            "expected_win_rate",
            "evidence_n",
            "stalled",
            "current_step",
            "second_action",
            "current_win_rate",
            "days_idle",
        ),
    )
    rows = tuple(
        (
            r["lead_id"],
            t(f"nba.status.{r['status']}", lang=lang),
            r["status"],
            _action(r["recommended_action"], lang),
            r["expected_win_rate"],
            r["evidence_n"],
            r["stalled"],
            state_label(r["current_step"], lang)
            if r["current_step"] == START
            else r["current_step"],
            _action(r["second_action"], lang),
            r["current_win_rate"],
            r["days_idle"],
        )
        for r in nxt.leads.to_pylist()
    )
    return Table("next_actions", cols, rows, freeze_cols=1)


def _caveats(goals: GoalResult, q: IngestSummary, lang: str) -> Table:
    rows = [(c.key, c.text(lang)) for c in goals.caveats]
    if q.quarantined:
        key = "report.caveats.quarantined"
        rows.append((key, t(key, lang=lang, n=f"{q.quarantined:,}", read=f"{q.rows_read:,}")))
    return Table("caveats", (Column("key"), Column("text")), tuple(rows))


def _quarantine(q: IngestSummary, lang: str) -> Table:
    rows = []
    for r in q.reasons:
        key = f"quarantine.{r.reason}"
        examples = "\n".join(
            t(
                "summary.example",
                lang=lang,
                line=e.line,
                column=e.column or "-",
                value=e.value if e.value is not None else "∅",
            )
            for e in r.examples
        )
        raw = "\n".join(e.raw for e in r.examples)
        rows.append(
            (
                r.table,
                r.file,
                r.reason,
                t(key, lang=lang) if has(key) else r.reason,
                r.count,
                examples,
                raw,
            )
        )
    names = ("table", "file", "reason", "reason_text", "count", "examples", "raw")
    return Table(
        "quarantine", tuple(Column(n, COLUMN_KINDS.get(n, "text")) for n in names), tuple(rows)
    )


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
    if table.side is not None:  # an empty column (headers still styled), then the side table
        gap = len(widths)
        ws.write_blank(0, gap, None, formats.get(style="header"))
        ws.write_blank(1, gap, None, formats.get(style="canonical"))
        widths += [MIN_WIDTH - 2, *_write_block(ws, table.side, gap + 1, lang, formats)]
    for j, w in enumerate(widths):
        ws.set_column(j, j, min(MAX_WIDTH, max(MIN_WIDTH, w + 2)))
    ws.freeze_panes(2, table.freeze_cols)
    ws.autofilter(1, 0, 1 + len(table.rows), len(table.columns) - 1)


def _write_block(ws, table: Table, c0: int, lang: str, formats: _Formats) -> list[int]:
    """Both header rows and the data of ``table`` from column ``c0``; return the column widths."""
    widths = []
    for j, col in enumerate(table.columns):
        key = col.header or f"excel.col.{col.name}"
        header = t(key, lang=lang) if has(key) else col.name
        _text(ws, 0, c0 + j, header, formats, style="header")
        _text(ws, 1, c0 + j, col.name, formats, style="canonical")
        widths.append(max(display_width(header), display_width(col.name)))
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


def _infer_kind(series) -> str:
    if series is None:
        return "text"
    kind = getattr(series.dtype, "kind", "O")
    return {"b": "bool", "i": "int", "u": "int", "f": "num"}.get(kind, "text")


def _as_of(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)).replace(tzinfo=None)
    except ValueError:
        return None


def _created(meta: dict) -> datetime:
    """The workbook's creation time: the data's as-of time, so reruns give the same bytes."""
    return _as_of(meta.get("as_of")) or FALLBACK_CREATED
