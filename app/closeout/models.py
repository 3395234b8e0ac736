"""A course's close-out: the steps the OTEC ticks off, and what the sweep has already done (once each).

One row per ended course, created by the sweep (INSERT ... ON CONFLICT DO NOTHING) or by the first visit to
the Cierre page; the sweep locks it (FOR UPDATE SKIP LOCKED on PostgreSQL) while it queues the mail of a
milestone, and stamps the milestone in the same transaction, so several servers send each e-mail once.
"""

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import UTCDateTime

# The OTEC's own steps, in the order GCA asks for them: (key, label).
STEPS = (
    ("otec_dj", "DJ del OTEC emitida en GCA"),
    ("participants_reminded", "Participantes recordados de emitir su DJ"),
    ("otic_documents", "Documentos enviados a la OTIC o empresa"),
)
STEP_KEYS = tuple(key for key, _label in STEPS)


class Closeout(db.Model):
    __tablename__ = "course_closeouts"

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    otec_dj_at = mapped_column(UTCDateTime, nullable=True)
    otec_dj_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    participants_reminded_at = mapped_column(UTCDateTime, nullable=True)
    participants_reminded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    otic_documents_at = mapped_column(UTCDateTime, nullable=True)
    otic_documents_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Done by the sweep: the day after the end (certificates + participants' DJ e-mails), then the OTEC's
    # reminders before day 40 and day 60.
    closed_at = mapped_column(UTCDateTime, nullable=True)
    otic_reminder_at = mapped_column(UTCDateTime, nullable=True)
    liquidation_reminder_at = mapped_column(UTCDateTime, nullable=True)

    course = relationship("Course")

    def done_at(self, step: str):
        return getattr(self, f"{step}_at")

    @property
    def complete(self) -> bool:
        return all(self.done_at(step) is not None for step in STEP_KEYS)
