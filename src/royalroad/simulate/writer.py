"""Deterministic CSV and JSON output.

pyarrow's CSV writer quotes every string, so this module writes CSV itself, still
without a Python loop over rows: each column becomes a string array (timestamps as
``YYYY-MM-DD HH:MM:SS``, integers as digits, nulls as empty fields), a field is
quoted only when it holds a comma, a double quote, CR or LF (RFC 4180, quotes
doubled), the fields are joined element-wise in Arrow and the joined buffer is
written as it is. UTF-8 without BOM, ``\\n`` after every row.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CHUNK_ROWS = 1 << 20
_NEEDS_QUOTES = r'[,"\r\n]'


def _field(col: pa.Array) -> pa.Array:
    """One column rendered as CSV fields."""
    if pa.types.is_timestamp(col.type):
        text = col.cast(pa.timestamp("s")).cast(pa.string())
    elif pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        text = col
        needs = pc.fill_null(pc.match_substring_regex(col, _NEEDS_QUOTES), False)
        if pc.any(needs).as_py():
            quoted = pc.binary_join_element_wise('"', pc.replace_substring(col, '"', '""'), '"', "")
            text = pc.if_else(needs, quoted, col)
    else:
        text = col.cast(pa.string())
    return pc.fill_null(text, "")


def _rows(table: pa.Table) -> pa.Array:
    """Each row of ``table`` as one string ending in ``\\n``."""
    fields = [_field(c.combine_chunks()) for c in table.columns]
    line = pc.binary_join_element_wise(*fields, ",")
    return pc.binary_join_element_wise(line, "", "\n")


def write_csv(table: pa.Table, path: Path) -> Path:
    """Write ``table`` to ``path`` with a header row and minimal quoting."""
    with open(path, "wb") as out:
        out.write((",".join(table.column_names) + "\n").encode("utf-8"))
        for offset in range(0, table.num_rows, CHUNK_ROWS):
            rows = _rows(table.slice(offset, CHUNK_ROWS))
            if isinstance(rows, pa.ChunkedArray):
                rows = rows.combine_chunks()
            _, offsets, data = rows.buffers()
            bounds = np.frombuffer(offsets, dtype=np.int32)
            begin, end = int(bounds[rows.offset]), int(bounds[rows.offset + len(rows)])
            out.write(memoryview(data)[begin:end])
    return path


def write_json(obj: Any, path: Path) -> Path:
    text = json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    path.write_bytes(text.encode("utf-8"))
    return path
