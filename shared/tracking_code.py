"""Short public tracking codes like ``KA-7GQ4-M2``.

Alphabet without look-alikes (no 0/O, 1/I/L, U, 5/S, 2/Z, 8/B) so a code read
aloud at a meeting or copied from paper survives; the last character is a
check character so most typos are caught before any lookup.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "34679ACDEFGHJKMNPQRTVWXY"
_CODE_RE = re.compile(rf"^KA-([{ALPHABET}]{{4}})-([{ALPHABET}]{{2}})$")


def check_char(body: str) -> str:
    """The check character for a 5-character code body."""
    total = sum((i + 1) * ALPHABET.index(ch) for i, ch in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def new_tracking_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(5))
    return f"KA-{body[:4]}-{body[4]}{check_char(body)}"


def normalize(code: str) -> str:
    """Upper-case, trim and restore the dashes of a code typed by a person."""
    compact = re.sub(r"[\s\-]", "", code or "").upper()
    if compact.startswith("KA"):
        compact = compact[2:]
    return f"KA-{compact[:4]}-{compact[4:]}" if len(compact) == 6 else code.strip().upper()


def is_valid(code: str) -> bool:
    match = _CODE_RE.match(code)
    if not match:
        return False
    body = match.group(1) + match.group(2)[0]
    return check_char(body) == match.group(2)[1]
