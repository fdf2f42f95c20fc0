"""Typed report sections: data only, built from results, rendered by one template each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from royalroad.quality import FileSummary, IngestSummary, ReasonCount


@dataclass(frozen=True)
class Section:
    template: ClassVar[str]
    anchor: ClassVar[str]
    title_key: ClassVar[str]

    def has_content(self) -> bool:
        return True


@dataclass(frozen=True)
class DataQualitySection(Section):
    template: ClassVar[str] = "data_quality.html.j2"
    anchor: ClassVar[str] = "data-quality"
    title_key: ClassVar[str] = "report.data_quality.title"

    files: tuple[FileSummary, ...]
    reasons: tuple[ReasonCount, ...]
    summary: IngestSummary

    def has_content(self) -> bool:
        return bool(self.files)


def build_sections(results) -> list[Section]:
    """The report's sections in reading order, empty ones left out."""
    q = results.quality
    sections: list[Section] = [DataQualitySection(files=q.files, reasons=q.reasons, summary=q)]
    return [s for s in sections if s.has_content()]
