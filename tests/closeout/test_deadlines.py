"""The dates after a course's end (GCA: DJ from the day after, OTIC documents ~day 40, liquidation day 60)."""

from datetime import date

import pytest

from app.closeout.deadlines import crosses_year, deadlines, warning_window


def _by_key(end, today):
    return {d.key: d for d in deadlines(end, today)}


def test_deadlines_of_a_course_ending_mid_year_with_the_days_left():
    found = _by_key(date(2026, 6, 15), today=date(2026, 6, 20))
    assert found["dj"].on == date(2026, 6, 16) and found["dj"].days_left == -4 and found["dj"].state == "past"
    assert found["otic"].on == date(2026, 7, 25) and found["otic"].days_left == 35
    assert found["liquidation"].on == date(2026, 8, 14) and found["liquidation"].days_left == 55


@pytest.mark.parametrize(("end", "otic", "liquidation"), [
    (date(2026, 12, 31), date(2027, 2, 9), date(2027, 3, 1)),   # next year, not a leap year
    (date(2027, 12, 31), date(2028, 2, 9), date(2028, 2, 29)),  # next year is a leap year
])
def test_a_course_ending_on_31_december_has_its_deadlines_in_the_next_year(end, otic, liquidation):
    found = _by_key(end, today=end)
    assert found["dj"].on == date(end.year + 1, 1, 1) and found["dj"].days_left == 1
    assert found["otic"].on == otic and found["otic"].days_left == 40
    assert found["liquidation"].on == liquidation and found["liquidation"].days_left == 60


def test_on_the_deadline_itself_it_is_today():
    found = _by_key(date(2026, 12, 31), today=date(2027, 3, 1))
    assert found["liquidation"].days_left == 0 and found["liquidation"].state == "today"


def test_the_otec_is_warned_in_the_week_before_a_deadline():
    assert warning_window(date(2026, 12, 31), 40) == (date(2027, 2, 2), date(2027, 2, 9))


def test_a_course_crossing_the_year_is_flagged():
    assert crosses_year(date(2026, 11, 2), date(2027, 1, 15))
    assert not crosses_year(date(2026, 3, 2), date(2026, 12, 31))
    assert not crosses_year(None, date(2026, 12, 31))
