"""Bulk writes for replays: PostgreSQL COPY through the caller's connection (and transaction)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import JSON, Connection, Table


def copy_rows(conn: Connection, table: Table, rows: Iterable[dict]) -> int:
    """COPY rows (dicts keyed by column name; missing keys are NULL) into table."""
    columns = list(table.columns)
    as_json = [isinstance(c.type, JSON) for c in columns]
    names = [c.name for c in columns]
    count = 0
    cursor = conn.connection.driver_connection.cursor()
    quoted = ", ".join(f'"{name}"' for name in names)
    statement = f'COPY "{table.name}" ({quoted}) FROM STDIN'
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                [
                    json.dumps(row.get(name))
                    if is_json and row.get(name) is not None
                    else row.get(name)
                    for name, is_json in zip(names, as_json, strict=True)
                ]
            )
            count += 1
    return count


def _json(value):
    return None if value is None else json.dumps(value)
