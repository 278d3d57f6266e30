"""Category attributes (issue 14, item 3): the data in the rules file, its checks at load,
and validate_attributes, which the Open311 POST will run on submitted answers."""

from __future__ import annotations

import pathlib
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from marshmallow import ValidationError

from followup_service.pages.open311 import publishes_definition, query_window
from shared.taxonomy import (
    DATATYPES,
    LIST_DATATYPES,
    TaxonomyError,
    load_categories,
    validate_attributes,
)

RULES_FILE = pathlib.Path(__file__).resolve().parents[2] / "deploy" / "routing" / "rules.yaml"
CATEGORIES = load_categories(str(RULES_FILE))


def _attributes(category: str):
    return CATEGORIES[category].attributes


def _problems(category: str, submitted: dict) -> dict:
    with pytest.raises(ValidationError) as raised:
        validate_attributes(_attributes(category), submitted)
    return raised.value.messages


# --- the data ------------------------------------------------------------------------------


def test_the_rules_file_defines_attributes_where_the_domain_needs_them():
    with_attributes = {cid for cid, c in CATEGORIES.items() if c.attributes}
    assert {"tawuran", "street_lighting", "road_damage", "hoax_provocation"} <= with_attributes
    assert {"other", "public_order"}.isdisjoint(with_attributes)
    tawuran = {a.code: a for a in _attributes("tawuran")}
    assert tawuran["expected_from"].datatype == "datetime" and tawuran["expected_from"].required
    assert tawuran["place_type"].datatype == "singlevaluelist"
    assert {a.code for a in _attributes("hoax_provocation")} >= {"platform", "link"}
    assert {a.datatype for c in CATEGORIES.values() for a in c.attributes} == set(DATATYPES)


def test_every_attribute_speaks_both_languages_and_is_ordered_from_one():
    for category in CATEGORIES.values():
        assert [a.order for a in category.attributes] == list(
            range(1, len(category.attributes) + 1)
        )
        for attribute in category.attributes:
            where = (category.id, attribute.code)
            assert attribute.description.id != attribute.description.en, where
            texts = [attribute.description, *(v.name for v in attribute.values)]
            texts += [attribute.datatype_description] if attribute.datatype_description else []
            assert all(text.id and text.en for text in texts), where  # names may match
            assert bool(attribute.values) == (attribute.datatype in LIST_DATATYPES)


def test_metadata_is_true_for_public_categories_with_attributes_only():
    flags = {cid: publishes_definition(c) for cid, c in CATEGORIES.items()}
    assert flags["street_lighting"] and flags["hoax_provocation"]
    assert not flags["other"] and not flags["public_order"]
    assert not flags["tawuran"], "sensitive: its definition is not published"


@pytest.mark.parametrize(
    "attribute, problem",
    [
        ({"code": "x", "datatype": "colour"}, "datatype must be one of"),
        ({"code": "x", "datatype": "singlevaluelist"}, "values are needed"),
        ({"code": "x", "datatype": "number", "values": [{"key": "a", "name": {}}]}, "malformed"),
        ({"code": "Bad Code", "datatype": "text"}, "code must be"),
        ({"code": "x", "datatype": "text", "variable": False, "required": True}, "notice"),
        ({"code": "x", "datatype": "string", "format": "email"}, "format can only be url"),
        ({"datatype": "text"}, "malformed"),
    ],
)
def test_a_malformed_attribute_fails_when_the_file_is_loaded(tmp_path, attribute, problem):
    attribute.setdefault("description", {"id": "Apa?", "en": "What?"})
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"categories": {"c": {"attributes": [attribute]}}}))
    with pytest.raises(TaxonomyError, match=problem):
        load_categories(str(path))


def test_an_attribute_code_used_twice_fails_at_load(tmp_path):
    twice = {"code": "x", "datatype": "text", "description": {"id": "Apa?", "en": "What?"}}
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"categories": {"c": {"attributes": [twice, twice]}}}))
    with pytest.raises(TaxonomyError, match="code used twice"):
        load_categories(str(path))


# --- validate_attributes -----------------------------------------------------------------


def test_valid_answers_come_back_cleaned():
    cleaned = validate_attributes(
        _attributes("street_lighting"),
        {
            "dead_lamps": "3",
            "pole_number": "  PJU-CKD-0147 ",
            "dark_since": "2026-11-20T18:00+07:00",
        },
    )
    assert cleaned == {
        "dead_lamps": 3,
        "pole_number": "PJU-CKD-0147",
        "dark_since": "2026-11-20T11:00:00+00:00",
    }
    assert isinstance(cleaned["dead_lamps"], int)
    road = validate_attributes(
        _attributes("road_damage"),
        {"damage_size": "large", "damage_kind": ["pothole", "subsided", "pothole"]},
    )
    assert road == {"damage_size": "large", "damage_kind": ["pothole", "subsided"]}
    # a form sends one choice of a multivaluelist as a plain value
    single = validate_attributes(
        _attributes("road_damage"), {"damage_size": "small", "damage_kind": "cracked"}
    )
    assert single["damage_kind"] == ["cracked"]


