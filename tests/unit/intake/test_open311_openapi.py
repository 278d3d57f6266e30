"""Intake's OpenAPI document describes the Open311 filing's `notify` extension (issue 24):
what a client's developer reads is what intake_service/open311.py accepts."""

from intake_service.openapi import build_spec


def _request_in() -> dict:
    return build_spec()["components"]["schemas"]["Open311RequestIn"]["properties"]


def test_notify_fields_of_open311_filing_are_named_typed_enumerated_and_described():
    props = _request_in()
    notify, language = props["notify"], props["notify_language"]
    assert notify["type"] == "string" and language["type"] == "string"
    assert [v for v in notify["enum"] if v] == ["email", "whatsapp", "sms"]
    assert language["enum"] == ["id", "en"] and language["default"] == "id"
    assert "email" in notify["description"] and "phone" in notify["description"]
    assert "Bahasa Indonesia" in language["description"]
    assert "notify" in props["email"]["description"] and "notify" in props["phone"]["description"]


def test_the_filing_example_uses_the_notify_extension_with_its_address():
    spec = build_spec()
    operation = spec["paths"]["/open311/v2/requests.{fmt}"]["post"]
    body = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert body["example"]["notify"] == "email" and body["example"]["email"]
    assert "notify" in operation["description"]
