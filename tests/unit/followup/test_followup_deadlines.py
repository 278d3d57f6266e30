from datetime import UTC, date, datetime

import holidays
import pytest

from followup_service.domain.deadlines import JAKARTA, add_working_days, is_working_day


def test_deadline_lands_on_monday_when_counting_from_friday():
    friday = datetime(2026, 2, 6, 10, 0, tzinfo=JAKARTA)
    assert add_working_days(friday, 1) == datetime(2026, 2, 9, 10, 0, tzinfo=JAKARTA)


def test_holiday_and_weekend_skipped_when_counting_over_nyepi():
    nyepi = date(2026, 3, 19)
    assert nyepi in holidays.country_holidays("ID")  # Thursday, from the library's calendar
    wednesday = datetime(2026, 3, 18, 9, 0, tzinfo=JAKARTA)

    # Thu 19 holiday, Fri 20 counts, Sat 21 / Sun 22 weekend (and Eid), Mon 23 counts
    assert add_working_days(wednesday, 2) == datetime(2026, 3, 23, 9, 0, tzinfo=JAKARTA)


def test_holiday_is_not_a_working_day_when_it_falls_midweek():
    ascension_day = date(2026, 5, 14)
    assert not is_working_day(ascension_day)
    assert is_working_day(date(2026, 5, 15))


def test_jakarta_wall_clock_kept_when_start_given_in_utc():
    start = datetime(2026, 2, 5, 20, 0, tzinfo=UTC)  # already Friday 03:00 in Jakarta
    assert add_working_days(start, 1) == datetime(2026, 2, 9, 3, 0, tzinfo=JAKARTA)


def test_value_error_when_start_is_naive():
    with pytest.raises(ValueError):
        add_working_days(datetime(2026, 2, 5, 9, 0), 1)