def test_empty_answers_count_as_not_given():
    cleaned = validate_attributes(
        _attributes("street_lighting"), {"dead_lamps": 2, "pole_number": "", "dark_since": None}
    )
    assert cleaned == {"dead_lamps": 2}
    assert _problems("street_lighting", {"dead_lamps": ""}) == {
        "dead_lamps": ["Missing data for required field."]
    }


def test_missing_required_answers_are_named_per_code():
    problems = _problems("tawuran", {"weapons_seen": "unknown"})
    assert set(problems) == {"expected_from", "place_type"}
    assert validate_attributes(
        _attributes("tawuran"),
        {"expected_from": "2026-11-22T00:00:00+07:00", "place_type": "bridge_riverbank"},
    ) == {"expected_from": "2026-11-21T17:00:00+00:00", "place_type": "bridge_riverbank"}


@pytest.mark.parametrize(
    "category, answers, code",
    [
        ("street_lighting", {"dead_lamps": "tiga"}, "dead_lamps"),  # number
        ("street_lighting", {"dead_lamps": True}, "dead_lamps"),
        ("street_lighting", {"dead_lamps": "nan"}, "dead_lamps"),
        ("street_lighting", {"dead_lamps": "0"}, "dead_lamps"),  # below the minimum
        ("street_lighting", {"dead_lamps": "501"}, "dead_lamps"),  # above the maximum
        ("street_lighting", {"dead_lamps": "2.5"}, "dead_lamps"),  # not whole
        ("street_lighting", {"dead_lamps": 1, "dark_since": "kemarin"}, "dark_since"),
        ("street_lighting", {"dead_lamps": 1, "dark_since": "2026-11-20T18:00"}, "dark_since"),
        ("street_lighting", {"dead_lamps": 1, "pole_number": "A\nB"}, "pole_number"),
        ("street_lighting", {"dead_lamps": 1, "pole_number": "x" * 41}, "pole_number"),
        ("street_lighting", {"dead_lamps": 1, "pole_number": 7}, "pole_number"),
        ("road_damage", {"damage_size": "huge"}, "damage_size"),  # not a key of the list
        ("road_damage", {"damage_size": "small", "damage_kind": ["pothole", "x"]}, "damage_kind"),
        ("hoax_provocation", {"platform": "whatsapp", "link": "bukan tautan"}, "link"),
        ("hoax_provocation", {"platform": "whatsapp", "link": "javascript:alert(1)"}, "link"),
        ("hoax_provocation", {"platform": "telegram"}, "platform"),
        ("road_damage", {"damage_size": "small", "colour": "red"}, "colour"),  # unknown code
    ],
)
def test_a_wrong_answer_is_refused_with_a_message_for_its_code(category, answers, code):
    problems = _problems(category, answers)
    assert list(problems) == [code]
    assert problems[code]


def test_a_notice_takes_no_answer_but_may_be_sent_empty():
    attributes = _attributes("neighbourhood_security")
    assert validate_attributes(attributes, {"emergency_notice": "", "risky_hours": "evening"}) == {
        "risky_hours": ["evening"]
    }
    problems = _problems("neighbourhood_security", {"emergency_notice": "sudah baca"})
    assert problems == {"emergency_notice": ["Information only: it takes no answer."]}


def test_every_problem_is_reported_at_once():
    problems = _problems(
        "hoax_provocation", {"link": "ftp://x", "election_related": "maybe", "extra": "1"}
    )
    assert set(problems) == {"platform", "link", "election_related", "extra"}


def test_a_category_without_attributes_accepts_nothing_but_empty_answers():
    assert validate_attributes(_attributes("other"), {}) == {}
    assert validate_attributes(_attributes("other"), {"anything": ""}) == {}
    assert set(_problems("other", {"anything": "x"})) == {"anything"}


# --- the Open311 query window -----------------------------------------------------------

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_the_window_defaults_to_the_last_90_days():
    assert query_window(None, None, NOW) == (NOW - 90 * DAY, None)


def test_one_date_gives_the_90_days_on_its_side():
    assert query_window(NOW - 200 * DAY, None, NOW) == (NOW - 200 * DAY, NOW - 110 * DAY)
    assert query_window(None, NOW - 10 * DAY, NOW) == (NOW - 100 * DAY, NOW - 10 * DAY)


def test_two_dates_may_span_90_days_and_no_more():
    assert query_window(NOW - 90 * DAY, NOW, NOW) == (NOW - 90 * DAY, NOW)
    with pytest.raises(ValueError, match="at most 90 days"):
        query_window(NOW - 91 * DAY, NOW, NOW)
    with pytest.raises(ValueError, match="before start_date"):
        query_window(NOW, NOW - DAY, NOW)


def test_a_window_off_the_calendar_is_a_client_error():
    with pytest.raises(ValueError, match="off the calendar"):
        query_window(datetime.max.replace(tzinfo=UTC), None, NOW)
    with pytest.raises(ValueError, match="off the calendar"):
        query_window(None, datetime.min.replace(tzinfo=UTC), NOW)
