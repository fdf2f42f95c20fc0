"""What the web app decides about its inputs, without Streamlit: uploads, columns, outcomes.

The Streamlit script (:mod:`royalroad.app.main`) turns widgets into the plain values
these functions take, so every rule of the app is tested without a browser:

* uploads are saved into the session's folder (:mod:`royalroad.app.sessions`), with a
  size cap and safe names;
* each file is read once with :func:`royalroad.io.readers.read_source` (detected
  encoding, delimiter, sheet) and its columns are matched with the presets;
* the user's corrections become a TOML mapping file that
  :func:`royalroad.io.mapping.load_config` reads back, so the app and
  ``royalroad analyze --mapping`` run the very same ingest;
* outcome values (leads table) or outcome activities (event log) are offered as
  found in the data, with their counts.

Runs live in :mod:`royalroad.app.runner`, displayed tables in :mod:`royalroad.app.present`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from royalroad.errors import InputError
from royalroad.io.mapping import (
    OPTIONAL,
    PRESET_ORDER,
    REQUIRED,
    ColumnMap,
    Preset,
    get_preset,
    normalise_header,
    resolve,
)
from royalroad.io.sqlparts import norm_value

ROLES = ("leads", "events", "notes")
SKIP = "skip"
UPLOADS = "uploads"
WORKSPACE = "workspace.duckdb"
MAPPING = "mapping.toml"
UPLOAD_TYPES = ("csv", "tsv", "txt", "xlsx", "xlsm", "xes", "gz", "parquet")
MAX_VALUES = 500
"""Distinct values offered in the won/lost pickers (the most frequent first)."""

_NAME_HINTS = {
    "leads": ("lead", "deal", "opportunit", "商談", "リード", "案件"),
    "events": ("event", "activit", "log", "xes", "活動", "イベント", "履歴"),
    "notes": ("note", "memo", "comment", "メモ", "コメント", "日報"),
}
_WON_HINTS = ("won", "approved", "受注", "成約", "成立")
_LOST_HINTS = (
    "lost",
    "declined",
    "cancelled",
    "canceled",
    "reject",
    "denied",
    "失注",
    "見送り",
    "辞退",
    "不成立",
)


# Uploads ------------------------------------------------------------------------------


def safe_name(name: str) -> str:
    """The uploaded file's own name, reduced to a safe single path component.

    >>> safe_name("../../etc/passwd"), safe_name("C:\\\\Users\\\\x\\\\商談.csv"), safe_name("..")
    ('passwd', '商談.csv', 'upload')
    """
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name))[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return base[:200] or "upload"


def save_upload(folder: str | Path, name: str, data: bytes, *, max_bytes: int) -> Path:
    """Write one upload into ``folder/uploads`` and return its path.

    A second upload of the same name with other content gets `` (2)`` before the
    suffix, so no file silently replaces another.

    Raises
    ------
    InputError
        When the file is larger than ``max_bytes``.
    """
    if len(data) > max_bytes:
        raise InputError(
            "app.upload_too_large",
            file=name,
            size=f"{len(data) / 2**20:,.1f}",
            limit=f"{max_bytes / 2**20:,.0f}",
        )
    target_dir = Path(folder) / UPLOADS
    target_dir.mkdir(parents=True, exist_ok=True)
    clean = safe_name(name)
    stem, dot, suffix = clean.partition(".")
    target = target_dir / clean
    n = 1
    while target.exists() and target.read_bytes() != data:
        n += 1
        target = target_dir / f"{stem} ({n}){dot}{suffix}"
    target.write_bytes(data)
    return target


def display_name(path: str | Path, folder: str | Path) -> str:
    """A saved upload's path as the user knows it (relative to the uploads folder)."""
    p, root = Path(path), Path(folder) / UPLOADS
    try:
        return str(p.relative_to(root))
    except ValueError:
        return str(path)


def clean_message(message: str, folder: str | Path) -> str:
    """An error line with the session folder removed, so it names files as uploaded."""
    root = str(Path(folder) / UPLOADS)
    return message.replace(root + "/", "").replace(root, "")


# Reading and detecting ----------------------------------------------------------------


