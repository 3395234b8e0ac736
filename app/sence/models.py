"""SENCE records: OTECs and their tokens, per-course settings, attempts, sessions and the exchange log.

States (DESIGN.md): attempt pending -> succeeded | failed; "abandoned" is derived (pending past
`answerable_until`: with ClaveÚnica a genuine answer may come hours late, so a pending attempt stays answerable
for as long as a session could be open). Session open -> closed | close_failed | expired; "expired" is also
derived at read time (open and past expires_at) and written by the sweep or when a later session opens.
A second success while a session is live is kept as "superseded": recorded, never live, never counted.

Times: `started_at`, `closed_at` and `expires_at` are the server's clock when the answer arrived; SENCE's
FechaHora travels through the participant's browser (it can be edited), so it is kept only as evidence
(`sence_started_at`, `sence_closed_at`, the raw text) and a large difference is flagged.
"""

from datetime import datetime, timedelta

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import UTCDateTime, utcnow

# After this long without an answer the participant is told what to do (finish on ClaveÚnica, recover it, or
# start again) and the OTEC is alerted; the attempt itself stays answerable until `answerable_until`.
ABANDON_AFTER = timedelta(minutes=15)
DEFAULT_LIMIT = timedelta(minutes=180)
LIVE_STATUSES = ("open", "close_failed")
# Exchange.flags values and their Spanish labels (log and reports).
FLAG_LABELS = {
    "clock": "hora SENCE discrepante",
    "origin": "origen no verificado",
    "superseded": "sesión duplicada (no cuenta)",
}
ENVIRONMENTS = ("simulator", "test", "production")


class Otec(db.Model):
    __tablename__ = "otecs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    rut: Mapped[str] = mapped_column(String(10), unique=True)  # normalized 76123456-7
    created_at = mapped_column(UTCDateTime, default=utcnow)

    tokens = relationship("SenceToken", back_populates="otec", order_by="SenceToken.added_at")


class SenceToken(db.Model):
    """An OTEC's RCE token, encrypted at rest (Fernet); only `hint` (8FCF…4F8F) is ever shown."""

    __tablename__ = "sence_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    otec_id: Mapped[int] = mapped_column(ForeignKey("otecs.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    token_encrypted: Mapped[str] = mapped_column(Text)
    hint: Mapped[str] = mapped_column(String(20))
    added_at = mapped_column(UTCDateTime, default=utcnow)
    expires_on = mapped_column(Date, nullable=True)
    revoked_at = mapped_column(UTCDateTime, nullable=True)

    otec = relationship("Otec", back_populates="tokens")


class CourseSence(db.Model):
    """A course's SENCE settings (one row per course, created with the course)."""

    __tablename__ = "course_sence"

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    otec_id: Mapped[int | None] = mapped_column(ForeignKey("otecs.id", ondelete="SET NULL"))
    linea: Mapped[int] = mapped_column(Integer, default=3)  # LineaCapacitacion 1, 3 or 6
    cod_sence: Mapped[str] = mapped_column(String(10), default="")
    codigo_curso: Mapped[str] = mapped_column(String(50), default="")
    environment: Mapped[str] = mapped_column(String(12), default="simulator")
    login_required: Mapped[bool] = mapped_column(Boolean, default=True)
    session_limit_minutes: Mapped[int] = mapped_column(Integer, default=180)  # at most 180 (forms, migration)
    modality: Mapped[str] = mapped_column(String(12), default="asincronico")  # or "sincronico"
    connectivity_target: Mapped[int] = mapped_column(Integer, default=40)
    alert_emails: Mapped[str] = mapped_column(Text, default="")  # comma/line separated
    exempt_group_ids: Mapped[list] = mapped_column(JSON, default=list)

    course = relationship("Course", backref=db.backref("sence", uselist=False, cascade="all, delete-orphan"))
    otec = relationship("Otec")

    @property
    def alert_email_list(self) -> list[str]:
        return email_list(self.alert_emails)


def email_list(alert_emails: str | None) -> list[str]:
    raw = (alert_emails or "").replace(";", ",").replace("\n", ",")
    return [a.strip() for a in raw.split(",") if a.strip()]


def answer_deadline(created_at: datetime, answerable_until: datetime | None) -> datetime:
    """Until when an attempt's answer is still accepted (rows from before the column: the default limit)."""
    return answerable_until or created_at + DEFAULT_LIMIT


