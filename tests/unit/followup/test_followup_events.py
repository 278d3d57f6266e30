import ast
import json
import sys
from datetime import datetime
from pathlib import Path

import pytest

from followup_service.domain.deadlines import JAKARTA
from followup_service.domain.events import (
    CaseOpened,
    CaseSplit,
    SubCase,
    event_type,
    from_payload,
    to_payload,
)

T0 = datetime(2026, 2, 5, 9, 0, tzinfo=JAKARTA)

DOMAIN = Path(__file__).parents[3] / "followup_service" / "domain"


def test_event_survives_json_round_trip_when_it_holds_nested_values(rules):
    split = CaseSplit(
        case_id="c",
        occurred_at=T0,
        actor="officer",
        sub_cases=(SubCase("c-a", "road_damage", "Jalan"), SubCase("c-b", "other", "Lain")),
    )

    wire = json.loads(json.dumps(to_payload(split)))

    assert wire["occurred_at"] == "2026-02-05T02:00:00+00:00"  # events carry UTC
    assert from_payload(event_type(split), wire) == split


def test_value_error_when_event_time_is_naive():
    with pytest.raises(ValueError):
        CaseOpened(
            case_id="c",
            occurred_at=datetime(2026, 2, 5),
            actor="x",
            aspiration_id="a",
            tracking_code="t",
            category="other",
            region="r",
            kelurahan="k",
            public_summary="s",
        )


def test_domain_imports_only_stdlib_and_holidays_when_scanned():
    allowed = set(sys.stdlib_module_names) | {"holidays", "followup_service"}
    for module in DOMAIN.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] in allowed, f"{module.name} imports {name}"