@dataclass(frozen=True)
class FileInfo:
    """One uploaded file as read: what was detected, and its rows for value pickers."""

    name: str
    path: str
    kind: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    rows: int
    columns: tuple[str, ...]
    table: pa.Table = field(repr=False)
    trace_columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def is_log(self) -> bool:
        """XES: always an event log (its trace attributes become lead columns)."""
        return self.kind == "xes"


def inspect_upload(path: str | Path, name: str | None = None) -> FileInfo:
    """Read a saved upload with the normal readers and describe it."""
    from royalroad.io.readers import read_source

    src = read_source(str(path), find_header=upload_header)
    raw = src.table
    return FileInfo(
        name=name or Path(path).name,
        path=str(path),
        kind=raw.kind,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        sheet=raw.sheet,
        rows=raw.num_rows,
        columns=tuple(raw.columns),
        table=raw.table,
        trace_columns=tuple(src.traces.columns) if src.traces is not None else (),
        notes=tuple(raw.notes),
    )


def upload_header(rows) -> int:
    """The header row of an upload whose role is not chosen yet: the earliest row that
    names every required column of some table (leads, events or notes), below any
    title rows; else the first row, and the user maps the columns by hand.

    >>> title = [["商談一覧"], ["出力日: 2024/04/01"]]
    >>> upload_header(title + [["商談ID", "活動", "日時"], ["D-1", "訪問", "2024/04/01"]])
    2
    """
    from royalroad.io.mapping import ROLES, find_header, header_fit

    found = [
        i
        for i in (find_header(rows, role) for role in ROLES)
        if i < len(rows) and any(header_fit(rows[i], role)[0] for role in ROLES)
    ]
    return min(found, default=0)


def fields_of(role: str) -> tuple[str, ...]:
    """Canonical columns of a role, required first."""
    return (*REQUIRED[role], *OPTIONAL[role])


@dataclass(frozen=True)
class Detected:
    """Columns found for one role: by a preset (``cmap``) or, failing that, field by field."""

    role: str
    fields: dict[str, tuple[str, ...]]
    missing: tuple[str, ...]
    cmap: ColumnMap | None

    @property
    def complete(self) -> bool:
        return not self.missing


def detect(
    columns: Sequence[str], role: str, *, preset: str | None = None, source: str = ""
) -> Detected:
    """The mapping royalroad would use; when no preset fits, the best guess per field.

    >>> d = detect(["商談ID", "活動", "日時"], "events")
    >>> d.complete, d.fields["activity"], d.cmap.preset
    (True, ('活動',), 'japanese')
    """
    try:
        cmap = resolve(list(columns), role, source=source, preset=preset)
        return Detected(role, dict(cmap.fields), (), cmap)
    except InputError:
        pass
    by_key: dict[str, str] = {}
    for col in columns:
        by_key.setdefault(normalise_header(col), col)
    found: dict[str, tuple[str, ...]] = {}
    for name in fields_of(role):
        for p in [preset] if preset else PRESET_ORDER:
            cands = get_preset(p).columns.get(role, {}).get(name, ())
            hits = [by_key[k] for k in map(normalise_header, cands) if k in by_key]
            if hits:
                found[name] = (hits[0],)
                break
    missing = tuple(n for n in REQUIRED[role] if n not in found)
    return Detected(role, found, missing, None)


def guess_role(name: str, columns: Sequence[str], kind: str = "csv") -> str:
    """Which table a file most likely is: leads, events or notes.

    A role whose required columns are all found wins; among several (or none), the
    file name decides (``leads.csv``, ``活動履歴.xlsx``), then leads > events > notes.

    >>> guess_role("export.csv", ["lead_id", "activity", "ts"])
    'events'
    """
    if kind == "xes":
        return "events"
    fits = [r for r in ROLES if detect(columns, r).complete]
    low = unicodedata.normalize("NFKC", name).casefold()
    hinted = [r for r in ROLES if any(h in low for h in _NAME_HINTS[r])]
    for r in hinted:
        if r in fits:
            return r
    if fits:
        return fits[0]
    return hinted[0] if hinted else "events"


