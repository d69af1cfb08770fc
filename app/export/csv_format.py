"""CSV rows as the JSON list spells its values: decimals and times as in the JSON body,
booleans ``true``/``false``, empty for null."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

import msgspec

from app.schemas import ActivityItem

COLUMNS: tuple[str, ...] = ActivityItem.__struct_fields__
# The one boolean column; csv writes None as an empty cell by itself.
_AUTO = COLUMNS.index("is_auto_cash_out")


def csv_rows(batch: list[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows as in the JSON body, with CSV's spelling of booleans.

    msgspec.to_builtins gives the JSON body's strings for decimals and
    datetimes; tuples straight from the cursor skip building a Struct and a
    dict per row (the export's Python cost per row roughly halves).
    """
    rows: list[list[Any]] = []
    for values in msgspec.to_builtins(batch):
        row = list(values)
        row[_AUTO] = "true" if row[_AUTO] else "false"
        rows.append(row)
    return rows


def csv_chunk(rows: Iterable[Iterable[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
