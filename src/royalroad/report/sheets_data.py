"""Workbook sheets of the input: files read and the quarantine."""

from __future__ import annotations

import dataclasses

from royalroad.i18n import has, t
from royalroad.quality import FileSummary, IngestSummary
from royalroad.report.sheet import COLUMN_KINDS, Column, Table


def files(q: IngestSummary) -> Table:
    return Table(
        "files",
        tuple(
            Column(f.name, COLUMN_KINDS.get(f.name, "text"))
            for f in dataclasses.fields(FileSummary)
        ),
        tuple(dataclasses.astuple(f) for f in q.files),
    )


def quarantine(q: IngestSummary, lang: str) -> Table:
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
