"""E-mail outbox: every message is a row written in the transaction that causes it, sent later by the sweep.

A message is `pending` until an SMTP server accepts it (`sent`), or `failed` when the server refuses it for
good (5xx for every recipient); transient failures only push `next_attempt_at` back. Failure alerts are held
open for ALERT_WINDOW (`group_until`) so that one participant's repeated failures go out as one message.
"""

from datetime import timedelta

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import UTCDateTime, utcnow

ALERT_WINDOW = timedelta(minutes=10)
STATUSES = ("pending", "sent", "failed")


class OutboxMessage(db.Model):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # "alert" | "reminder"
    to_addrs: Mapped[str] = mapped_column(Text)  # comma separated
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at = mapped_column(UTCDateTime, nullable=True)
    # Alerts only: one open group per participant and course, appended to until `group_until`.
    group_key: Mapped[str | None] = mapped_column(String(100), index=True)
    group_until = mapped_column(UTCDateTime, nullable=True)
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    course = relationship("Course")
    user = relationship("User")

    @property
    def recipients(self) -> list[str]:
        return [a.strip() for a in (self.to_addrs or "").split(",") if a.strip()]


class AttemptNotice(db.Model):
    """An attempt already reported in an alert (failed or abandoned): its primary key makes that happen once."""

    __tablename__ = "notify_attempt_notices"

    attempt_id: Mapped[int] = mapped_column(ForeignKey("sence_attempts.id", ondelete="CASCADE"), primary_key=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
