"""The ingest summary's notes as sentences: what was skipped, kept aside or noticed.

One source for the terminal, the app and (through the same catalogue keys) the report.
Plain text: each presenter escapes it for its medium.
"""

from __future__ import annotations

from royalroad.i18n import t
from royalroad.io.raw import preamble_text
from royalroad.quality import IngestSummary


def file_notes(summary: IngestSummary, lang: str | None = None) -> list[str]:
    """Per file: the title rows skipped above its header."""
    return [
        t(
            "io_header.summary_file",
            lang=lang,
            file=f.file,
            note=preamble_text(f.preamble_rows, f.preamble_lines or "", f.header_line, lang=lang),
        )
        for f in summary.files
        if f.preamble_rows
    ]


def data_notes(summary: IngestSummary, lang: str | None = None) -> list[str]:
    """Events and leads kept but not (or differently) used by the analyses."""
    notes = []
    if summary.events_marked:
        marks = ", ".join(
            f"{t(f'mark.{k}', lang=lang)} {v:,}" for k, v in summary.events_marked.items()
        )
        notes.append(t("summary.marked", lang=lang, marks=marks))
    if summary.events_before_created:
        notes.append(
            t("summary.events_before_created", lang=lang, n=f"{summary.events_before_created:,}")
        )
    if summary.leads_after_as_of:
        notes.append(t("summary.leads_after_as_of", lang=lang, n=f"{summary.leads_after_as_of:,}"))
    return notes
