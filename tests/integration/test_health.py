import dataclasses

import pytest

from followup_service.app import create_app as create_followup
from intake_service.app import create_app as create_intake

pytestmark = pytest.mark.integration
FACTORIES = {"intake": create_intake, "followup": create_followup}


@pytest.mark.parametrize("service", sorted(FACTORIES))
def test_ready_when_database_kafka_and_redis_are_reachable(service, make_settings):
    client = FACTORIES[service](make_settings(service)).test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json
    assert ready.json["checks"] == {"database": "ok", "kafka": "ok", "redis": "ok"}


@pytest.mark.parametrize("service", sorted(FACTORIES))
def test_not_ready_and_names_the_dependency_when_redis_is_unreachable(service, make_settings):
    settings = dataclasses.replace(make_settings(service), redis_url="redis://127.0.0.1:1/0")
    ready = FACTORIES[service](settings).test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["redis"].startswith("unavailable")
    assert ready.json["checks"]["database"] == "ok"


@pytest.mark.parametrize("service", sorted(FACTORIES))
def test_unknown_api_route_and_wrong_method_get_json_errors(service, make_settings):
    client = FACTORIES[service](make_settings(service)).test_client()
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.is_json
    wrong_method = client.delete("/healthz")
    assert wrong_method.status_code == 405 and wrong_method.is_json
