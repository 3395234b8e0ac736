"""SIC (social programmes' daily progress upload): a course's settings and modules, participants' actions,
what SENCE accepted, and the log of every send.
"""

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import UTCDateTime, utcnow

ENVIRONMENTS = ("simulator", "production")  # SIC has no test service


class CourseSic(db.Model):
    """A course's SIC settings; `last_sent_on` (Chile date) is the daily claim that makes one send a day."""

    __tablename__ = "course_sic"

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    codigo_oferta: Mapped[str] = mapped_column(String(50), default="")
    codigo_grupo: Mapped[str] = mapped_column(String(50), default="")
    environment: Mapped[str] = mapped_column(String(12), default="simulator")
    last_sent_on = mapped_column(Date, nullable=True)

    course = relationship("Course", backref=db.backref("sic", uselist=False, cascade="all, delete-orphan"))
    modules = relationship("SicModule", back_populates="settings", cascade="all, delete-orphan",
                           order_by="SicModule.position")


class SicModule(db.Model):
    """One SIC module (its code from sicadministrativo.sence.cl) = a group of the course's lessons and evaluations."""

    __tablename__ = "sic_modules"
    __table_args__ = (UniqueConstraint("course_id", "codigo"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course_sic.course_id", ondelete="CASCADE"), index=True)
    codigo: Mapped[str] = mapped_column(String(50))
    position: Mapped[int] = mapped_column(Integer, default=0)

    settings = relationship("CourseSic", back_populates="modules")
    lessons = relationship("SicModuleLesson", cascade="all, delete-orphan", back_populates="module")
    evaluations = relationship("SicModuleEvaluation", cascade="all, delete-orphan", back_populates="module")


class SicModuleLesson(db.Model):
    """A lesson counted in a module (a lesson belongs to at most one module): an activity of the module."""

    __tablename__ = "sic_module_lessons"

    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("sic_modules.id", ondelete="CASCADE"), index=True)

    module = relationship("SicModule", back_populates="lessons")


class SicModuleEvaluation(db.Model):
    """An evaluation counted in a module: an activity, and its grade weighs in the module's grade."""

    __tablename__ = "sic_module_evaluations"

    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"), primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("sic_modules.id", ondelete="CASCADE"), index=True)

    module = relationship("SicModule", back_populates="evaluations")


class SicAction(db.Model):
    """A participant's click in a SIC course (page, lesson, file, completion): dedication time is computed from
    these with the 45-minute rule at send time. Append-only, one INSERT per click, never on the timer poll."""

    __tablename__ = "sic_actions"
    __table_args__ = (Index("ix_sic_actions_course_user_at", "course_id", "user_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id", ondelete="SET NULL"))
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("evaluations.id", ondelete="SET NULL"))
    at = mapped_column(UTCDateTime, default=utcnow)


class SicAccepted(db.Model):
    """The highest progress SENCE accepted for a participant (module "" = the course): never send less (025)."""

    __tablename__ = "sic_accepted"

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    module: Mapped[str] = mapped_column(String(50), primary_key=True)
    percent: Mapped[int] = mapped_column(Integer, default=0)
    accepted_at = mapped_column(UTCDateTime, default=utcnow)


class SicSend(db.Model):
    """One send (or dry run) and SENCE's answer, as the OTEC reads it. The body is stored with the token masked.

    status: accepted | partial (some participants rejected) | rejected (whole send) | failed (no answer) | dry_run
    """

    __tablename__ = "sic_sends"
    __table_args__ = (Index("ix_sic_sends_course_started", "course_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(10))  # sweep | manual | cli
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    environment: Mapped[str] = mapped_column(String(12))
    url: Mapped[str] = mapped_column(String(300))
    started_at = mapped_column(UTCDateTime, default=utcnow)
    finished_at = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="failed")
    tries: Mapped[int] = mapped_column(Integer, default=0)
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    id_proceso: Mapped[str] = mapped_column(String(40), default="")
    participants: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")  # network or reading problem, in Spanish
    rejections: Mapped[list] = mapped_column(JSON, default=list)  # [{"rut", "name", "code", "message"}]
    request_body: Mapped[dict] = mapped_column(JSON, default=dict)  # token masked
    response_text: Mapped[str] = mapped_column(Text, default="")  # SENCE's answer, capped

    course = relationship("Course")
    user = relationship("User")
