"""Open311 GeoReport v2 in both formats (issue 14, item 1): XML as the spec's examples
show it, JSON from the same data; the pagination extension; errors in either format."""

from xml.etree import ElementTree

import pytest

pytestmark = pytest.mark.integration
BASE = "/open311/v2"
SINCE = "start_date=2026-01-01T00:00:00Z"  # the fixture's cases are from February 2026


@pytest.fixture
def open311(followup):
    for category in ("street_lighting", "road_damage", "drainage"):
        followup.open(category)
    return followup.client


def _xml(response):
    assert response.status_code in (200, 400, 404)
    assert response.mimetype == "text/xml"
    assert response.mimetype_params.get("charset") == "utf-8"
    body = response.get_data()
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(body)


def _as_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@pytest.mark.parametrize(
    "path, root, item",
    [
        ("services", "services", "service"),
        ("requests", "service_requests", "request"),
        ("servicerequestupdates", "service_request_updates", "request_update"),
    ],
)
def test_every_list_is_the_same_data_in_xml_and_json(open311, path, root, item):
    data = open311.get(f"{BASE}/{path}.json?{SINCE}").json
    tree = _xml(open311.get(f"{BASE}/{path}.xml?{SINCE}"))
    assert tree.tag == root and data
    assert [child.tag for child in tree] == [item] * len(data)
    for element, entry in zip(tree, data, strict=True):
        assert {c.tag: (c.text or "") for c in element} == {
            k: _as_text(v) for k, v in entry.items()
        }


def test_one_request_and_discovery_in_xml(open311):
    first = open311.get(f"{BASE}/requests.json?{SINCE}").json[0]
    one = _xml(open311.get(f"{BASE}/requests/{first['service_request_id']}.xml"))
    assert one.find("request/service_request_id").text == first["service_request_id"]
    assert one.find("request/expected_datetime").text.endswith("+00:00")  # with an offset
    discovery = _xml(open311.get(f"{BASE}/discovery.xml"))
    formats = [f.text for f in discovery.findall("endpoints/endpoint/formats/format")]
    assert formats == ["text/xml", "application/json"]
    assert open311.get(f"{BASE}/discovery.json").json["endpoints"][0]["formats"] == formats


def test_errors_come_in_the_format_asked_for(open311):
    bad = open311.get(f"{BASE}/requests.xml?status=pending")
    tree = _xml(bad)
    assert bad.status_code == 400 and tree.tag == "errors"
    assert tree.find("error/code").text == "400" and tree.find("error/description").text
    missing = open311.get(f"{BASE}/requests/case-nope.xml")
    assert missing.status_code == 404 and _xml(missing).find("error/code").text == "404"
    assert open311.get(f"{BASE}/requests.json?status=pending").json[0]["code"] == 400


def test_requests_page_through_with_page_and_page_size(open311):
    everything = [
        r["service_request_id"] for r in open311.get(f"{BASE}/requests.json?{SINCE}").json
    ]
    pages = [
        [r["service_request_id"] for r in open311.get(
            f"{BASE}/requests.json?{SINCE}&page={n}&page_size=2").json]
        for n in (1, 2)
    ]  # fmt: skip
    assert pages[0] + pages[1] == everything and len(pages[0]) == 2
    for bad in ("page_size=0", "page_size=1001", "page=x", "page=-1"):
        assert open311.get(f"{BASE}/requests.json?{bad}").status_code == 400, bad


def test_requests_name_the_official_address_and_jurisdiction_and_filter_by_it(followup):
    """Issue 11, item 6: the address is the official hierarchy down to the kelurahan/desa,
    jurisdiction_id is the kabupaten/kota code, and requests filter by it."""
    serang = followup.open("street_lighting")  # Cikande, Kab. Serang (36.04)
    bekasi = followup.open(
        "road_damage", kabupaten="Kota Bekasi", kecamatan="Bekasi Selatan", kelurahan="Pekayon Jaya"
    )
    client = followup.client
    by_id = {r["service_request_id"]: r for r in client.get(f"{BASE}/requests.json?{SINCE}").json}
    assert by_id[serang["id"]]["jurisdiction_id"] == "36.04"
    assert by_id[serang["id"]]["address"] == (
        "Desa Cikande, Kecamatan Cikande, Kabupaten Serang, Banten"
    )
    assert by_id[bekasi["id"]]["jurisdiction_id"] == "32.75"
    assert by_id[bekasi["id"]]["address"].startswith("Kelurahan Pekayonjaya, Kecamatan Bekasi")
    only = client.get(f"{BASE}/requests.xml?{SINCE}&jurisdiction_id=32.75")
    ids = [r.findtext("service_request_id") for r in _xml(only).findall("request")]
    assert ids == [bekasi["id"]]
    assert _xml(only).find("request").findtext("jurisdiction_id") == "32.75"
    unknown = client.get(f"{BASE}/requests.json?{SINCE}&jurisdiction_id=kawal.example")
    assert {r["service_request_id"] for r in unknown.json} >= {serang["id"], bekasi["id"]}
