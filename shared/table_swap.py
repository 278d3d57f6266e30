"""Replace whole tables inside one transaction: fill fresh copies, then swap them in.

A projection rebuild writes millions of rows. Truncating the live tables first would
hold an ACCESS EXCLUSIVE lock for the whole replay, so every reader (the tracking page,
the worklists) would wait minutes. Here the live tables are only locked in SHARE mode
while the fresh copies fill: readers go on reading the old rows, and writers wait, so
no change can fall between the replay and the swap. At the end the fresh tables get the
live tables' indexes and constraints under the same names, the live tables are dropped
and the fresh ones renamed, all in the caller's transaction: a commit shows readers the
new rows at once, and a rollback (or a crash) leaves the live tables as they were and
no fresh table behind.

A writer that was waiting on the lock goes on after the commit against the new table:
PostgreSQL resolves the name again once it has the lock (and re-plans prepared
statements whose table was dropped).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Table, text

FRESH_SUFFIX = "__fresh"
_INDEX_DEF = re.compile(r"^(CREATE (?:UNIQUE )?INDEX )(\S+)( ON (?:ONLY )?)(\S+)( USING .*)$")
_CONSTRAINT_KINDS = {"p": "PRIMARY KEY", "u": "UNIQUE"}


@dataclass(frozen=True)
class _Index:
    name: str
    definition: str  # pg_get_indexdef
    constraint: str | None  # "PRIMARY KEY" / "UNIQUE" when the index backs a constraint


def fresh_name(name: str) -> str:
    return f"{name}{FRESH_SUFFIX}"


@contextmanager
def replacing(conn: Connection, tables: Sequence[Table]) -> Iterator[dict[str, str]]:
    """Yield {live table name: fresh table name} to fill; on a normal exit swap them in.

    Run inside a transaction (the caller's): the lock, the fresh tables and the swap
    commit or roll back with it.
    """
    names = [table.name for table in tables]
    conn.execute(text(f"LOCK TABLE {', '.join(map(_q, names))} IN SHARE MODE"))
    _refuse_sequences(conn, names)
    indexes = {name: _indexes(conn, name) for name in names}
    for name in names:
        like = f"LIKE {_q(name)} INCLUDING ALL EXCLUDING INDEXES"
        conn.execute(text(f"CREATE TABLE {_q(fresh_name(name))} ({like})"))
    yield {name: fresh_name(name) for name in names}
    for name in names:
        _index_like(conn, fresh_name(name), indexes[name])
        conn.execute(text(f"ANALYZE {_q(fresh_name(name))}"))
    for name in names:
        conn.execute(text(f"DROP TABLE {_q(name)}"))
        conn.execute(text(f"ALTER TABLE {_q(fresh_name(name))} RENAME TO {_q(name)}"))
        for index in indexes[name]:
            # renaming an index that backs a constraint renames the constraint too
            conn.execute(
                text(f"ALTER INDEX {_q(fresh_name(index.name))} RENAME TO {_q(index.name)}")
            )


def _refuse_sequences(conn: Connection, names: list[str]) -> None:
    """A serial or identity column's sequence belongs to the live table and would be
    dropped with it; such tables are not swapped."""
    serial = conn.execute(
        text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ANY(:names) "
            "AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')"
        ),
        {"names": names},
    ).all()
    if serial:
        raise ValueError(f"cannot swap tables with serial columns: {serial}")


def _indexes(conn: Connection, table: str) -> list[_Index]:
    rows = conn.execute(
        text(
            """
            SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition, c.contype
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
            WHERE x.indrelid = CAST(:table AS regclass)
            ORDER BY i.relname
            """
        ),
        {"table": _q(table)},
    )
    return [_Index(r.name, r.definition, _CONSTRAINT_KINDS.get(r.contype)) for r in rows]


def _index_like(conn: Connection, fresh: str, indexes: list[_Index]) -> None:
    """Build each live index on `fresh` (after the rows are in: faster than during COPY)."""
    for index in indexes:
        match = _INDEX_DEF.match(index.definition)
        if match is None:
            raise ValueError(f"cannot copy index definition {index.definition!r}")
        create, _, on, _, rest = match.groups()
        temporary = fresh_name(index.name)
        conn.execute(text(f"{create}{_q(temporary)}{on}{_q(fresh)}{rest}"))
        if index.constraint:
            conn.execute(
                text(
                    f"ALTER TABLE {_q(fresh)} ADD CONSTRAINT {_q(temporary)} "
                    f"{index.constraint} USING INDEX {_q(temporary)}"
                )
            )


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
