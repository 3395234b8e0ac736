"""Time in one place: UTC in the database, America/Santiago on screen."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

CHILE = ZoneInfo("America/Santiago")


def utcnow() -> datetime:
    return datetime.now(UTC)


def today_in_chile(now: datetime | None = None) -> date:
    """The calendar day in Chile: course dates, deadlines and tokens follow it, not the server's UTC day."""
    return (now or utcnow()).astimezone(CHILE).date()


def to_chile(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHILE)


def format_chile(value: datetime | None, fmt: str = "%d-%m-%Y %H:%M") -> str:
    local = to_chile(value)
    return local.strftime(fmt) if local else ""


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every back end (SQLite keeps no zone: store naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
