"""Which roles may log and read at all. Who may see and act on which meeting or
aspiration (unit, area, the reporter's identity) is shared.need_to_know's one rule."""

WRITERS = ("officer", "supervisor", "admin")
READERS = ("officer", "supervisor", "admin")
OPEN311_FILERS = ("open311_client",)  # an organisation's app with an Open311 key
