"""The ingest summary's notes as sentences: what was skipped, kept aside or noticed.

One source for the terminal, the app and (through the same catalogue keys) the report.
Plain text: each presenter escapes it for its medium.
"""

from __future__ import annotations

from royalroad.i18n import t
from royalroad.io.raw import preamble_text
from royalroad.quality import IngestSummary


def file_notes(summary: IngestSummary, lang: str | None = None) -> list[str]:
    """Per file: title rows skipped above its header, footer rows skipped below its data."""
    notes = []
    for f in summary.files:
        if f.preamble_rows:
            note = preamble_text(f.preamble_rows, f.preamble_lines or "", f.header_line, lang=lang)
            notes.append(t("io_header.summary_file", lang=lang, file=f.file, note=note))
        if f.footer_rows:
            key = "exports.footer_one" if f.footer_rows == 1 else "exports.footer_many"
            note = t(key, lang=lang, n=f.footer_rows, lines=f.footer_lines or "")
            notes.append(t("io_header.summary_file", lang=lang, file=f.file, note=note))
    return notes


def reading_notes(summary: IngestSummary, lang: str | None = None) -> list[str]:
    """How values were read: a file's decoding, outcome values read as open, closes
    without a time of day, and the time zone of naive times."""
    notes = []
    for f in summary.files:
        if f.encoding_note == "bom_mismatch":
            enc = (f.encoding or "").upper()
            notes.append(t("io_damage.bom_mismatch", lang=lang, file=f.file, encoding=enc))
        if f.open_values:
            notes.append(t("exports.open_values", lang=lang, file=f.file, values=f.open_values))
        if f.closes_date_only:
            notes.append(
                t(
                    "exports.closes_date_only",
                    lang=lang,
                    file=f.file,
                    n=f"{f.closes_date_only:,}",
                )
            )
    if summary.tz_source in ("option", "headers", "machine"):
        notes.append(t(f"exports.tz_{summary.tz_source}", lang=lang, tz=summary.tz))
    return notes


def data_notes(summary: IngestSummary, lang: str | None = None) -> list[str]:
    """Events and leads kept but not (or differently) used by the analyses, and events
    that may not be what they seem (on the day of a date-only close)."""
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
    day = summary.close_day
    if day.many:
        notes.append(
            t("exports.close_day", lang=lang, n=f"{day.events:,}", share=f"{day.share:.0%}")
        )
        if day.activities:
            listed = ", ".join(
                t("exports.share", lang=lang, name=a, share=f"{on / n:.0%}")
                for a, on, n in day.activities
            )
            notes.append(t("exports.close_day_activities", lang=lang, activities=listed))
    future = summary.future
    if future.n:
        notes.append(
            t(
                "exports.future_one" if future.n == 1 else "exports.future",
                lang=lang,
                n=f"{future.n:,}",
                latest=future.latest or "-",
                at=future.at or "-",
                closes=f"{future.closes:,}",
            )
        )
    return notes
