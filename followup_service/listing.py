"""The public-listing rule of the domain (visibility.LISTING) as a SQL condition.

Every public list (the public cases API, Open311 requests and updates, the report back)
filters with publicly_listed(); the domain's is_publicly_listed() decides the same for a
folded case. tests/integration/followup/test_confidential.py checks they agree.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, and_

from followup_service.domain.visibility import LISTING
from followup_service.tables import cases


def publicly_listed(table: Table = cases) -> ColumnElement[bool]:
    return and_(
        table.c.sensitive.is_(LISTING.sensitive),
        table.c.status.not_in(LISTING.unlisted_statuses),
    )