# Mapping file --------------------------------------------------------------------------


@dataclass(frozen=True)
class FileChoice:
    """The user's decision for one file: its role and the column of each field."""

    info: FileInfo
    role: str
    fields: dict[str, tuple[str, ...]]
    detected: Detected


def overrides(choices: Iterable[FileChoice]) -> dict[str, dict[str, tuple[str, ...]]]:
    """Per role and field, the columns to name in the mapping file.

    A field is written when the user's column differs from the detected one; every
    field of a file no preset could map is written, so the result never depends on
    which preset fills the gaps. Several files of one role contribute their names in
    order (the mapping's names are alternatives, matched per file).
    """
    out: dict[str, dict[str, list[str]]] = {}
    for ch in choices:
        if ch.role not in ROLES:
            continue
        for name, cols in ch.fields.items():
            if not cols:
                continue
            if ch.detected.complete and ch.detected.fields.get(name) == cols:
                continue
            have = out.setdefault(ch.role, {}).setdefault(name, [])
            have.extend(c for c in cols if c not in have)
    return {r: {f: tuple(c) for f, c in fs.items()} for r, fs in out.items()}


def _toml_str(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes, \u0041-style ones included).
    return json.dumps(value, ensure_ascii=False)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_str(key)


def _toml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def mapping_toml(
    columns: dict[str, dict[str, tuple[str, ...]]],
    *,
    outcome_values: dict[str, Sequence[str]] | None = None,
) -> str:
    """The TOML mapping file (the shape of a built-in preset) for the user's choices.

    >>> print(mapping_toml({"events": {"ts": ("実施日",)}}))
    # Written by the royalroad app: columns and outcome values chosen by the user.
    name = "app"
    <BLANKLINE>
    [events]
    ts = ["実施日"]
    <BLANKLINE>
    """
    lines = [
        "# Written by the royalroad app: columns and outcome values chosen by the user.",
        'name = "app"',
        "",
    ]
    for role in ROLES:
        fields = columns.get(role, {})
        outcome = outcome_values if role == "leads" else None
        if not fields and not outcome:
            continue
        lines.append(f"[{role}]")
        lines += [f"{_toml_key(k)} = {_toml_list(v)}" for k, v in fields.items()]
        lines.append("")
        if outcome:
            lines.append(f"[{role}.outcome_values]")
            lines += [
                f"{cls} = {_toml_list(outcome[cls])}"
                for cls in ("won", "lost", "open")
                if cls in outcome
            ]
            lines.append("")
    return "\n".join(lines)


def write_mapping(folder: str | Path, text: str) -> Path:
    path = Path(folder) / MAPPING
    path.write_text(text, encoding="utf-8")
    return path


def effective(
    choices: Iterable[FileChoice], *, preset: str | None, config: Preset | None
) -> list[ColumnMap | InputError]:
    """How ingest will really map each chosen file with this preset and mapping file."""
    out: list[ColumnMap | InputError] = []
    for ch in choices:
        if ch.role not in ROLES:
            continue
        try:
            out.append(
                resolve(
                    list(ch.info.columns),
                    ch.role,
                    source=ch.info.name,
                    preset=preset,
                    config=config,
                )
            )
        except InputError as exc:
            out.append(exc)
    return out


# Outcomes --------------------------------------------------------------------------------


def value_counts(
    tables: Iterable[tuple[pa.Table, Sequence[str]]], *, limit: int = MAX_VALUES
) -> list[tuple[str, int]]:
    """Non-empty values of the given columns over several tables, most frequent first."""
    counts: Counter[str] = Counter()
    for table, cols in tables:
        for col in cols:
            if col not in table.column_names:
                continue
            arr = table[col]
            if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
                arr = pc.cast(arr, pa.string())
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            for item in pc.value_counts(arr).to_pylist():
                value = item["values"]
                if value is not None and str(value).strip():
                    counts[str(value)] += item["counts"]
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def classify_values(
    values: Iterable[str], outcome_values: dict[str, tuple[str, ...]]
) -> dict[str, list[str]]:
    """Split raw outcome values into won / lost / open by a preset's lists (as ingest does).

    >>> maven = {"won": ("won",), "lost": ("lost",), "open": ("engaging",)}
    >>> classify_values(["Won", "Lost", "Engaging", "？"], maven)
    {'won': ['Won'], 'lost': ['Lost'], 'open': ['Engaging']}
    """
    wanted = {
        cls: {norm_value(v) for v in outcome_values.get(cls, ())} for cls in ("won", "lost", "open")
    }
    out: dict[str, list[str]] = {"won": [], "lost": [], "open": []}
    for value in values:
        key = norm_value(value)
        for cls in ("won", "lost", "open"):
            if key and key in wanted[cls]:
                out[cls].append(value)
                break
    return out


