"""Which time zone naive times are read in, when the user does not say.

A Japanese export (the ``japanese`` preset, or the Japanese column names of the
HubSpot and Salesforce presets) writes Japan time without saying so: its times are
read as ``Asia/Tokyo``. Anything else is read in the zone of the machine running
royalroad — the zone its user works in — found from ``TZ``, then ``/etc/localtime``,
then ``/etc/timezone``, else UTC. ``tz=`` (``--tz``) always wins.

The zone used, and why, is stored in the workspace's ``meta`` (``tz``, ``tz_source``:
``option``, ``headers`` or ``machine``) and stated in the summary.
"""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from royalroad.errors import InputError

JAPAN = "Asia/Tokyo"
SOURCES = ("option", "headers", "machine")


def valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def check_zone(tz: str) -> None:
    if not valid_zone(tz):
        raise InputError("load.bad_tz", value=tz)


def machine_zone() -> str:
    """The IANA name of this machine's zone, or ``UTC`` when it cannot be told."""
    env = os.environ.get("TZ", "").lstrip(":")
    if env and valid_zone(env):
        return env
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        name = target.split("zoneinfo/", 1)[1]
        if valid_zone(name):
            return name
    try:
        name = Path("/etc/timezone").read_text(encoding="utf-8").strip()
    except OSError:
        name = ""
    if name and valid_zone(name):
        return name
    return "UTC"


def choose_zone(tz: str | None, japanese: bool) -> tuple[str, str]:
    """``(zone, source)``: the option, else Japan time for Japanese headers, else the
    machine's zone."""
    if tz is not None:
        check_zone(tz)
        return tz, "option"
    if japanese:
        return JAPAN, "headers"
    return machine_zone(), "machine"
