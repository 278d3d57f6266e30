"""Who may do what with a unit's meetings and aspirations (roles from the signed token)."""

WRITERS = ("officer", "supervisor", "admin")
READERS = ("officer", "supervisor", "admin")
OPEN311_FILERS = ("open311_client",)  # an organisation's app with an Open311 key


def may_write(role: str, own_unit: str | None, unit: str | None) -> bool:
    """Officers log and correct only for their own unit; supervisors and admins for all."""
    if role in ("supervisor", "admin"):
        return True
    return role == "officer" and own_unit is not None and own_unit == unit


def may_see_reporter(role: str, own_unit: str | None, unit: str | None) -> bool:
    """A reporter's identity and contact: the unit's own officers and supervisors only."""
    if role == "supervisor":
        return True
    return role == "officer" and own_unit is not None and own_unit == unit


def may_see_details(role: str, own_unit: str | None, unit: str | None, sensitive: bool) -> bool:
    """The internal summary, description and history of a sensitive aspiration (a
    sensitive category, or recorded confidential): its unit's officers and supervisors
    only, as the follow-up service's rule for its case; any reader sees the others'."""
    return not sensitive or may_see_reporter(role, own_unit, unit)
