"""Open311 service definitions (issue 14, item 3) and the spec's query limits and filters on
GET requests (item 5), in both formats, against the real PostgreSQL behind the app. XML is
read with xml.etree; time is moved with the service's clock, never waited for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest

from shared.taxonomy import DATATYPES, LIST_DATATYPES, load_categories

pytestmark = pytest.mark.integration
BASE = "/open311/v2"
ATTRIBUTE_FIELDS = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
]
BOOLEANS = {"true": True, "false": False}


def _xml(response) -> ElementTree.Element:
    assert response.mimetype == "text/xml"
    assert response.get_data().startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(response.get_data())


def _definition_from_xml(tree: ElementTree.Element) -> dict:
    """The XML definition read back with the spec's types, to compare with the JSON."""
    assert tree.tag == "service_definition"
    assert [child.tag for child in tree] == ["service_code", "attributes"]
    attributes = []
    for element in tree.find("attributes"):
        assert element.tag == "attribute"
        assert [child.tag for child in element] == ATTRIBUTE_FIELDS
        values = []
        for value in element.find("values"):
            assert value.tag == "value" and [c.tag for c in value] == ["key", "name"]
            values.append({"key": value.findtext("key"), "name": value.findtext("name")})
        attributes.append(
            {
                "variable": BOOLEANS[element.findtext("variable")],
                "code": element.findtext("code"),
                "datatype": element.findtext("datatype"),
                "required": BOOLEANS[element.findtext("required")],
                "datatype_description": element.findtext("datatype_description") or None,
                "order": int(element.findtext("order")),
                "description": element.findtext("description"),
                "values": values,
            }
        )
    return {"service_code": tree.findtext("service_code"), "attributes": attributes}


def _categories(followup):
    return load_categories(followup.settings.routing_rules_path)


