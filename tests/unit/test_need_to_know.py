"""The need-to-know rule (shared.need_to_know): who sees what and who acts, per scope.
(Replaces intake's may_write/may_see_reporter/may_see_details tests: supervisors and
admins no longer reach every unit.)"""

import pytest

from shared.auth import Principal
from shared.need_to_know import Holding, Scope, decide
from shared.police import load_police_directory

D = load_police_directory()
# An aspiration logged by Polsek Cikande in Cikande (Kabupaten Serang, Banten), recorded
# under the unit's old id, now with the Polres Serang Samapta desk (escalated).
CIKANDE = Holding("36.04.15.2001", "polsek-cikande", "polres-samapta-3604")
# A sub-case of it assigned to the neighbouring Polsek Kibin (36.04.16).
SUB_CASE = Holding("36.04.15.2001", "polsek-cikande", "polsek-360416")


def who(role, unit=None, area=None, agency=None):
    return Scope.of(Principal("x", role, "t", unit=unit, agency=agency, area=area), D)


@pytest.mark.parametrize(
    "scope, in_scope, identity",
    [
        (who("officer", "polsek-cikande"), True, True),  # old id of polsek-360415
        (who("officer", "polsek-360415"), True, True),
        (who("officer", "polsek-menteng"), False, False),
        (who("officer", "polres-3604"), True, False),  # holds it: its desk
        (who("supervisor", "Polsek Cikande"), True, True),
        (who("supervisor", "polsek-menteng"), False, False),  # issue 27's supervisor
        (who("supervisor", "polres-serang"), True, True),  # area 36.04
        (who("supervisor", area="36"), True, True),
        (who("supervisor", area="36.04.16"), False, False),
        (who("supervisor", area="31"), False, False),
        (who("supervisor", area="national"), True, True),
        (who("supervisor"), False, False),  # no unit, no area: nothing
        (who("liaison", agency="polres-samapta-3604"), True, False),
        (who("liaison", agency="dishub-3604"), False, False),
        (who("admin"), False, False),
        (who("admin", area="national"), True, False),  # content, audited; no identity
        (who("open311_client"), False, False),
    ],
)
def test_scope_decides_content_and_identity(scope, in_scope, identity):
    access = decide(scope, CIKANDE, D)
    assert (access.in_scope, access.identity) == (in_scope, identity)


def test_cross_unit_work_is_in_the_other_units_scope_without_the_identity():
    kibin_officer = who("officer", "Polsek Kibin")
    kibin_supervisor = who("supervisor", area="36.04.16")
    for scope in (kibin_officer, kibin_supervisor):
        access = decide(scope, SUB_CASE, D)
        assert access.in_scope and not access.identity
    # back with Cikande's own Polsek: Kibin is out again
    assert not decide(
        kibin_officer, Holding("36.04.15.2001", "polsek-cikande", "polsek-360415"), D
    ).in_scope


def test_escalation_to_a_polda_puts_the_case_in_the_poldas_supervisors_scope():
    bekasi = Holding("32.75.04.1001", "polsek-327504", "polda-metro-jaya-ditresnarkoba")
    assert decide(who("supervisor", "polda-metro-jaya"), bekasi, D).identity  # buffer city
    assert decide(who("supervisor", area="32"), bekasi, D).identity  # the province too
    # Jakarta's supervisors: the case is held by a unit of theirs, the informant is not
    jakarta = decide(who("supervisor", area="31"), bekasi, D)
    assert jakarta.in_scope and not jakarta.identity
    assert not decide(who("supervisor", area="31.71"), bekasi, D).in_scope
