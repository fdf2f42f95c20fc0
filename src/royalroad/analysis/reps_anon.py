"""Stable labels in place of names (``--anonymise``), for sharing outside the team.

Labels follow the names' sorted order (Python's string order: by Unicode code point),
so the same person is the same letter in every output made from the same data —
terminal, JSON, report, workbook, in Japanese and English, with or without
``--adjust`` (a label by rank would change with the ranking). The label's wording
follows the language ("Rep A" / "担当A"; "Group A" / "グループA" for a column that does
not name people); the letter never does.

:class:`Anonymiser` maps a :class:`~royalroad.analysis.reps_result.RepsResult` and the
other results that carry names (the next best actions' owners, the funnel's segments
when they are the rep column), plain data (``results.json``'s dict), text (a report
already rendered) and workbook tables. Structured replacement comes first; :meth:`text`
replaces every occurrence of a name in free text, longest names first, as a last pass
over a finished file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from royalroad.i18n import t

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def letter(i: int) -> str:
    """``0 → A``, ``25 → Z``, ``26 → AA`` (as spreadsheet columns).

    >>> [letter(i) for i in (0, 25, 26, 27, 701, 702)]
    ['A', 'Z', 'AA', 'AB', 'ZZ', 'AAA']
    """
    out = ""
    i += 1
    while i > 0:
        i, r = divmod(i - 1, 26)
        out = LETTERS[r] + out
    return out


@dataclass(frozen=True)
class Anonymiser:
    """Real name → label. Build it with :meth:`from_names` or :func:`anonymiser`."""

    names: dict[str, str]

    @classmethod
    def from_names(
        cls, names: Iterable[str | None], *, people: bool = True, lang: str | None = None
    ) -> Anonymiser:
        """Labels for ``names`` (None and empty names are left out) in sorted order."""
        key = "reps.anon.rep" if people else "reps.anon.group"
        real = sorted({str(n) for n in names if n is not None and str(n) != ""})
        return cls({n: t(key, lang=lang, letter=letter(i)) for i, n in enumerate(real)})

    def value(self, x: Any) -> Any:
        """``x``'s label when ``x`` is a name, else ``x`` unchanged."""
        return self.names.get(x, x) if isinstance(x, str) else x

    def text(self, s: str) -> str:
        """``s`` with every occurrence of a name replaced (longest names first, so that a
        name containing another is replaced whole)."""
        for name in sorted(self.names, key=lambda n: (-len(n), n)):
            if name in s:
                s = s.replace(name, self.names[name])
        return s

    def data(self, obj: Any) -> Any:
        """Plain data (dicts, lists, tuples, strings) with every name replaced, in keys
        and values, whole values and inside text."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {self.data(k): self.data(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            out = [self.data(v) for v in obj]
            return tuple(out) if isinstance(obj, tuple) else out
        return obj

    # ------------------------------------------------------------ results

    def reps(self, result):
        """A :class:`~royalroad.analysis.reps_result.RepsResult` with labels for names."""
        rows = tuple(replace(r, rep=self.value(r.rep)) for r in result.reps)
        return replace(
            result,
            reps=rows,
            top=tuple(self.value(n) for n in result.top),
            rest=tuple(self.value(n) for n in result.rest),
            anonymised=True,
        )

    def arrow(self, table):
        """A pyarrow table with every name replaced in its text columns."""
        import pyarrow as pa

        for i, f in enumerate(table.schema):
            if pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
                values = [self._cached(v) for v in table.column(i).to_pylist()]
                table = table.set_column(i, f.name, pa.array(values, f.type))
        return table

    def frame(self, df):
        """A pandas DataFrame with every name replaced in its text columns and headers."""
        out = df.copy()
        for col in out.columns:
            if out[col].dtype == object or str(out[col].dtype) in ("string", "str"):
                out[col] = out[col].map(self._cached)
        return out.rename(columns=lambda c: self._cached(c))

    def _cached(self, v: Any) -> Any:
        return self.text(v) if isinstance(v, str) else v

    def next(self, nxt):
        """A :class:`~royalroad.analysis.nba_result.NextResult` without names: its lead
        table (the owner, the segment values behind each P(win) explanation) and its
        P(win) model (a rep can be one of its segments)."""
        changes: dict[str, Any] = {"leads": self.arrow(nxt.leads)}
        fc = getattr(nxt, "forecast", None)
        if fc is not None:
            model = replace(
                fc.model,
                columns=tuple(self.text(c) for c in fc.model.columns),
                segments={
                    k: tuple(self.value(v) for v in values)
                    for k, values in fc.model.segments.items()
                },
            )
            changes["forecast"] = replace(fc, model=model, cells=self.frame(fc.cells))
        return replace(nxt, **changes)

    def funnel(self, result, column: str | None = None):
        """A :class:`~royalroad.analysis.funnel_result.FunnelResult` whose segment values
        are labels (when its ``--by`` segment is ``column``, or any when None)."""
        if result is None or not result.segments:
            return result
        if column is not None and result.segment != column:
            return result
        groups = tuple(replace(c, group=self.value(c.group)) for c in result.segments)
        return replace(result, segments=groups)

    def results(self, results, column: str | None = None):
        """A pipeline ``Results`` with the names replaced in every part that holds them:
        the next best actions, the funnel's segments and (once wired) ``reps``."""
        changes: dict[str, Any] = {}
        if getattr(results, "next", None) is not None:
            changes["next"] = self.next(results.next)
        if getattr(results, "funnel", None) is not None:
            changes["funnel"] = self.funnel(results.funnel, column)
        if getattr(results, "reps", None) is not None:
            changes["reps"] = self.reps(results.reps)
        return replace(results, **changes)

    def tables(self, tables: list) -> list:
        """Workbook tables (:class:`royalroad.report.sheet.Table`) with every text cell's
        names replaced."""
        return [
            replace(
                tab,
                rows=tuple(
                    tuple(self.text(c) if isinstance(c, str) else c for c in row)
                    for row in tab.rows
                ),
            )
            for tab in tables
        ]


def anonymiser(result, lang: str | None = None) -> Anonymiser:
    """The labels of a :class:`~royalroad.analysis.reps_result.RepsResult`'s names."""
    names = [r.rep for r in result.reps]
    return Anonymiser.from_names(names, people=result.is_owner, lang=lang)


def anonymise(result, lang: str | None = None):
    """``result`` with its names replaced by stable labels (see :class:`Anonymiser`)."""
    return anonymiser(result, lang).reps(result)


__all__ = ["Anonymiser", "anonymise", "anonymiser", "letter"]
