"""Police units (Polsek, Polres...) and agencies are known by one canonical id.

The id is a slug of the name ("Polsek Krangkeng" -> "polsek-krangkeng"): tokens, events,
read models and every comparison on both services use it, so "Polsek Krangkeng",
"polsek krangkeng" and "polsek-krangkeng" are the same unit everywhere. Display names
are looked up from the id, never compared: police units from the police unit directory
(shared.police, whose ids are polsek-360415, and which reads the old slugs as aliases),
anything else as the id's words, capitalised, with known acronyms.
"""

from __future__ import annotations

import re

UNIT_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
_UPPER = {"dki", "pju", "rt", "rw", "pp"}


def unit_id(value: str | None) -> str | None:
    """The canonical id of a unit or agency named or identified by `value` (None stays None)."""
    if value is None:
        return None
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or None


def unit_name(value: str | None) -> str | None:
    """A unit's display name from its id (or any spelling of it): the police unit
    directory's name ("polsek-360415" is Polsek Cikande), else the id's words."""
    canonical = unit_id(value)
    if canonical is None:
        return None
    from shared.police import load_police_directory  # the directory imports this module

    named = load_police_directory().name(canonical)
    if named:
        return named
    return " ".join(w.upper() if w in _UPPER else w.capitalize() for w in canonical.split("-"))


def same_unit(a: str | None, b: str | None) -> bool:
    """Whether two spellings name the same unit (False when either is missing)."""
    return a is not None and b is not None and unit_id(a) == unit_id(b)
