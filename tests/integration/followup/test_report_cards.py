"""Public report cards on the real PostgreSQL (issue 26): the stored figures equal those
computed directly from the cases, the pages and open data carry the same numbers, and
sensitive or confidential cases are in none of them."""

import csv
import io
import re
from datetime import UTC, datetime
from html import unescape

import orjson
import pytest

from followup_service import handlers
from followup_service.projections import rebuild
from followup_service.report_cards import store
from followup_service.report_cards.domain import FIGURES, SMALL, compute_cards, facts_of
from followup_service.report_cards.pages import card_csv_rows
from followup_service.report_cards.tables import report_case_facts
from followup_service.tables import cases
from followup_service.worker import sweep
from shared.pages.session import COOKIE as SESSION_COOKIE

pytestmark = pytest.mark.integration

DISHUB, PUPR = "dishub-3604", "pupr-3604"


def _world(followup):
    """Known answers for Kabupaten Serang. Street lighting (Dinas Perhubungan): 8 cases;
    5 acknowledged within deadline (one then resolved and verified, one resolved and
    disputed), 1 acknowledged after its deadline, 2 never acknowledged (escalated by the
    deadline worker to the Kepala Dinas: a small cell). Road damage (Dinas PUPR): 2 cases
    (a small cell). A tawuran tip and a confidential aspiration: left out."""
    dishub, officer = followup.liaison(DISHUB), followup.officer()
    lights = [followup.open("street_lighting") for _ in range(8)]
    roads = [followup.open("road_damage") for _ in range(2)]
    secret = [
        followup.open("tawuran", summary="Rencana tawuran"),
        followup.open("street_lighting", confidential=True, summary="Lampu mati"),
    ]
    followup.clock.advance(hours=3)
    for case in lights[:5]:
        assert followup.post(case["id"], "acknowledge", dishub).status_code == 200
    followup.post(roads[0]["id"], "acknowledge", followup.liaison(PUPR))
    followup.clock.advance(hours=5)
    resolved = followup.post(lights[0]["id"], "resolve", dishub, resolution="Dipasang")
    assert resolved.status_code == 200
    assert followup.post(lights[0]["id"], "confirm", officer).status_code == 200
    followup.post(lights[1]["id"], "resolve", dishub, resolution="Diganti")
    disputed = followup.post(lights[1]["id"], "dispute", officer, reason="Masih mati")
    assert disputed.status_code == 200
    followup.clock.advance(days=8)  # past every acknowledgement deadline (5 working days)
    assert followup.post(lights[5]["id"], "acknowledge", dishub).status_code == 200  # late
    sweep(followup.fu)  # the two never acknowledged climb to the Kepala Dinas
    assert handlers.load_case(followup.fu, lights[7]["id"]).level == 1
    return lights, roads, secret


def _refresh(followup):
    with followup.fu.engine.begin() as conn:
        return store.refresh(conn, followup.fu.rules, followup.clock())


def _direct(followup) -> dict:
    """Every card computed straight from the event-sourced cases, not the projection."""
    with followup.fu.engine.connect() as conn:
        ids = conn.execute(cases.select().with_only_columns(cases.c.case_id)).scalars().all()
        names = dict(conn.execute(store.select(store.regions.c.code, store.regions.c.name)).all())
    facts = [facts_of(handlers.load_case(followup.fu, case_id)) for case_id in ids]
    labels = {
        c: (
            followup.fu.rules.category_rule(c).label_id,
            followup.fu.rules.category_rule(c).label_en,
        )
        for c in {f.category for f in facts}
    }
    cards = compute_cards(facts, followup.clock(), area_names=names, category_labels=labels)
    return orjson.loads(orjson.dumps(cards))


def _stored(followup, code: str) -> dict:
    with followup.fu.engine.connect() as conn:
        return store.read_card(conn, code)[0]


def test_stored_figures_equal_those_computed_from_the_cases_and_the_known_answers(followup):
    lights, roads, secret = _world(followup)
    _refresh(followup)
    direct = _direct(followup)
    for code in ("ID", "36", "36.04", "36.04.15"):
        assert _stored(followup, code) == direct[code], code

    serang = _stored(followup, "36.04")
    dishub = next(r for r in serang["by_agency"] if r["key"] == DISHUB)
    assert dishub == {
        "key": DISHUB,
        "name": "Dinas Perhubungan Kabupaten Serang",
        "name_en": "Dinas Perhubungan Kabupaten Serang",
        "received": 6,
        "ack_within_deadline_pct": 83.3,  # 5 of 6
        "median_ack_working_days": 0.1,  # 3 hours, five times; and 6.3 days
        "median_resolve_working_days": SMALL,  # two resolutions
        "verified_pct": 16.7,
        "disputed_or_reopened_pct": 16.7,
        "open": 5,
        "overdue": 0,  # the resolution deadline (14 working days) is ahead
    }
    head = next(r for r in serang["by_agency"] if r["key"] == "kadishub-3604")
    assert head["received"] == SMALL and head["ack_within_deadline_pct"] == SMALL
    pupr = next(r for r in serang["by_agency"] if r["key"] == PUPR)
    assert pupr["received"] == SMALL
    assert serang["total"]["received"] == 10  # the tip and the confidential one left out
    street = next(r for r in serang["by_category"] if r["key"] == "street_lighting")
    assert (street["received"], street["ack_within_deadline_pct"]) == (8, 62.5)  # 5 of 8
    assert "tawuran" not in {r["key"] for r in serang["by_category"]}
    listed = {s["tracking_code"] for s in serang["slowest_open"]}
    assert not listed & {c["tracking_code"] for c in secret}
    assert len(listed) == 9  # every open public case (the verified one is closed)
    assert len(serang["weekly"]) == 26


