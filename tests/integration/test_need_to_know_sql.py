"""The need-to-know rule in Python (shared.need_to_know.decide) and as SQL
(shared.need_to_know_sql.in_scope_sql) select the same cases, on generated cases and
scopes against the real PostgreSQL."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select

from shared.need_to_know import Holding, Scope, decide
from shared.need_to_know_sql import in_scope_sql
from shared.police import load_police_directory

DIRECTORY = load_police_directory()
# A neighbourhood of real units: Serang (36.04) and Jakarta (31.71, 31.73), Bekasi (32.75,
# Polda Metro Jaya's buffer city), with their old ids, desks, and units not in the directory.
UNITS = [
    "polsek-360415", "polsek-cikande", "polsek-360416", "polres-3604", "polres-serang",
    "polsek-317106", "polsek-menteng", "polsek-metro-menteng", "polsek-317304",
    "polsek-tambora", "polres-3171", "polres-3275", "polsek-327504", "polda-banten",
    "polda-metro-jaya", "polsek-a", "",
]  # fmt: skip
AGENCIES = [
    "polsek-360415", "polsek-360416", "polres-samapta-3604", "polres-narkoba-3604",
    "polsek-317106", "polres-binmas-3171", "polres-siber-3275", "polda-banten-ditresnarkoba",
    "polda-metro-jaya-ditressiber", "dishub-3604", "satpolpp-3275", "verifikasi-lokasi", "",
]  # fmt: skip
REGIONS = [
    "36.04.15.2001", "36.04.16.2002", "36.04", "36.71.01.1001", "31.71.06.1001",
    "31.73.04.1002", "32.75.04.1001", "32.75", "kab-serang/cikande", "",
]  # fmt: skip
AREAS = ["36", "36.04", "36.04.15", "31", "31.71", "31.71.06", "32.75", "52", "national", None]

holdings = st.builds(
    Holding,
    region=st.sampled_from(REGIONS).map(lambda r: r or None),
    unit=st.sampled_from(UNITS).map(lambda u: u or None),
    agency=st.sampled_from(AGENCIES).map(lambda a: a or None),
)
scopes = st.one_of(
    st.builds(Scope, st.just("officer"), unit=st.sampled_from(UNITS).map(DIRECTORY.canonical)),
    st.builds(
        Scope,
        st.just("supervisor"),
        unit=st.sampled_from(UNITS).map(DIRECTORY.canonical),
        area=st.sampled_from(AREAS).map(lambda a: "" if a == "national" else a),
    ),
    st.builds(Scope, st.just("liaison"), agency=st.sampled_from(AGENCIES)),
    st.builds(Scope, st.just("admin"), area=st.sampled_from(["", None])),
    st.builds(Scope, st.just("open311_client")),
)

metadata = MetaData()
rows = Table(
    "need_to_know_rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("region", String(200)),
    Column("unit", String(200)),
    Column("agency_id", String(200)),
)


@pytest.fixture(scope="module")
def engine(create_database):
    engine = create_engine(create_database("need_to_know"))
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cases=st.lists(holdings, min_size=1, max_size=25), scope=scopes)
def test_python_rule_and_sql_filter_agree(engine, cases, scope):
    with engine.begin() as conn:
        conn.execute(rows.delete())
        conn.execute(
            rows.insert(),
            [
                {"id": i, "region": c.region, "unit": c.unit, "agency_id": c.agency}
                for i, c in enumerate(cases)
            ],
        )
        condition = in_scope_sql(scope, DIRECTORY, rows.c.region, rows.c.unit, rows.c.agency_id)
        selected = set(conn.execute(select(rows.c.id).where(condition)).scalars())
    expected = {i for i, c in enumerate(cases) if decide(scope, c, DIRECTORY).in_scope}
    assert selected == expected, scope


def test_the_generated_cases_reach_both_answers(engine):
    """The sample is not one-sided: a Polsek supervisor sees Cikande, not Menteng."""
    scope = Scope("supervisor", unit="polsek-360415")
    cikande = Holding("36.04.15.2001", "polsek-cikande")
    menteng = Holding("31.71.06.1001", "polsek-menteng")
    assert decide(scope, cikande, DIRECTORY).identity
    assert not decide(scope, menteng, DIRECTORY).in_scope
