"""/openapi.json is a valid OpenAPI 3 document that covers every route the app serves."""

import re

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.integration


def test_openapi_document_is_valid_when_fetched(intake):
    response = intake.client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json
    validate(spec)
    assert spec["openapi"].startswith("3.")


def _routes(app) -> set[str]:
    """Every JSON API route as 'METHOD /path'; HTML pages and static files are not API."""
    routes = set()
    for rule in app.url_map.iter_rules():
        documented = ("/api/", "/open311/", "/openapi.json", "/healthz", "/readyz", "/metrics")
        if not rule.rule.startswith(documented):
            continue
        path = re.sub(r"<(?:[^<>]*:)?([a-z_]+)>", r"{\1}", rule.rule)
        routes |= {f"{m} {path}" for m in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_every_api_route_is_documented_when_the_app_is_built(intake):
    spec = intake.client.get("/openapi.json").json
    documented = {f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m in ops}
    routes = _routes(intake.app)
    assert len(routes) >= 15
    assert routes - documented == set()
    assert documented - routes == set()  # and nothing documented that is not served


def test_every_write_has_an_example_body_when_documented(intake):
    spec = intake.client.get("/openapi.json").json
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "post" and path.startswith("/open311/"):  # the spec's form, its errors
                body = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]
                assert "example" in body, path
                assert {"201", "400", "403"} <= set(operation["responses"])
            elif method == "post" and path == "/api/v1/photos":  # a multipart upload
                body = operation["requestBody"]["content"]["multipart/form-data"]
                assert body["schema"]["required"] == ["file"]
                assert {"201", "413", "415", "422"} <= set(operation["responses"])
            elif method == "post":
                body = operation["requestBody"]["content"]["application/json"]
                assert "example" in body, path
                assert "201" in operation["responses"] and "422" in operation["responses"]