def test_a_rebuild_gives_the_same_facts_and_cards(followup):
    _world(followup)
    _refresh(followup)
    before = _stored(followup, "36.04")
    with followup.fu.engine.connect() as conn:
        facts = conn.execute(report_case_facts.select().order_by("case_id")).all()
    with followup.fu.engine.begin() as conn:
        rebuild(conn, followup.fu.store, followup.fu.rules)
        store.refresh(conn, followup.fu.rules, followup.clock())
    with followup.fu.engine.connect() as conn:
        assert conn.execute(report_case_facts.select().order_by("case_id")).all() == facts
    assert _stored(followup, "36.04") == before


def _page_figures(html: str, name: str) -> list[str]:
    row = re.search(rf"<th scope=\"row\">{re.escape(name)}</th>(.*?)</tr>", html, re.S)
    assert row, name
    return [unescape(v) for v in re.findall(r'<td class="num">([^<]*)</td>', row.group(1))]


def _shown(value, figure: str) -> str:
    """A figure as the Indonesian page prints it."""
    if value is None:
        return "–"
    if value == SMALL:
        return SMALL
    return str(value).replace(".", ",") + ("%" if figure.endswith("_pct") else "")


def test_page_csv_and_json_carry_the_same_numbers_without_sign_in(followup):
    lights, roads, secret = _world(followup)
    _refresh(followup)
    client = followup.client

    page = client.get("/rapor/36.04")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and "Kabupaten Serang" in html
    assert " style=" not in html and "<script>" not in html  # nothing the CSP refuses
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    data = client.get("/rapor/36.04.json")
    assert data.status_code == 200 and "creativecommons.org" in data.json["licence"]["url"]
    card = data.json["card"]
    assert card == _stored(followup, "36.04")
    for row in card["by_agency"] + card["by_category"]:
        shown = _page_figures(html, row["name"])
        assert shown == [_shown(row[k], k) for k in FIGURES], row["name"]
    assert _page_figures(html, "Dinas Perhubungan Kabupaten Serang")[:2] == ["6", "83,3%"]

    text = client.get("/rapor/36.04.csv").get_data(as_text=True)
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    from_csv = list(csv.DictReader(io.StringIO("\n".join(lines))))
    expected = [{k: "" if v is None else str(v) for k, v in r.items()} for r in card_csv_rows(card)]
    assert from_csv == expected
    agency = next(r for r in from_csv if r["section"] == "agency" and r["key"] == DISHUB)
    assert agency["ack_within_deadline_pct"] == "83.3"
    json_row = next(r for r in card["by_agency"] if r["key"] == DISHUB)
    assert [agency[k] for k in FIGURES] == [str(json_row[k]) for k in FIGURES]

    everything = html + text + data.get_data(as_text=True)
    for case in secret:
        assert case["tracking_code"] not in everything
    assert "Rencana tawuran" not in everything

    per_case = client.get("/rapor/36.04/kasus.csv?halaman=1").get_data(as_text=True)
    codes = {row["tracking_code"] for row in csv.DictReader(io.StringIO(per_case))}
    assert codes == {c["tracking_code"] for c in lights + roads}

    national = client.get("/rapor?lang=en")
    assert national.status_code == 200
    assert 'href="/rapor/36.04"' in national.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/rapor/99", 404),
        ("/rapor/36.99", 404),
        ("/rapor/bukan-kode", 404),
        ("/rapor/36.04.15.2001", 404),  # a desa: too small for a card
        ("/rapor/99.99.json", 404),
        ("/rapor/99.99.csv", 404),
        ("/rapor/36.04/kasus.csv?halaman=0", 400),
        ("/rapor/36.04/kasus.csv?halaman=x", 400),
        ("/rapor/99.99/kasus.csv", 404),
        ("/rapor/36.04/kasus.csv?halaman=5", 200),  # past the end: just the header
        ("/rapor/11.01", 200),  # a kabupaten without public cases yet
    ],
)
def test_bad_codes_and_pages_are_a_clear_4xx(followup, path, status):
    _refresh(followup)
    response = followup.client.get(path)
    assert response.status_code == status, path
    if path.endswith((".json", ".csv")) or "kasus.csv" in path and status >= 400:
        assert response.json["error"] in ("not found", "bad request")


def test_a_signed_in_page_is_never_kept_for_anonymous_visitors(followup):
    _refresh(followup)
    client = followup.client
    anonymous = client.get("/rapor/36.04").get_data(as_text=True)
    token = followup.tokens.issue("sri-rapor", "supervisor", area="national")
    client.set_cookie(SESSION_COOKIE, token)
    signed_in = client.get("/rapor/36.04").get_data(as_text=True)
    assert "sri-rapor" in signed_in and "sri-rapor" not in anonymous
    client.delete_cookie(SESSION_COOKIE)
    assert "sri-rapor" not in client.get("/rapor/36.04").get_data(as_text=True)


def test_the_worker_refreshes_when_cases_changed_or_the_clock_moved_on(followup):
    engine, rules, clock = followup.fu.engine, followup.fu.rules, followup.clock
    clock.now = datetime.now(UTC)
    assert store.refresh_if_due(engine, rules, clock()) == 1  # no cards yet: the country's
    followup.open("street_lighting")
    assert store.refresh_if_due(engine, rules, clock()) is None  # changed, but just computed
    clock.advance(seconds=31)
    assert store.refresh_if_due(engine, rules, clock()) == 4  # ID, 36, 36.04, 36.04.15
    clock.advance(seconds=40)
    assert store.refresh_if_due(engine, rules, clock()) is None  # nothing changed
    clock.advance(minutes=15)
    assert store.refresh_if_due(engine, rules, clock()) == 4  # open/overdue move with time
