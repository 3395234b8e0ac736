"""The dates that follow a course's end (OTEC-CYCLE.md §3, from SENCE's GCA guide), in calendar days.

DJs can be issued from the day after the end; OTICs take documents until about day 40; the company or OTIC
must liquidate by day 60. Plain date arithmetic: a course ending on 31 December has its DJ from 1 January
and its deadlines in the next year (9 February and 1 March, or 29 February in a leap year).
"""

from dataclasses import dataclass
from datetime import date, timedelta

DJ_FROM_DAYS = 1
OTIC_DAYS = 40
LIQUIDATION_DAYS = 60
WARN_BEFORE_DAYS = 7  # the OTEC's reminder goes out this many days before a deadline


@dataclass(frozen=True)
class Deadline:
    key: str
    label: str
    on: date
    days_left: int  # negative once past

    @property
    def state(self) -> str:
        """future | today | past, for the page's wording."""
        return "today" if self.days_left == 0 else ("future" if self.days_left > 0 else "past")


def deadlines(end: date, today: date) -> list[Deadline]:
    specs = (("dj", "DJ disponibles en GCA (OTEC y participantes)", DJ_FROM_DAYS),
             ("otic", "Plazo aproximado de la OTIC para recibir documentos", OTIC_DAYS),
             ("liquidation", "Plazo de liquidación (empresa u OTIC)", LIQUIDATION_DAYS))
    return [Deadline(key, label, end + timedelta(days=days), (end + timedelta(days=days) - today).days)
            for key, label, days in specs]


def day_after_end(end: date) -> date:
    return end + timedelta(days=DJ_FROM_DAYS)


def warning_window(end: date, days: int) -> tuple[date, date]:
    """The days on which a reminder for the deadline `end + days` may go out (the week before it, inclusive)."""
    deadline = end + timedelta(days=days)
    return deadline - timedelta(days=WARN_BEFORE_DAYS), deadline


def crosses_year(start: date | None, end: date) -> bool:
    """SENCE splits such a course into a partial and a complementary action (GCA §VI)."""
    return start is not None and start.year != end.year
