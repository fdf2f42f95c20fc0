"""Map a source's own column names onto royalroad's canonical columns.

A *preset* lists, for every canonical column, the header names it may have in one
kind of export (Salesforce, HubSpot, Japanese CRMs, the Maven sample, XES). A user
config file (TOML, same shape) overrides single columns. Without either, every
preset is tried in order and the first that finds all required columns wins, so a
Japanese Excel sheet or a Salesforce report just works.

Header matching ignores case, spaces, underscores, hyphens and full-/half-width
differences (NFKC): ``Created Date``, ``created_date``, ``CreatedDate`` match.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from royalroad.errors import InputError
from royalroad.io.raw import HEADER_SEARCH_ROWS

ROLES = ("leads", "events", "notes")
REQUIRED: dict[str, tuple[str, ...]] = {
    "leads": ("lead_id", "created_at", "outcome", "closed_at"),
    "events": ("lead_id", "activity", "ts"),
    "notes": ("lead_id", "ts", "text"),
    "traces": ("lead_id",),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "leads": ("amount",),
    "events": ("lifecycle",),
    "notes": ("author",),
    "traces": ("amount",),
}
COALESCED = frozenset({"closed_at"})
"""Fields filled from the first non-empty of several columns (受注日, 失注日)."""

PRESET_ORDER = ("canonical", "japanese", "salesforce", "hubspot", "maven", "xes")
OTHER_CHOICES = ("error", "open")


def normalise_header(name: str) -> str:
    """The key used to compare header names.

    >>> normalise_header("Created_Date ") == normalise_header("createddate")
    True
    >>> normalise_header("商談ＩＤ")
    '商談id'
    """
    text = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in text if ch not in " _-\t\u3000")


@dataclass(frozen=True)
class Preset:
    """Candidate header names per role and canonical column, plus outcome values."""

    name: str
    description: str
    columns: dict[str, dict[str, tuple[str, ...]]]
    outcome_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    other_outcome: str = "error"
    ignore: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ColumnMap:
    """How one source maps onto one canonical table."""

    role: str
    preset: str
    fields: dict[str, tuple[str, ...]]
    extras: tuple[str, ...]
    outcome_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    other_outcome: str = "error"

    def describe(self) -> dict[str, str]:
        return {k: " | ".join(v) for k, v in self.fields.items()}


def _as_tuple(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InputError("mapping.bad_value", where=where)


def _parse(doc: dict[str, Any], source: str) -> Preset:
    columns: dict[str, dict[str, tuple[str, ...]]] = {}
    outcome: dict[str, tuple[str, ...]] = {}
    other = "error"
    ignore: dict[str, tuple[str, ...]] = {}
    known_roles = (*ROLES, "traces")
    for role, spec in doc.items():
        if role in ("name", "description"):
            continue
        if role not in known_roles or not isinstance(spec, dict):
            raise InputError(
                "mapping.unknown_section", file=source, section=role, allowed=", ".join(ROLES)
            )
        allowed = set(REQUIRED[role]) | set(OPTIONAL[role])
        columns[role] = {}
        for key, value in spec.items():
            if key == "outcome_values" and role == "leads":
                if not isinstance(value, dict):
                    raise InputError("mapping.bad_table", where=f"{source} [{role}] {key}")
                for cls, vals in value.items():
                    if cls == "other":
                        if vals not in OTHER_CHOICES:
                            raise InputError("mapping.bad_other", file=source, value=vals)
                        other = vals
                    elif cls in ("won", "lost", "open"):
                        outcome[cls] = _as_tuple(vals, f"{source} [{role}.outcome_values] {cls}")
                    else:
                        raise InputError(
                            "mapping.unknown_key",
                            file=source,
                            key=f"{role}.outcome_values.{cls}",
                            allowed="won, lost, open, other",
                        )
            elif key == "ignore":
                ignore[role] = _as_tuple(value, f"{source} [{role}] ignore")
            elif key in allowed:
                columns[role][key] = _as_tuple(value, f"{source} [{role}] {key}")
            else:
                raise InputError(
                    "mapping.unknown_key",
                    file=source,
                    key=f"{role}.{key}",
                    allowed=", ".join(sorted(allowed | {"ignore"})),
                )
    return Preset(
        name=str(doc.get("name", Path(source).stem)),
        description=str(doc.get("description", "")),
        columns=columns,
        outcome_values=outcome,
        other_outcome=other,
        ignore=ignore,
    )


@cache
def presets() -> dict[str, Preset]:
    """The built-in presets, by name."""
    folder = resources.files(__package__).joinpath("presets")
    out = {}
    for name in PRESET_ORDER:
        text = folder.joinpath(f"{name}.toml").read_text(encoding="utf-8")
        out[name] = _parse(tomllib.loads(text), f"{name}.toml")
    return out


def load_config(path: str | Path) -> Preset:
    """Read a user mapping file (TOML, the same shape as a built-in preset)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError("io.file_missing", file=str(path)) from None
    except IsADirectoryError:
        raise InputError("io.file_unreadable", file=str(path), reason="is a directory") from None
    except OSError as exc:
        raise InputError(
            "io.file_unreadable", file=str(path), reason=exc.strerror or str(exc)
        ) from None
    except UnicodeDecodeError:
        raise InputError("mapping.not_utf8", file=str(path)) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError("mapping.bad_toml", file=str(path), reason=str(exc)) from None
    return _parse(doc, str(path))


