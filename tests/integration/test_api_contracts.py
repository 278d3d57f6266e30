"""Both services' OpenAPI documents are the contract: every API route is in its document,
and schemathesis, generating requests from each document against the app in-process
(real PostgreSQL, Redis and Kafka behind it), finds no server error and no response
that disagrees with the document."""

from __future__ import annotations

import re
import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance
from werkzeug.serving import make_server

from intake_service.app import create_app as create_intake
from tests.integration.followup.conftest import Service as FollowupService

pytestmark = pytest.mark.integration
DOCUMENTED_PREFIXES = ("/api/", "/open311/", "/openapi.json", "/healthz", "/readyz", "/metrics")
# A bounded number of generated requests per operation, the same ones every run.
EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
TALLY: dict[str, dict[str, int]] = {}


def _routes(app) -> set[str]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(DOCUMENTED_PREFIXES):
            path = re.sub(r"<(?:[^<>]*:)?([a-z_]+)>", r"{\1}", rule.rule)
            routes |= {f"{m} {path}" for m in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def _documented(spec: dict) -> set[str]:
    return {f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m in ops}


@pytest.fixture(scope="module")
def intake_url(intake_app):
    """Intake over HTTP: follow-up passes Open311 POSTs on to it, as under run.sh."""
    server = make_server("127.0.0.1", 0, intake_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def followup_app(create_database, stack_env, migrated_template, intake_url):
    from tests.conftest import _service_settings

    service = FollowupService(
        _service_settings(
            "followup", create_database, stack_env, migrated_template, intake_url=intake_url
        )
    )
    # service codes: one with a definition, one sensitive (404), one without attributes
    service.real_ids = {
        "case_id": [],
        "code": [],
        "service_code": ["street_lighting", "tawuran", "public_order"],
    }
    for category in ("street_lighting", "road_damage", "tawuran"):
        case = service.open(category)
        service.real_ids["case_id"].append(case["id"])
        service.real_ids["code"].append(case["tracking_code"])
    return service


@pytest.fixture(scope="module")
def intake_app(create_database, stack_env, migrated_template):
    from tests.conftest import _service_settings

    return create_intake(_service_settings("intake", create_database, stack_env, migrated_template))


def test_every_followup_route_is_documented_and_nothing_else(followup_app):
    spec = followup_app.client.get("/openapi.json").json
    validate(spec)
    routes = _routes(followup_app.app)
    assert len(routes) >= 20
    assert routes - _documented(spec) == set()
    assert _documented(spec) - routes == set()


def test_every_liaison_command_documents_its_body_and_the_409(followup_app):
    spec = followup_app.client.get("/openapi.json").json
    commands = [
        p
        for p, operations in spec["paths"].items()
        if re.fullmatch(r"/api/v1/cases/\{case_id\}/\w+", p) and "post" in operations
    ]
    assert len(commands) == 11
    schemas = spec["components"]["schemas"]
    assert {"current_status", "allowed_actions"} <= set(
        schemas["IllegalTransitionOut"]["properties"]
    )
    for path in commands:
        operation = spec["paths"][path]["post"]
        assert "example" in operation["requestBody"]["content"]["application/json"], path
        assert "409" in operation["responses"] and "422" in operation["responses"], path


def _exercise(schema, token: str, service: str, real_ids: dict | None = None) -> None:
    """Every operation of the document, a bounded set of generated requests each."""
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations
    for operation in operations:

        @EXAMPLES
        @given(case=operation.as_strategy())
        def run(case):
            _call(case, token, service, real_ids or {})

        run()
    TALLY[service]["operations"] = len(operations)


def _call(case, token: str, service: str, real_ids: dict):
    tally = TALLY.setdefault(service, {"requests": 0, "server_errors": 0})
    tally["requests"] += 1
    # Every other request names a real case, so commands reach the case's state machine
    # (200, 409 or 422) instead of stopping at 404.
    for name, ids in real_ids.items():
        if case.path_parameters and name in case.path_parameters and tally["requests"] % 2:
            case.path_parameters[name] = ids[tally["requests"] % len(ids)]
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    if response.status_code >= 500:
        tally["server_errors"] += 1
    case.validate_response(response, excluded_checks=_NOT_OURS)


# positive_data_acceptance expects 2xx for any schema-valid body, but most generated
# ids name no case (a documented 404); ignored_auth judges the generated credentials,
# which _call replaces with a valid token (sign-in is tested on its own). Every other
# check runs: no 5xx, documented status codes, content types and response bodies.
_NOT_OURS = [positive_data_acceptance, ignored_auth]


def test_followup_api_conforms_to_its_document(followup_app):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", followup_app.app)
    token = followup_app.tokens.issue("contract-supervisor", "supervisor", area="national")
    _exercise(schema, token, "followup", followup_app.real_ids)


def test_intake_api_conforms_to_its_document(intake_app):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", intake_app)
    token = intake_app.extensions["tokens"].issue(
        "contract-supervisor", "supervisor", area="national"
    )
    _exercise(schema, token, "intake")


def test_zz_contract_tally(capsys):
    """Prints how many generated requests each service answered (for the closing note)."""
    with capsys.disabled():
        print(f"\nschemathesis: {TALLY}")
    assert all(t["server_errors"] == 0 for t in TALLY.values())
