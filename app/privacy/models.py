"""Privacy records: notice versions and acknowledgements, requests and their events, blocks, pseudonyms,
retention policies and runs, and the append-only access trail.

The access trail keeps plain integer ids (no foreign keys), so that nothing (not even erasing a person at the
end of retention) ever rewrites one of its rows.
"""

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.extensions import db
from app.timeutil import UTCDateTime, utcnow

REQUEST_KINDS = {
    "access": "Acceso",
    "rectification": "Rectificación",
    "suppression": "Supresión",
    "opposition": "Oposición",
    "blocking": "Bloqueo",
}
REQUEST_STATUSES = {"open": "Pendiente", "answered": "Respondida"}
OUTCOMES = {"accepted": "Acogida", "partial": "Acogida en parte", "rejected": "Rechazada"}


class PrivacyNotice(db.Model):
    """One published version of the OTEC's privacy notice; a new version is a new row, never an edit."""

    __tablename__ = "privacy_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    body: Mapped[str] = mapped_column(Text)
    published_at = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class NoticeAcknowledgement(db.Model):
    """Who acknowledged which version of the notice, and when."""

    __tablename__ = "privacy_acknowledgements"
    __table_args__ = (UniqueConstraint("user_id", "notice_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("privacy_notices.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    acknowledged_at = mapped_column(UTCDateTime, default=utcnow)


class PrivacySettings(db.Model):
    """The OTEC's privacy settings (one row, id 1)."""

    __tablename__ = "privacy_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_deadline_days: Mapped[int] = mapped_column(Integer, default=30)


class PrivacyRequest(db.Model):
    """A person's request under Ley 21.719; its deadline is fixed when it is filed."""

    __tablename__ = "privacy_requests"
    __table_args__ = (Index("ix_privacy_requests_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    outcome: Mapped[str] = mapped_column(String(10), default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    created_at = mapped_column(UTCDateTime, default=utcnow)
    due_at = mapped_column(UTCDateTime)
    answered_at = mapped_column(UTCDateTime, nullable=True)

    user = relationship("User")
    events = relationship("RequestEvent", back_populates="request", order_by="RequestEvent.id",
                          cascade="all, delete-orphan")

    @property
    def kind_label(self) -> str:
        return REQUEST_KINDS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return REQUEST_STATUSES.get(self.status, self.status)

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, "")


class RequestEvent(db.Model):
    """Something that happened to a request: filed, a staff note or action, the answer."""

    __tablename__ = "privacy_request_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("privacy_requests.id", ondelete="CASCADE"), index=True)
    at = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))  # filed | note | bundle | blocked | unblocked | suppressed | answer
    text: Mapped[str] = mapped_column(Text, default="")

    request = relationship("PrivacyRequest", back_populates="events")
    actor = relationship("User")


class Block(db.Model):
    """A blocked person: their data is kept but not processed (no e-mail, no SIC upload)."""

    __tablename__ = "privacy_blocks"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    since = mapped_column(UTCDateTime, default=utcnow)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("privacy_requests.id", ondelete="SET NULL"))


class Pseudonym(db.Model):
    """A suppressed person's pseudonym. `run_digest` (HMAC of the RUN with SECRET_KEY) lets the OTEC confirm, if
    SENCE asks about a RUN, which pseudonymised evidence is that person's, without keeping the RUN itself."""

    __tablename__ = "privacy_pseudonyms"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    run_digest: Mapped[str] = mapped_column(String(64), default="", index=True)
    suppressed_at = mapped_column(UTCDateTime, default=utcnow)


class RetentionPolicy(db.Model):
    """How long one data class is kept; the row is also the lock that makes a retention run happen once."""

    __tablename__ = "privacy_retention_policies"

    data_class: Mapped[str] = mapped_column(String(30), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
    last_run_at = mapped_column(UTCDateTime, nullable=True)


class RetentionRun(db.Model):
    """What one retention run did to one data class (counts per table)."""

    __tablename__ = "privacy_retention_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    data_class: Mapped[str] = mapped_column(String(30), index=True)
    ran_at = mapped_column(UTCDateTime, default=utcnow)
    cutoff = mapped_column(UTCDateTime)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)


class AccessEvent(db.Model):
    """Append-only: a staff member saw a participant's detail page or took an export or bundle."""

    __tablename__ = "privacy_access_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(40))
    path: Mapped[str] = mapped_column(String(300), default="")
    course_id: Mapped[int | None] = mapped_column(Integer)
    subject_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    people: Mapped[int] = mapped_column(Integer, default=0)


class AppendOnlyError(RuntimeError):
    """An access-trail row was about to be changed or deleted through the ORM."""


@event.listens_for(Session, "before_flush")
def _keep_trail_append_only(session, flush_context, instances):
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AccessEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyError("the access trail is append-only")