def default_outcome_values(cmaps: Iterable[ColumnMap]) -> dict[str, tuple[str, ...]]:
    """The outcome values of the presets that mapped the leads files (all presets if none)."""
    merged: dict[str, list[str]] = {"won": [], "lost": [], "open": []}
    sources = [c.outcome_values for c in cmaps] or [
        get_preset(p).outcome_values for p in PRESET_ORDER
    ]
    for values in sources:
        for cls, vals in values.items():
            merged[cls].extend(v for v in vals if v not in merged[cls])
    return {k: tuple(v) for k, v in merged.items()}


def suggest_outcome_activities(activities: Iterable[str]) -> tuple[list[str], list[str]]:
    """Event log: activities whose names say won or lost (named to the user, never preselected).

    >>> suggest_outcome_activities(["A_SUBMITTED", "A_APPROVED", "A_DECLINED", "失注", "不成立"])
    (['A_APPROVED'], ['A_DECLINED', '失注', '不成立'])
    """
    won, lost = [], []
    for act in activities:
        low = unicodedata.normalize("NFKC", act).casefold()
        if any(h in low for h in _LOST_HINTS):
            lost.append(act)
        elif any(h in low for h in _WON_HINTS):
            won.append(act)
    return won, lost


def check_outcomes(won: Sequence[str], lost: Sequence[str], open_: Sequence[str] = ()) -> None:
    """A value may be won, lost or open, never two of them."""
    seen: dict[str, str] = {}
    for cls, values in (("won", won), ("lost", lost), ("open", open_)):
        for v in values:
            if v in seen:
                raise InputError("app.outcome_twice", value=v, first=seen[v], second=cls)
            seen[v] = cls


# Checking the choices -----------------------------------------------------------------


def preview(
    folder: str | Path, choices: Sequence[FileChoice], *, preset: str | None
) -> list[tuple[FileChoice, ColumnMap | InputError]]:
    """The mapping ingest will use for each file, read back through a real mapping file."""
    from royalroad.io.mapping import load_config

    text = mapping_toml(overrides(choices))
    config = None
    if overrides(choices):
        path = Path(folder) / "mapping-preview.toml"
        path.write_text(text, encoding="utf-8")
        config = load_config(path)
    kept = [ch for ch in choices if ch.role in ROLES]
    return list(zip(kept, effective(kept, preset=preset, config=config), strict=True))


def predicted_segments(
    mapped: Sequence[tuple[FileChoice, ColumnMap | InputError]],
) -> tuple[str, ...]:
    """Lead columns that will become segments (before the first run knows them for sure)."""
    out: list[str] = []
    for ch, cmap in mapped:
        if not isinstance(cmap, ColumnMap):
            continue
        extra: Sequence[str] = ()
        if ch.role == "leads":
            extra = cmap.extras
        elif ch.info.is_log and ch.info.trace_columns:
            try:
                extra = resolve(
                    list(ch.info.trace_columns), "traces", source=ch.info.name, preset="xes"
                ).extras
            except InputError:
                extra = ()
        out.extend(c for c in extra if c not in out)
    return tuple(out)


def format_label(info) -> str:
    """``csv utf-8 ','`` / ``xlsx [Sheet1]``: what the reader detected, in one cell."""
    return " ".join(
        x
        for x in (
            info.kind,
            info.encoding,
            repr(info.delimiter) if info.delimiter else None,
            f"[{info.sheet}]" if info.sheet else None,
        )
        if x
    )