def get_preset(name: str) -> Preset:
    try:
        return presets()[name]
    except KeyError:
        raise InputError(
            "mapping.unknown_preset", value=name, allowed=", ".join(PRESET_ORDER)
        ) from None


def _keys(columns: Sequence[str]) -> dict[str, str]:
    """Normalised header → the first column with it: built once per header row, so
    that matching stays linear in the number of columns (10,000 columns × 6 presets ×
    20 candidate rows were minutes when every look-up rebuilt it)."""
    by_key: dict[str, str] = {}
    for col in columns:
        by_key.setdefault(normalise_header(col), col)
    return by_key


def _match(by_key: dict[str, str], candidates: tuple[str, ...], *, all_of: bool) -> tuple[str, ...]:
    found: list[str] = []
    for cand in candidates:
        hit = by_key.get(normalise_header(cand))
        if hit is not None and hit not in found:
            found.append(hit)
            if not all_of:
                break
    return tuple(found)


def _try(
    preset: Preset, role: str, by_key: dict[str, str], config: Preset | None
) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    fields: dict[str, tuple[str, ...]] = {}
    missing: list[str] = []
    for name in (*REQUIRED[role], *OPTIONAL[role]):
        if config is not None and name in config.columns.get(role, {}):
            wanted = config.columns[role][name]
            found = _match(by_key, wanted, all_of=True)
            if not found:
                missing.append(name)
                continue
        else:
            cands = preset.columns.get(role, {}).get(name, ())
            found = _match(by_key, cands, all_of=name in COALESCED)
        if found:
            fields[name] = found
        elif name in REQUIRED[role]:
            missing.append(name)
    return fields, missing


def _preset_names(role: str, preset: str | None) -> list[str]:
    # A named preset that says nothing about this role (maven has no events, xes no
    # notes) does not apply to it: that file's columns are detected as usual.
    return [preset] if preset and get_preset(preset).columns.get(role) else list(PRESET_ORDER)


def header_fit(
    cells: Sequence[str | None],
    role: str,
    *,
    preset: str | None = None,
    config: Preset | None = None,
) -> tuple[bool, tuple[int, int]]:
    """How well a row would serve as the header of a ``role`` source.

    Returns whether :func:`resolve` would accept the row as it is (every required
    column found, and every column a user mapping names), and a score to compare
    rows that are not accepted: (required columns found, header names matched),
    the best over the presets :func:`resolve` would try.

    >>> header_fit(["商談一覧", "", ""], "events")
    (False, (0, 0))
    >>> header_fit(["商談ID", "活動", "日時"], "events")
    (True, (3, 3))
    """
    by_key = _keys([c.strip() for c in cells if c is not None and c.strip()])
    best = (0, 0)
    for name in _preset_names(role, preset):
        fields, missing = _try(get_preset(name), role, by_key, config)
        if not missing:
            return True, (len(REQUIRED[role]), sum(len(v) for v in fields.values()))
        required = sum(1 for f in REQUIRED[role] if f in fields)
        best = max(best, (required, sum(len(v) for v in fields.values())))
    return False, best


def find_header(
    rows: Sequence[Sequence[str | None]],
    role: str,
    *,
    preset: str | None = None,
    config: Preset | None = None,
) -> int:
    """Which of a source's first non-empty rows is its header (0 = the first).

    Exports saved from Excel or a CRM report often start with title rows (商談一覧,
    出力日: 2024/04/01) above the real header. The first row stays the header when
    it resolves the role's columns, exactly as before. Otherwise the earliest of the
    first :data:`~royalroad.io.raw.HEADER_SEARCH_ROWS` rows that resolves them is the
    header; failing that, the row that finds strictly more of the columns than the
    first row (so that the one-line error names what the real header lacks), and
    else the first row, whose error is then the same as without this search.

    >>> find_header([["商談一覧"], ["出力日: 2024/04/01"], ["商談ID", "活動", "日時"]], "events")
    2
    >>> find_header([["lead_id", "type", "ts"], ["L1", "call", "2024-01-05"]], "events")
    0
    """
    scores: list[tuple[int, int]] = []
    for i, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        complete, score = header_fit(cells, role, preset=preset, config=config)
        if complete:
            return i
        scores.append(score)
    if not scores:
        return 0
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    return best if scores[best] > scores[0] else 0


