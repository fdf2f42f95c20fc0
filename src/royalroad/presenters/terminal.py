"""Terminal rendering of results with rich. Plain text when stdout is not a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from royalroad.i18n import t
from royalroad.presenters.notes import data_notes, file_notes, reading_notes
from royalroad.quality import IngestSummary

MAX_VALUE = 60


def _short(value: str | None) -> str:
    if value is None:
        return "∅"
    return escape(value if len(value) <= MAX_VALUE else value[: MAX_VALUE - 1] + "…")


def render_summary(summary: IngestSummary, console: Console) -> None:
    """Rows read / accepted / quarantined per file, top reasons with examples, content."""
    files = Table(title=t("summary.files_title"), title_justify="left", show_lines=False)
    for key in (
        "summary.col.table",
        "summary.col.file",
        "summary.col.format",
        "summary.col.preset",
    ):
        files.add_column(t(key))
    for key in ("summary.col.read", "summary.col.accepted", "summary.col.quarantined"):
        files.add_column(t(key), justify="right")
    for f in summary.files:
        fmt = (
            f.kind
            + (f" {f.encoding}" if f.encoding else "")
            + (f" {f.delimiter!r}" if f.delimiter else "")
        )
        fmt += f" [{f.sheet}]" if f.sheet else ""
        files.add_row(
            f.table,
            escape(f.file),
            escape(fmt),
            escape(f.preset),
            f"{f.rows_read:,}",
            f"{f.accepted:,}",
            f"{f.quarantined:,}" if not f.quarantined else f"[yellow]{f.quarantined:,}[/yellow]",
        )
    files.add_row(
        "",
        t("summary.total"),
        "",
        "",
        f"{summary.rows_read:,}",
        f"{summary.accepted():,}",
        f"{summary.quarantined:,}",
        end_section=True,
    )
    console.print(files)
    for note in [*file_notes(summary), *reading_notes(summary)]:
        console.print(escape(note))

    if summary.reasons:
        reasons = Table(title=t("summary.reasons_title"), title_justify="left")
        for key in (
            "summary.col.reason",
            "summary.col.file",
            "summary.col.count",
            "summary.col.examples",
        ):
            reasons.add_column(t(key), overflow="fold")
        for r in summary.reasons[:10]:
            examples = "; ".join(
                t(
                    "summary.example",
                    line=e.line,
                    column=escape(e.column or "-"),
                    value=_short(e.value),
                )
                for e in r.examples
            )
            reasons.add_row(t(f"quarantine.{r.reason}"), escape(r.file), f"{r.count:,}", examples)
        if len(summary.reasons) > 10:
            reasons.caption = t("summary.more_reasons", n=len(summary.reasons) - 10)
        console.print(reasons)
    else:
        console.print(t("summary.no_quarantine"))

    console.print(
        t(
            "summary.content",
            leads=f"{summary.leads:,}",
            won=f"{summary.won:,}",
            lost=f"{summary.lost:,}",
            open=f"{summary.open:,}",
            events=f"{summary.events:,}",
            counted=f"{summary.events_counted:,}",
            activities=summary.activities,
            notes=f"{summary.notes:,}",
        )
    )
    for note in data_notes(summary):
        console.print(escape(note))
    console.print(t("summary.as_of", as_of=summary.as_of, tz=summary.tz))
    if summary.segments:
        console.print(t("summary.segments", segments=escape(", ".join(summary.segments))))
