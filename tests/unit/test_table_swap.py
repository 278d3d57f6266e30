"""The index definitions a swap copies are rewritten onto the fresh table, or refused."""

import pytest

from shared.table_swap import _INDEX_DEF, fresh_name


@pytest.mark.parametrize(
    "definition",
    [
        "CREATE UNIQUE INDEX cases_pkey ON public.cases USING btree (case_id)",
        "CREATE INDEX ix_cases_agency_status ON public.cases USING btree (agency_id, status)",
        "CREATE INDEX ix_x ON ONLY public.cases USING btree (lower((unit)::text))",
    ],
)
def test_an_index_definition_splits_into_name_table_and_the_rest(definition):
    create, name, on, table, rest = _INDEX_DEF.match(definition).groups()
    assert create.startswith("CREATE") and table == "public.cases"
    assert f"{create}{name}{on}{table}{rest}" == definition
    assert rest.startswith(" USING btree (")


def test_fresh_tables_are_named_beside_the_live_ones():
    assert fresh_name("cases") == "cases__fresh"