def _ids(followup, query: str = "", fmt: str = "json") -> list[str]:
    response = followup.client.get(f"{BASE}/requests.{fmt}?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    if fmt == "xml":
        return [r.findtext("service_request_id") for r in _xml(response)]
    return [r["service_request_id"] for r in response.json]


# --- service definitions -----------------------------------------------------------------


@pytest.mark.parametrize("code", ["street_lighting", "road_damage", "hoax_provocation"])
def test_a_definition_is_the_same_typed_data_in_xml_and_json(followup, code):
    data = followup.client.get(f"{BASE}/services/{code}.json").json
    tree = _xml(followup.client.get(f"{BASE}/services/{code}.xml"))
    assert _definition_from_xml(tree) == data
    assert data["service_code"] == code and data["attributes"]
    orders = [a["order"] for a in data["attributes"]]
    assert orders == sorted(set(orders)) and orders[0] == 1
    for attribute in data["attributes"]:
        assert set(attribute) == set(ATTRIBUTE_FIELDS)  # JSON objects are unordered
        assert attribute["datatype"] in DATATYPES
        assert isinstance(attribute["variable"], bool) and isinstance(attribute["required"], bool)
        assert attribute["description"]
        assert bool(attribute["values"]) == (attribute["datatype"] in LIST_DATATYPES)
        assert all(v["key"] and v["name"] for v in attribute["values"])


def test_a_definition_reads_in_bahasa_indonesia_first_and_english_on_request(followup):
    indonesian = followup.client.get(f"{BASE}/services/road_damage.json").json["attributes"][0]
    english = followup.client.get(f"{BASE}/services/road_damage.xml?lang=en")
    first = _xml(english).find("attributes/attribute")
    assert indonesian["description"] == "Seberapa besar kerusakannya?"
    assert first.findtext("description") == "How large is the damage?"
    assert indonesian["values"][0] == {
        "key": "small",
        "name": "Kecil: lubang atau retak kurang dari 1 meter",
    }
    assert first.find("values/value/name").text == "Small: a hole or crack under 1 metre"


def test_metadata_is_true_exactly_for_the_categories_whose_definition_has_attributes(followup):
    services = followup.client.get(f"{BASE}/services.json").json
    xml_flags = {
        s.findtext("service_code"): s.findtext("metadata")
        for s in _xml(followup.client.get(f"{BASE}/services.xml"))
    }
    assert {s["service_code"]: str(s["metadata"]).lower() for s in services} == xml_flags
    categories = _categories(followup)
    offered = {c.id for c in categories.values() if not c.sensitive}
    assert {s["service_code"] for s in services} == offered  # sensitive ones are absent
    staff = followup.client.get(f"{BASE}/services.json", headers=followup.supervisor).json
    assert {s["service_code"] for s in staff} == set(categories)  # staff keep them
    for service in staff:
        category = categories[service["service_code"]]
        definition = followup.client.get(f"{BASE}/services/{category.id}.json")
        if category.sensitive:  # listed: false, and no definition to read
            assert service["metadata"] is False and definition.status_code == 404
            continue
        assert definition.status_code == 200
        assert service["metadata"] is bool(definition.json["attributes"])
        assert service["metadata"] is bool(category.attributes)
    flagged = {s["service_code"] for s in services if s["metadata"]}
    assert {"street_lighting", "road_damage", "hoax_provocation"} <= flagged
    assert "public_order" not in flagged and "tawuran" not in flagged


def test_a_public_category_without_attributes_has_an_empty_definition(followup):
    assert followup.client.get(f"{BASE}/services/public_order.json").json == {
        "service_code": "public_order",
        "attributes": [],
    }
    tree = _xml(followup.client.get(f"{BASE}/services/public_order.xml"))
    assert tree.findtext("service_code") == "public_order" and not list(tree.find("attributes"))


@pytest.mark.parametrize("code", ["no_such_service", "tawuran", "narcotics", "money_politics"])
def test_an_unknown_or_sensitive_code_is_404_in_the_format_asked_for(followup, code):
    as_json = followup.client.get(f"{BASE}/services/{code}.json")
    assert as_json.status_code == 404 and as_json.mimetype == "application/json"
    assert as_json.json == [{"code": 404, "description": f"service_code {code} not found"}]
    as_xml = followup.client.get(f"{BASE}/services/{code}.xml")
    tree = _xml(as_xml)
    assert as_xml.status_code == 404 and tree.tag == "errors"
    assert tree.findtext("error/code") == "404"
    assert tree.findtext("error/description") == f"service_code {code} not found"
    assert "Potensi tawuran" not in as_xml.get_data(as_text=True)


# --- GET requests: window, filters, sensitive categories ---------------------------------


@pytest.fixture
def spread(followup):
    """Cases opened at controlled times: one at T0, three 100 days later (one of them
    closed, one on a sensitive category); the clock then stands a day after those."""
    t0 = followup.clock.now
    early = followup.open("street_lighting")["id"]
    followup.clock.advance(days=100)
    late_light = followup.open("street_lighting")["id"]
    late_road = followup.open("road_damage")["id"]
    hidden = followup.open("tawuran")["id"]
    closed = followup.post(
        late_road, "close", followup.supervisor, outcome="no_further_action", reason="x"
    )
    assert closed.status_code == 200, closed.json
    followup.clock.advance(days=1)
    return {
        "t0": t0,
        "early": early,
        "late_light": late_light,
        "late_road": late_road,
        "hidden": hidden,
    }


def _w3c(moment: datetime) -> str:
    return moment.isoformat().replace("+", "%2B")


def test_without_dates_the_list_is_the_last_90_days_by_the_service_clock(followup, spread):
    for fmt in ("json", "xml"):
        assert set(_ids(followup, fmt=fmt)) == {spread["late_light"], spread["late_road"]}
    followup.clock.advance(days=95)  # now even the later cases are older than 90 days
    assert _ids(followup) == []


def test_start_and_end_dates_choose_the_window(followup, spread):
    t0, day = spread["t0"], timedelta(days=1)
    late = {spread["late_light"], spread["late_road"]}
    # only start_date: the 90 days after it
    assert _ids(followup, f"start_date={_w3c(t0 - day)}") == [spread["early"]]
    # only end_date: the 90 days before it
    assert set(_ids(followup, f"end_date={_w3c(t0 + 101 * day)}")) == late
    assert _ids(followup, f"end_date={_w3c(t0 + 89 * day)}") == [spread["early"]]
    # both; an offset of +07:00 (t0 is Jakarta time) or Z names the same instant
    window = f"start_date={_w3c(t0 + 99 * day)}&end_date={_w3c(t0 + 101 * day)}"
    assert set(_ids(followup, window)) == late
    assert set(_ids(followup, window, fmt="xml")) == late
    as_z = (t0 - day).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert as_z.endswith("Z") and _w3c(t0 - day).endswith("%2B07:00")
    narrow = f"start_date={as_z}&end_date={_w3c(t0 + day)}"
    assert _ids(followup, narrow) == [spread["early"]]
    unencoded = f"start_date={(t0 - day).isoformat()}&end_date={(t0 + day).isoformat()}"
    assert "+07:00" in unencoded and _ids(followup, unencoded) == [spread["early"]]
    just_after = f"start_date={_w3c(t0 + timedelta(seconds=1))}&end_date={_w3c(t0 + day)}"
    assert _ids(followup, just_after) == []


def test_requests_are_newest_first(followup, spread):
    t0 = spread["t0"]
    both = f"start_date={_w3c(t0)}&end_date={_w3c(t0 + timedelta(days=90))}"
    assert _ids(followup, both) == [spread["early"]]
    listed = followup.client.get(f"{BASE}/requests.json").json
    requested = [item["requested_datetime"] for item in listed]
    assert requested == sorted(requested, reverse=True)
    assert all(datetime.fromisoformat(at).utcoffset() is not None for at in requested)


@pytest.mark.parametrize(
    "query, problem",
    [
        ("start_date=yesterday", "start_date must be a W3C date-time with an offset"),
        ("start_date=2026-02-05T00:00:00", "start_date must be a W3C date-time with an offset"),
        ("end_date=2026-02-05", "end_date must be a W3C date-time with an offset"),
        ("end_date=2026-02-30T00:00:00Z", "end_date must be a W3C date-time with an offset"),
        ("start_date=2026-03-01T00:00:00Z&end_date=2026-02-01T00:00:00Z", "before start_date"),
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-04-02T00:00:00Z", "at most 90 days"),
        ("start_date=9999-12-31T00:00:00Z", "off the calendar"),
        ("end_date=0001-01-01T00:00:00%2B14:00", "with an offset"),
    ],
)
def test_a_bad_date_is_400_in_the_spec_error_format(followup, query, problem):
    as_json = followup.client.get(f"{BASE}/requests.json?{query}")
    assert as_json.status_code == 400
    [error] = as_json.json
    assert error["code"] == 400 and problem in error["description"]
    as_xml = followup.client.get(f"{BASE}/requests.xml?{query}")
    assert as_xml.status_code == 400
    assert problem in _xml(as_xml).findtext("error/description")


def test_status_and_service_code_filter_and_combine(followup, spread):
    late = {spread["late_light"], spread["late_road"]}
    assert _ids(followup, "status=open") == [spread["late_light"]]
    assert _ids(followup, "status=closed", fmt="xml") == [spread["late_road"]]
    assert set(_ids(followup, "status=open,closed")) == late
    assert set(_ids(followup, "status=")) == late  # empty is as if not given
    by_code = _ids(followup, "service_code=road_damage,electricity")
    assert by_code == [spread["late_road"]]
    assert set(_ids(followup, "service_code=street_lighting,road_damage")) == late
    assert _ids(followup, "service_code=road_damage&status=open") == []
    assert followup.client.get(f"{BASE}/requests.json?status=open,pending").status_code == 400


def test_service_request_ids_override_every_other_filter(followup, spread):
    wanted = f"{spread['early']},{spread['late_road']}"
    others = "status=open&service_code=electricity&end_date=2000-01-01T00:00:00Z"
    query = f"service_request_id={wanted}&{others}"
    assert set(_ids(followup, query)) == {spread["early"], spread["late_road"]}
    assert set(_ids(followup, f"service_request_id={wanted}", fmt="xml")) == {
        spread["early"],
        spread["late_road"],
    }


def test_sensitive_cases_are_absent_from_every_list(followup, spread):
    hidden, t0 = spread["hidden"], spread["t0"]
    queries = [
        "",
        "service_code=tawuran",
        f"service_request_id={hidden}",
        f"service_request_id={hidden},{spread['late_light']}",
        "status=open,closed",
        f"start_date={_w3c(t0 + timedelta(days=99))}",
    ]
    for query in queries:
        for fmt in ("json", "xml"):
            assert hidden not in _ids(followup, query, fmt), (query, fmt)
    updates = followup.client.get(f"{BASE}/servicerequestupdates.json?service_request_id={hidden}")
    assert updates.status_code == 200 and updates.json == []
    assert followup.client.get(f"{BASE}/requests/{hidden}.json").status_code == 404


def test_paging_still_pages_through_a_filtered_window(followup, spread):
    query = "service_code=street_lighting,road_damage"
    everything = _ids(followup, query)
    assert len(everything) == 2
    pages = [_ids(followup, f"{query}&page={n}&page_size=1") for n in (1, 2, 3)]
    assert pages == [everything[:1], everything[1:], []]