class Attempt(db.Model):
    """One trip of the participant's browser to SENCE (login or logout) and its answer.

    A login attempt has a fresh IdSesionAlumno; a logout attempt reuses its session's IdSesionAlumno, so
    the column is indexed, not unique. At most one *pending* attempt per IdSesionAlumno is answered.
    """

    __tablename__ = "sence_attempts"
    __table_args__ = (Index("ix_sence_attempts_user_course", "user_id", "course_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # "login" | "logout"
    id_sesion_alumno: Mapped[str] = mapped_column(String(149), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sence_sessions.id", ondelete="SET NULL", use_alter=True)
    )
    token_id: Mapped[int | None] = mapped_column(ForeignKey("sence_tokens.id", ondelete="SET NULL"))
    environment: Mapped[str] = mapped_column(String(12))
    run_alumno: Mapped[str] = mapped_column(String(10))  # as sent to SENCE: 12345678-9
    cod_sence: Mapped[str] = mapped_column(String(10), default="")
    codigo_curso: Mapped[str] = mapped_column(String(50), default="")
    linea: Mapped[int] = mapped_column(Integer)
    rut_otec: Mapped[str] = mapped_column(String(10), default="")  # as sent: the logout reuses the login's
    base_url: Mapped[str] = mapped_column(String(200), default="")  # the RCE base URL the trip went to
    via_popup: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    error_codes: Mapped[str] = mapped_column(String(200), default="")  # GlosaError as sent: "211;204"
    created_at = mapped_column(UTCDateTime, default=utcnow)
    answerable_until = mapped_column(UTCDateTime, nullable=True)  # created_at + the course's session limit
    answered_at = mapped_column(UTCDateTime, nullable=True)
    answer_fields: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the accepted answer, raw

    user = relationship("User")
    course = relationship("Course")
    session = relationship("SenceSession", foreign_keys=[session_id])

    @property
    def deadline(self) -> datetime:
        return answer_deadline(self.created_at, self.answerable_until)

    def display_status(self, now: datetime | None = None) -> str:
        now = now or utcnow()
        if self.status == "pending" and now > self.deadline:
            return "abandoned"
        return self.status

    def unanswered(self, now: datetime | None = None) -> bool:
        """Pending for longer than ABANDON_AFTER: the participant needs guidance (it may still be answered)."""
        now = now or utcnow()
        return self.status == "pending" and now - self.created_at > ABANDON_AFTER


class SenceSession(db.Model):
    """An RCE session opened by a successful login answer.

    `expires_at` = arrival of the login answer + the course's limit at opening time, stored so that the timer
    poll is one indexed lookup. The (user_id, course_id, status) index serves "my open session in this course";
    the partial unique index makes "one live session per participant and course" hold under concurrency.
    """

    __tablename__ = "sence_sessions"
    __table_args__ = (
        Index("ix_sence_sessions_user_course_status", "user_id", "course_id", "status"),
        # The timer poll reads the participant's latest session: newest first, it stops at the first row.
        Index("ix_sence_sessions_user_course_started", "user_id", "course_id", "started_at"),
        Index("uq_sence_sessions_one_live", "user_id", "course_id", unique=True,
              sqlite_where=text("status IN ('open', 'close_failed')"),
              postgresql_where=text("status IN ('open', 'close_failed')")),
        UniqueConstraint("login_attempt_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    login_attempt_id: Mapped[int] = mapped_column(ForeignKey("sence_attempts.id", ondelete="CASCADE"))
    id_sesion_alumno: Mapped[str] = mapped_column(String(149), index=True)
    id_sesion_sence: Mapped[str] = mapped_column(String(149))
    environment: Mapped[str] = mapped_column(String(12))
    started_at = mapped_column(UTCDateTime)  # our clock when the login answer arrived
    sence_started_at = mapped_column(UTCDateTime, nullable=True)  # SENCE's FechaHora as UTC: evidence only
    started_raw: Mapped[str] = mapped_column(String(40), default="")  # FechaHora as received
    zona_horaria: Mapped[str] = mapped_column(String(100), default="")
    time_flagged: Mapped[bool] = mapped_column(Boolean, default=False)  # a FechaHora unreadable or off our clock
    expires_at = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(14), default="open", index=True)
    closed_at = mapped_column(UTCDateTime, nullable=True)  # our clock when the logout answer arrived
    sence_closed_at = mapped_column(UTCDateTime, nullable=True)  # the logout answer's FechaHora: evidence only
    closed_raw: Mapped[str] = mapped_column(String(40), default="")
    close_error_codes: Mapped[str] = mapped_column(String(200), default="")
    reminder_sent_at = mapped_column(UTCDateTime, nullable=True)

    user = relationship("User")
    course = relationship("Course")
    login_attempt = relationship("Attempt", foreign_keys=[login_attempt_id])

    def display_status(self, now: datetime | None = None) -> str:
        now = now or utcnow()
        if self.status in LIVE_STATUSES and now >= self.expires_at:
            return "expired"
        return self.status

    def is_live(self, now: datetime | None = None) -> bool:
        """Open (or with a failed close that can be retried) and within its limit: content may be shown."""
        return self.display_status(now) in ("open", "close_failed")


class Exchange(db.Model):
    """Append-only log of every request sent to and answer received from SENCE. Never holds the token."""

    __tablename__ = "sence_exchanges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at = mapped_column(UTCDateTime, default=utcnow, index=True)
    direction: Mapped[str] = mapped_column(String(4))  # "out" (our form to SENCE) | "in" (SENCE's answer)
    endpoint: Mapped[str] = mapped_column(String(40))  # IniciarSesion, CerrarSesion, retoma, error
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("sence_attempts.id", ondelete="SET NULL"), index=True
    )
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    origin: Mapped[str] = mapped_column(String(300), default="")
    referer: Mapped[str] = mapped_column(String(500), default="")
    outcome: Mapped[str] = mapped_column(String(60), default="")  # accepted, duplicate, refused:<reason>
    flags: Mapped[str] = mapped_column(String(100), default="")  # "clock,origin,superseded" (FLAG_LABELS)

    @property
    def flag_labels(self) -> list[str]:
        return [FLAG_LABELS.get(flag, flag) for flag in (self.flags or "").split(",") if flag]
