"""CleanText (human text) and parse_json (request bodies) refuse hostile input clearly."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, validate

from shared.fields import CleanText, Instant, text_problem
from shared.web import MAX_JSON_DEPTH, ApiError, parse_json


class Note(Schema):
    summary = CleanText(required=True, validate=validate.Length(min=3, max=20))
    notes = CleanText(load_default="")
    title = CleanText(allow_blank=False)


def errors_of(data: dict) -> dict:
    with pytest.raises(ValidationError) as caught:
        Note().load(data)
    return caught.value.messages


def test_lone_surrogate_is_refused_naming_the_field():
    messages = errors_of({"summary": "abc\ud800"})
    assert list(messages) == ["summary"]
    assert "lone surrogate (U+D800)" in messages["summary"][0]


def test_nul_is_refused_naming_the_field_and_the_character():
    messages = errors_of({"summary": "ok", "notes": "a\x00b"})
    assert "NUL character" in messages["notes"][0]


@pytest.mark.parametrize("char", ["\x01", "\x07", "\x1b", "\x7f", "\x85", "\x9f", "\x0b", "\x0c"])
def test_other_control_characters_are_refused(char):
    messages = errors_of({"summary": f"abc{char}def"})
    assert f"U+{ord(char):04X}" in messages["summary"][0]


def test_tabs_and_line_breaks_are_kept_and_cr_is_normalised():
    loaded = Note().load({"summary": " a\tb\r\nc\rd \n"})
    assert loaded["summary"] == "a\tb\nc\nd"


def test_whitespace_and_invisible_edges_are_stripped_and_text_is_nfc():
    loaded = Note().load({"summary": "\u3000\u200b\ufeff Cafe\u0301 \u00a0"})
    assert loaded["summary"] == "Caf\u00e9"


@pytest.mark.parametrize("blank", ["", "   ", "\n\t", "\u200b\u00a0"])
def test_required_text_that_is_blank_after_stripping_is_refused(blank):
    messages = errors_of({"summary": blank})
    assert messages["summary"] == ["Must not be empty or only whitespace."]


def test_optional_text_may_be_blank_unless_the_schema_says_otherwise():
    assert Note().load({"summary": "abc", "notes": "  "})["notes"] == ""
    assert "title" in errors_of({"summary": "abc", "title": " "})


def test_length_limits_see_the_cleaned_text():
    assert Note().load({"summary": "  abc  "})["summary"] == "abc"
    assert "summary" in errors_of({"summary": " ab "})
    assert "summary" in errors_of({"summary": "x" * 21})


@pytest.mark.parametrize("value", [3, 1.5, True, None, [], {}])
def test_non_strings_are_refused(value):
    assert "summary" in errors_of({"summary": value})


@given(st.text())
def test_whatever_is_accepted_is_storable_and_tidy(text):
    try:
        loaded = Note().load({"summary": "abc", "notes": text})["notes"]
    except ValidationError as exc:
        assert list(exc.messages) == ["notes"]
        return
    assert text_problem(loaded) is None
    loaded.encode("utf-8")  # no lone surrogates left
    assert "\x00" not in loaded and "\r" not in loaded
    assert loaded == loaded.strip()


@pytest.mark.parametrize(
    "raw, why",
    [
        (b"{oops", "Expecting"),
        (b'{"a": NaN}', "NaN"),
        (b'{"a": -Infinity}', "Infinity"),
        (b'{"a": 1e400}', "out of range"),
        (str(10**400).encode(), "out of range"),
        (b"9" * 5000, "digits"),
        (b"[" * 10_000 + b"]" * 10_000, "nested"),
        (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), "nested deeper"),
        (b'{"a": "\xff"}', "decode"),
    ],
)
def test_hostile_json_bodies_are_a_400_that_says_why(raw, why):
    with pytest.raises(ApiError) as caught:
        parse_json(raw)
    assert caught.value.status == 400
    assert why in caught.value.details["detail"]


def test_ordinary_json_still_parses():
    nested = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert parse_json(b'{"n": 9223372036854775807, "x": 1.5e300, "s": "\\u00e9"}') == {
        "n": 2**63 - 1,
        "x": 1.5e300,
        "s": "\u00e9",
    }
    assert parse_json(nested) is not None


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_an_instant_beyond_what_utc_can_hold_is_refused(value):
    with pytest.raises(ValidationError) as caught:
        Instant().deserialize(value)
    assert "Out of range" in caught.value.messages[0]


def test_an_ordinary_instant_parses():
    assert Instant().deserialize("2026-02-05T09:00:00+07:00").utcoffset().total_seconds() == 25200
