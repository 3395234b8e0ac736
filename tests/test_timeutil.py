from datetime import UTC, date, datetime

from app.timeutil import format_chile, today_in_chile


def test_late_evening_in_chile_is_still_the_chilean_day_though_utc_has_moved_on():
    late_evening = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)  # 22:30 on 1 December in Santiago (UTC-3)
    assert today_in_chile(late_evening) == date(2026, 12, 1)
    assert format_chile(late_evening) == "01-12-2026 22:30"


def test_winter_time_is_four_hours_behind_utc():
    assert today_in_chile(datetime(2026, 7, 1, 3, 59, tzinfo=UTC)) == date(2026, 6, 30)
    assert today_in_chile(datetime(2026, 7, 1, 4, 0, tzinfo=UTC)) == date(2026, 7, 1)
