"""Marshmallow fields for input typed by people (and by hostile clients).

`CleanText` is the one field every API and page uses for free text: it refuses what
PostgreSQL cannot store or what no person types (lone surrogates, NUL and other control
characters), tidies what people do type by accident (surrounding whitespace, CR LF line
ends, combining sequences in NFC form), and refuses text that is empty once tidied.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC

from marshmallow import fields

# C0 controls except TAB and LF (CR is normalised to LF first), DEL, and C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Whitespace and invisible format characters (zero-width spaces, BOM) at either end.
_EDGES = re.compile(r"^[\s\u200b-\u200d\u2060\ufeff]+|[\s\u200b-\u200d\u2060\ufeff]+$")

_NAMES = {"\x00": "a NUL character (U+0000)"}


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as human text, or None when it can."""
    found = _SURROGATE.search(value)
    if found:
        return (
            f"Contains a lone surrogate (U+{ord(found.group()):04X}) at position "
            f"{found.start()}; text must be valid Unicode."
        )
    found = _CONTROL.search(value.replace("\r", ""))
    if found:
        char = found.group()
        name = _NAMES.get(char, f"a control character (U+{ord(char):04X})")
        return f"Contains {name}; only printable text, tabs and line breaks are accepted."
    return None


class CleanText(fields.String):
    """A string of human text: validated, stripped, CR LF -> LF, NFC-normalised.

    `allow_blank` (default: only when the field is not required) decides whether text
    that is empty after stripping is accepted; lengths stay with each schema's validators,
    which see the cleaned text.
    """

    default_error_messages = {
        "blank": "Must not be empty or only whitespace.",
        "bad_text": "{problem}",
    }

    def __init__(self, *args, allow_blank: bool | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.allow_blank = (not self.required) if allow_blank is None else allow_blank

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text)
        if problem:
            raise self.make_error("bad_text", problem=problem)
        text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
        text = _EDGES.sub("", text)
        if not text and not self.allow_blank:
            raise self.make_error("blank")
        return text


class Instant(fields.AwareDateTime):
    """An aware date-time that names an instant UTC can hold (stored and sent as UTC).

    `9999-12-31T23:59:59-14:00` parses, but is year 10000 in UTC: refused here rather
    than overflowing when it is converted for storage.
    """

    default_error_messages = {"out_of_range": "Out of range: not a representable instant."}

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment.astimezone(UTC)
        except OverflowError:
            raise self.make_error("out_of_range") from None
        return moment
