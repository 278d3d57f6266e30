"""One unit, one id: every spelling of a unit's name compares equal (issue 15)."""

import pytest

from shared.auth import Tokens
from shared.need_to_know import Holding, Scope, may_act
from shared.police import load_police_directory
from shared.units import same_unit, unit_id, unit_name


@pytest.mark.parametrize(
    "spelling", ["Polsek Krangkeng", "polsek krangkeng", "polsek-krangkeng", " POLSEK  Krangkeng "]
)
def test_every_spelling_of_a_unit_has_one_id(spelling):
    assert unit_id(spelling) == "polsek-krangkeng"
    assert unit_name(spelling) == "Polsek Krangkeng"


def test_different_units_and_missing_ones_never_compare_equal():
    assert not same_unit("Polsek Krangkeng", "Polsek Cikande")
    assert not same_unit(None, "polsek-cikande") and not same_unit(None, None)


def test_an_officer_token_minted_with_the_name_writes_for_the_id_and_not_for_others():
    tokens = Tokens("x" * 32, "test")
    officer = tokens.verify(tokens.issue("budi", "officer", unit="Polsek Krangkeng"))
    assert officer.unit == "polsek-krangkeng"
    directory = load_police_directory()
    scope = Scope.of(officer, directory)
    assert may_act(scope, Holding(None, unit_id("Polsek Krangkeng")), directory)
    assert may_act(scope, Holding(None, "polsek-321209"), directory)  # its directory id
    assert not may_act(scope, Holding(None, "polsek-cikande"), directory)


def test_a_legacy_token_carrying_a_display_name_decodes_to_the_id():
    import jwt

    legacy = Tokens("x" * 32, "test").issue("budi", "officer", unit="x")
    claims = jwt.decode(legacy, "x" * 32, algorithms=["HS256"], issuer="test")
    claims["unit"] = "Polsek Krangkeng"  # as minted before units had ids
    forged_as_old = jwt.encode(claims, "x" * 32, algorithm="HS256")
    assert Tokens("x" * 32, "test").verify(forged_as_old).unit == "polsek-krangkeng"
