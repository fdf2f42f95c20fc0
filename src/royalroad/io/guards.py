"""Resource guards on input: a small upload must never take the machine down.

Every reader gets a :class:`Limits` and stops, with one line naming the file, the
limit and the parameter that raises it, before a file can cost more than it:

* **file size** (``max_file_mb``): the bytes of any input, checked from the file
  system before reading; a pipe (``--leads <(gunzip -c x.csv.gz)``) is read in
  chunks and stopped at the limit; a device (``/dev/zero``, a terminal) is refused;
* **rows** (``max_rows``) and **columns** (``max_columns``) of any table, checked
  while reading (a CSV row, a sheet row, an XES event) or from the metadata
  (Parquet, DuckDB);
* **unpacked size** (``max_unzipped_mb``) of a workbook or an ``.xes.gz``, and the
  **compression ratio** (``max_zip_ratio``) of any workbook part above 1 MB: a
  genuine sheet compresses 5–20:1, a zip bomb 1000:1.

The defaults let through any export a laptop can analyse (ten million events are
about 700 MB of CSV) and stop what is built to hurt.
"""

from __future__ import annotations

import os
import select
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from royalroad.errors import InputError

MB = 1 << 20
RATIO_FLOOR = 1 * MB
"""Workbook parts smaller than this are never judged by their ratio (a tiny, empty
part may compress 200:1 and cannot hurt)."""
PIPE_TIMEOUT_S = 600.0
"""How long a pipe may stay silent before reading it is given up (no hang)."""
_PIPE_CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    """How much one input may cost. Raise a limit with the ``ingest()`` parameter of
    the same name (on the command line, the option of the same name)."""

    max_file_mb: float = 1024.0
    max_rows: int = 20_000_000
    max_columns: int = 2_000
    max_unzipped_mb: float = 1024.0
    max_zip_ratio: float = 100.0

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_mb * MB)

    def check_columns(self, n: int, source: str, line: int | None = None) -> None:
        """Fail when a header (or a row) has more columns than ``max_columns``."""
        if n > self.max_columns:
            raise InputError(
                "io_guards.too_many_columns",
                file=source,
                n=f"{n:,}",
                where=_where(line),
                limit=f"{self.max_columns:,}",
            )

    def check_rows(self, n: int, source: str) -> None:
        """Fail when a table has more rows than ``max_rows`` (call with the count so far)."""
        if n > self.max_rows:
            raise InputError("io_guards.too_many_rows", file=source, limit=f"{self.max_rows:,}")

    def check_unzipped(self, size: int, source: str, part: str) -> None:
        if size > self.max_unzipped_mb * MB:
            raise InputError(
                "io_guards.unzipped_too_big",
                file=source,
                part=part,
                mb=_mb(size),
                limit=_mb(self.max_unzipped_mb * MB),
            )


DEFAULT_LIMITS = Limits()


def _mb(n: float) -> str:
    return f"{n / MB:,.1f}"


def _where(line: int | None) -> str:
    from royalroad.i18n import t

    return t("io_guards.on_line", line=line) if line is not None else ""


def limits_from(
    max_file_mb: float | None = None,
    max_rows: int | None = None,
    max_columns: int | None = None,
    max_unzipped_mb: float | None = None,
    max_zip_ratio: float | None = None,
) -> Limits:
    """A :class:`Limits` from ``ingest()``'s parameters (``None``: the default);
    a limit that is not a positive number is one line naming the parameter."""
    given = {
        "max_file_mb": max_file_mb,
        "max_rows": max_rows,
        "max_columns": max_columns,
        "max_unzipped_mb": max_unzipped_mb,
        "max_zip_ratio": max_zip_ratio,
    }
    values: dict[str, Any] = {}
    for name, value in given.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise InputError("io_guards.bad_limit", name=name, value=str(value))
        values[name] = value
    return Limits(**values)


def read_limited(path: str | Path, source: str, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The bytes of a file, never more than ``limits.max_file_mb``.

    A regular file is measured before it is read. A pipe is read in chunks up to
    the limit (and given up after :data:`PIPE_TIMEOUT_S` of silence). Anything else
    that is not a regular file (``/dev/zero``, ``/dev/urandom``, a terminal) is
    endless or interactive: refused.
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError("io.file_missing", file=source) from None
    except OSError as exc:
        raise InputError(
            "io.file_unreadable", file=source, reason=exc.strerror or str(exc)
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("io.file_unreadable", file=source, reason="is a directory")
    if stat.S_ISREG(st.st_mode):
        check_size(st.st_size, source, limits)
        try:
            return p.read_bytes()
        except OSError as exc:
            raise InputError(
                "io.file_unreadable", file=source, reason=exc.strerror or str(exc)
            ) from None
    if stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode):
        return _read_pipe(p, source, limits)
    raise InputError("io_guards.not_a_file", file=source)


def is_regular(path: str | Path) -> bool:
    try:
        return stat.S_ISREG(Path(path).stat().st_mode)
    except OSError:
        return False


def check_size(size: int, source: str, limits: Limits) -> None:
    if size > limits.max_bytes:
        raise InputError(
            "io_guards.file_too_big",
            file=source,
            mb=_mb(size),
            limit=_mb(limits.max_bytes),
        )


def _read_pipe(p: Path, source: str, limits: Limits) -> bytes:
    """Read a pipe without blocking forever: a FIFO nobody writes to reads as empty."""
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise InputError(
            "io.file_unreadable", file=source, reason=exc.strerror or str(exc)
        ) from None
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            try:
                chunk = os.read(fd, _PIPE_CHUNK)
            except BlockingIOError:
                ready, _, _ = select.select([fd], [], [], PIPE_TIMEOUT_S)
                if not ready:
                    raise InputError("io_guards.pipe_silent", file=source) from None
                continue
            if not chunk:
                break
            size += len(chunk)
            if size > limits.max_bytes:
                raise InputError("io_guards.pipe_too_big", file=source, limit=_mb(limits.max_bytes))
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


def check_zip(path: str | Path, source: str, limits: Limits) -> None:
    """Refuse a zip container (xlsx) that would unpack to more than the limits allow.

    The sizes come from the zip's central directory. They cannot understate what a
    part unpacks to: Python's zipfile stops at the declared size and rejects a part
    whose data runs on (a bad CRC), which the workbook reader reports as damaged.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip at all: the workbook reader says what it is
    total = 0
    for info in infos:
        total += info.file_size
        limits.check_unzipped(total, source, info.filename)
        if info.file_size > RATIO_FLOOR:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_zip_ratio:
                raise InputError(
                    "io_guards.zip_ratio",
                    file=source,
                    part=info.filename,
                    mb=_mb(info.file_size),
                    packed=_mb(info.compress_size),
                    ratio=f"{ratio:,.0f}",
                    limit=f"{limits.max_zip_ratio:,.0f}",
                )
