"""Adapter: the `regions` table (loaded at migrate time from the vendored dataset) and the
queries the pages need from it (suggestions as the officer types).

Both services keep the table (`define_regions_table` in their tables.py); the Alembic
data migration "regions table" calls `load_regions`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import Column, Connection, Float, Index, MetaData, String, Table, select, text

from shared.regions import names
from shared.regions.directory import LEVELS, REGENCY, Region


def define_regions_table(metadata: MetaData) -> Table:
    return Table(
        "regions",
        metadata,
        Column("code", String(13), primary_key=True),  # Kemendagri code, dotted
        Column("level", String(10), nullable=False),  # provinsi|kabupaten|kecamatan|kelurahan
        Column("name", String(120), nullable=False),  # official name
        Column("parent_code", String(13)),
        Column("name_key", String(120), nullable=False),  # names.key of the name, kind dropped
        Column("name_words", String(160), nullable=False),  # " words of the name " for word match
        Column("latitude", Float),
        Column("longitude", Float),
        Index("ix_regions_parent_key", "parent_code", "name_key"),
        Index("ix_regions_level_key", "level", "name_key"),
    )


def region_row(region: Region) -> dict:
    return {
        "code": region.code,
        "level": region.level,
        "name": region.name,
        "parent_code": region.parent_code,
        "name_key": region.key,
        "name_words": " " + " ".join(names.words(region.name)) + " ",
        "latitude": None,
        "longitude": None,
    }


def load_regions(conn: Connection, regions: Iterable[Region]) -> tuple[int, float]:
    """Replace the table's rows with `regions` (COPY); returns (rows, seconds)."""
    started = time.perf_counter()
    conn.execute(text("DELETE FROM regions"))
    columns = ["code", "level", "name", "parent_code", "name_key", "name_words"]
    count = 0
    raw = conn.connection.driver_connection  # psycopg 3
    statement = f"COPY regions ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for region in regions:
            row = region_row(region)
            copy.write_row([row[c] for c in columns])
            count += 1
    conn.execute(text("ANALYZE regions"))
    return count, time.perf_counter() - started


def suggest(
    conn: Connection, level: str, typed: str, parent_code: str | None = None, limit: int = 10
) -> list[dict]:
    """Regions of `level` (under `parent_code` if given) whose name starts with what was
    typed, or has a word that does; diacritics, case and kind words ("Kab.", "Kec.",
    "Desa") ignored. Whole-name prefix matches first, then by name."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    table = REGIONS
    if level == REGENCY:
        kind, prefix = names.regency_key(typed)
    else:
        kind, prefix = None, names.area_key(level, typed)
    query = select(table.c.code, table.c.name, table.c.parent_code).where(table.c.level == level)
    if parent_code:
        query = query.where(table.c.parent_code == parent_code)
    if prefix:
        last_word = (names.words(typed) or [""])[-1]
        query = query.where(
            table.c.name_key.startswith(prefix, autoescape=True)
            | table.c.name_words.contains(" " + last_word, autoescape=True)
        )
    if kind is not None:
        query = query.where(table.c.name.startswith("Kota" if kind == "kota" else "Kabupaten"))
    query = query.order_by(
        (~table.c.name_key.startswith(prefix or "", autoescape=True)), table.c.name, table.c.code
    ).limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]


REGIONS = define_regions_table(MetaData())  # for queries; each service's metadata has its own


def migrate_up() -> None:
    """Body of each service's "regions table" Alembic revision: create and load the table."""
    import logging

    from alembic import op

    from shared.regions.dataset import DATASET_NAME, DATASET_VERSION, read_regions

    table = define_regions_table(MetaData())
    table.create(op.get_bind())
    count, seconds = load_regions(op.get_bind(), read_regions())
    logging.getLogger("kawal.regions").warning(
        "regions: %d rows of %s %s loaded in %.2f s", count, DATASET_NAME, DATASET_VERSION, seconds
    )


def migrate_down() -> None:
    from alembic import op

    op.drop_table("regions")
