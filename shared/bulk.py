"""Many rows in one INSERT whose text and parameters do not grow with the row count.

A multi-row VALUES list has one placeholder per cell: its text changes with every batch
size, so psycopg parses it anew each time (the dominant cost of a 1,000-row insert) and
the server cannot reuse a plan; one array per column instead costs psycopg a regex per
element to quote it. Here the whole batch travels as one JSON document, encoded by the
C json encoder, and PostgreSQL's json_populate_recordset turns it into table rows: the
same short statement for any batch, converted once by psycopg, prepared by the server.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import orjson
from sqlalchemy import JSON, Connection, Table, Text, bindparam, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.dialects.postgresql import insert as pg_insert


def insert_rows(table: Table, columns: Sequence[str], param: str = "rows") -> Insert:
    """INSERT INTO table (columns) SELECT them FROM the rows of rows_parameter(), in order.

    `param` names the bound document; statements combined into one (e.g. one as a CTE
    of the other: one round trip) need different names.

    Rows go in in the order given (ORDER BY their position in the document), so serial
    columns follow that order, as SQLAlchemy's own insertmanyvalues relies on. It is
    PostgreSQL's Insert: chain .returning(), .on_conflict_do_nothing() or
    .on_conflict_do_update() as needed (see upsert_rows).
    """
    record_type = literal_column(f"NULL::{table.name}")  # the table's row type
    document = cast(bindparam(param, type_=Text), JSON)
    batch = (
        func.json_populate_recordset(record_type, document)
        .table_valued(*[c.name for c in table.c], with_ordinality="position")
        .render_derived(name="batch")
    )
    rows = select(*[batch.c[name] for name in columns]).order_by(batch.c.position)
    return pg_insert(table).from_select([table.c[name] for name in columns], rows)


def upsert_rows(table: Table, columns: Sequence[str], param: str = "rows") -> Insert:
    """insert_rows that overwrites the other columns of a row whose primary key exists.

    A batch may hold each key once (PostgreSQL refuses to update a row twice).
    """
    statement = insert_rows(table, columns, param)
    changed = {name: statement.excluded[name] for name in columns if not table.c[name].primary_key}
    return statement.on_conflict_do_update(
        index_elements=list(table.primary_key.columns), set_=changed
    )


def rows_parameter(rows: Sequence[dict], param: str = "rows") -> dict[str, str]:
    """The parameters of an insert_rows statement: the rows as one JSON document."""
    return {param: orjson.dumps(rows).decode()}


def copy_rows(conn: Connection, table: Table, rows: Iterable[dict], into: str | None = None) -> int:
    """COPY rows (dicts keyed by column name; missing keys are NULL) into table (or into
    the table named `into` with the same columns, e.g. a fresh copy being rebuilt),
    through the caller's connection and transaction: the fastest way in for a replay's
    millions of rows. Returns how many were written."""
    names = [c.name for c in table.columns]
    as_json = [i for i, c in enumerate(table.columns) if isinstance(c.type, JSON)]
    count = 0
    cursor = conn.connection.driver_connection.cursor()
    quoted = ", ".join(f'"{name}"' for name in names)
    statement = f'COPY "{into or table.name}" ({quoted}) FROM STDIN'
    with cursor.copy(statement) as copy:
        for row in rows:
            values = [row.get(name) for name in names]
            for i in as_json:
                if values[i] is not None:
                    values[i] = orjson.dumps(values[i]).decode()
            copy.write_row(values)
            count += 1
    return count
