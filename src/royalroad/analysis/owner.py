"""Which lead column names the owner (the rep who acts on a lead)."""

from __future__ import annotations

import unicodedata

from royalroad.engine import Workspace
from royalroad.errors import InputError

OWNER_NAMES = (
    "owner",
    "lead_owner",
    "deal_owner",
    "opportunity_owner",
    "account_owner",
    "rep",
    "sales_rep",
    "sales_agent",
    "salesperson",
    "assigned_to",
    "担当者",
    "営業担当",
    "営業担当者",
    "担当営業",
    "取引担当者",
    "商談所有者",
    "所有者",
    "担当",
)
"""Segment names read as the owner, in order of preference (compared case-, width- and
space-insensitively)."""


def _norm(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in text if not ch.isspace() and ch not in "_-")


def owner_column(ws: Workspace, name: str | None = None) -> str | None:
    """The owner column among the lead segments: ``name`` when given, else the first
    segment whose name is a known owner name (``rep``, ``owner``, ``担当者`` …), else None.

    >>> [_norm(n) for n in ("Sales Rep", "担当 者")]
    ['salesrep', '担当者']
    """
    segments = ws.segments()
    if name is not None:
        if name not in segments:
            raise InputError("nba.unknown_owner", value=name, allowed=", ".join(segments) or "-")
        return name
    by_norm = {_norm(s): s for s in reversed(segments)}
    for want in OWNER_NAMES:
        hit = by_norm.get(_norm(want))
        if hit is not None:
            return hit
    return None