def resolve(
    columns: list[str],
    role: str,
    *,
    source: str,
    preset: str | None = None,
    config: Preset | None = None,
) -> ColumnMap:
    """Find the canonical columns of ``role`` among a source's ``columns``.

    Raises
    ------
    InputError
        One line naming the file, the missing canonical column and the header names
        that were looked for.

    Examples
    --------
    >>> cols = ["商談ID", "作成日", "結果", "受注日", "失注日", "業種"]
    >>> m = resolve(cols, "leads", source="x.csv")
    >>> m.preset, m.fields["closed_at"], m.extras
    ('japanese', ('受注日', '失注日'), ('業種',))
    """
    best: tuple[int, str, list[str]] | None = None
    by_key = _keys(columns)
    for name in _preset_names(role, preset):
        p = get_preset(name)
        fields, missing = _try(p, role, by_key, config)
        if not missing:
            used = {c for cols in fields.values() for c in cols}
            ignored: set[str] = set(config.ignore.get(role, ())) if config else set()
            ignored |= set(p.ignore.get(role, ()))
            extras = tuple(c for c in columns if c not in used and c not in ignored)
            outcome = dict(p.outcome_values)
            other = p.other_outcome
            if config is not None:
                outcome.update(config.outcome_values)
                if config.other_outcome != "error":
                    other = config.other_outcome
            label = (
                f"{p.name}+{config.name}"
                if config is not None and config.columns.get(role)
                else p.name
            )
            return ColumnMap(role, label, fields, extras, outcome, other)
        score = len(REQUIRED[role]) - len(missing)
        if best is None or score > best[0]:
            best = (score, name, missing)
    assert best is not None
    _, name, missing = best
    first = missing[0]
    if config is not None and first in config.columns.get(role, {}):
        looked = config.columns[role][first]
    else:
        looked = get_preset(name).columns.get(role, {}).get(first, ())
    raise InputError(
        "mapping.missing_column",
        file=source,
        column=first,
        role=role,
        looked=", ".join(looked) or "-",
        found=", ".join(columns) or "-",
    )


def with_outcome_values(
    cmap: ColumnMap, won: tuple[str, ...] | None, lost: tuple[str, ...] | None
) -> ColumnMap:
    """Override the won/lost values of a leads mapping (``--won`` / ``--lost``)."""
    values = dict(cmap.outcome_values)
    if won:
        values["won"] = won
    if lost:
        values["lost"] = lost
    return replace(cmap, outcome_values=values)


def check_repeated(
    cmap: ColumnMap, columns: list[str], renamed: Sequence[tuple[str, str]], *, source: str
) -> None:
    """Fail when a column the mapping uses is one of several with the same header.

    Readers rename a repeated header (``outcome``, ``outcome.1``) so that no value is
    lost; but which of the two holds the outcome is a guess, and the other would
    silently become a segment. Headers that differ only in case, width or spacing
    (``Outcome`` and ``outcome``) are as ambiguous.
    """
    written = dict(renamed)
    groups: dict[str, list[int]] = {}
    for i, col in enumerate(columns, start=1):
        groups.setdefault(normalise_header(written.get(col, col)), []).append(i)
    for field_name, cols in cmap.fields.items():
        for col in cols:
            same = groups.get(normalise_header(written.get(col, col)), [])
            if len(same) > 1:
                raise InputError(
                    "mapping.repeated_column",
                    file=source,
                    column=written.get(col, col),
                    n=len(same),
                    positions=", ".join(str(i) for i in same),
                    field=field_name,
                )


_JAPANESE_HEADER = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def japanese_headers(cmap: ColumnMap) -> bool:
    """The columns were found by Japanese names (商談ID, レコードID, 商談 ID…): an export
    made in Japan, whose naive times are Japan time.

    >>> japanese_headers(resolve(["レコードID", "作成日", "取引ステージ", "クローズ日"],
    ...                          "leads", source="x.csv"))
    True
    """
    return any(_JAPANESE_HEADER.search(c) for cols in cmap.fields.values() for c in cols)
