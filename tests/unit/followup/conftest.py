from datetime import datetime
from pathlib import Path

import pytest

from followup_service.domain.case import Case
from followup_service.domain.deadlines import JAKARTA
from followup_service.domain.routing import Area, RoutingRules
from followup_service.rules import load_routing_rules

RULES_FILE = Path(__file__).parents[3] / "deploy" / "routing" / "rules.yaml"
CIKANDE = Area(region="kab-serang", kecamatan="Cikande", kelurahan="Cikande")
# The morning after the Cikande ngariung. Test modules repeat CIKANDE and T0 rather than
# import this conftest: `from conftest import` picks the wrong file when several exist.
T0 = datetime(2026, 2, 5, 9, 0, tzinfo=JAKARTA)


@pytest.fixture(scope="session")
def rules() -> RoutingRules:
    """The deployed rules over the vendored region directory (read once, about a second)."""
    return load_routing_rules(str(RULES_FILE))


@pytest.fixture
def open_case(rules):
    """Factory: a case opened in Cikande, routed by the rules unless route=False."""

    def make(category="street_lighting", *, route=True, urgency="normal", case_id="case-1"):
        case = Case()
        case.open(
            rules,
            case_id=case_id,
            aspiration_id=f"asp-{case_id}",
            tracking_code="KA-7Q2M",
            category=category,
            area=CIKANDE,
            public_summary="PJU mati di Jl. Raya Cikande",
            description="Dilaporkan oleh Pak Otong, HP 0812-0000-0000",
            now=T0,
            actor="officer:bhabin-cikande",
            urgency=urgency,
        )
        if route:
            case.route(rules, now=T0, actor="router")
        return case

    return make
