"""Evaluations, their questions and options, participants' attempts and answers, the course rule and overrides.

An evaluation sits among the course's lessons: after `after_lesson_id` (NULL = after the last lesson), so it
moves with that lesson when lessons are reordered. Times are UTC; "overdue" attempts are derived at read time
from `deadline_at` and the evaluation's closing time, like SENCE sessions' "expired".
"""

from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import UTCDateTime, utcnow

QUESTION_KINDS = {"single": "Selección única", "multiple": "Selección múltiple", "truefalse": "Verdadero o falso",
                  "short": "Respuesta corta (valor exacto)", "numeric": "Respuesta numérica",
                  "open": "Respuesta abierta (revisión manual)"}
COUNTING = {"best": "La mejor", "last": "La última"}
FEEDBACK = {"score": "Solo el puntaje y la nota", "answers": "Respuestas correctas después del cierre"}
LAYOUTS = {"one": "Una pregunta por pantalla", "all": "Todas en una página"}
SENCE_REQUIREMENTS = {"none": "Sin requisito SENCE", "session": "Al menos una sesión SENCE contada",
                      "connectivity": "Conectividad mínima (%)"}
STATUSES = ("cursando", "aprobado", "reprobado")


class CourseRule(db.Model):
    """How a course decides "aprobado": one optional row per course (absent = the defaults below)."""

    __tablename__ = "course_rules"

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    exigencia_pct: Mapped[int] = mapped_column(Integer, default=60)
    min_final_grade: Mapped[Decimal] = mapped_column(Numeric(2, 1), default=Decimal("4.0"))
    min_lessons_pct: Mapped[int] = mapped_column(Integer, default=0)
    sence_requirement: Mapped[str] = mapped_column(String(12), default="session")
    min_connectivity_pct: Mapped[int] = mapped_column(Integer, default=0)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Evaluation(db.Model):
    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    after_lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)  # order among evaluations after the same lesson
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[Decimal] = mapped_column(Numeric(5, 1), default=Decimal("1"))
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    layout: Mapped[str] = mapped_column(String(4), default="one")
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    counting: Mapped[str] = mapped_column(String(4), default="best")
    opens_at = mapped_column(UTCDateTime, nullable=True)
    closes_at = mapped_column(UTCDateTime, nullable=True)
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=False)
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=False)
    feedback: Mapped[str] = mapped_column(String(8), default="score")
    manual_review: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    course = relationship("Course")
    questions = relationship("Question", back_populates="evaluation", cascade="all, delete-orphan",
                             order_by="Question.position")


class Question(db.Model):
    __tablename__ = "evaluation_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    points: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("1"))
    expected: Mapped[str] = mapped_column(String(200), default="")  # short: the text; numeric: the number
    tolerance: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal("0"))  # numeric: ± accepted

    evaluation = relationship("Evaluation", back_populates="questions")
    options = relationship("Option", back_populates="question", cascade="all, delete-orphan",
                           order_by="Option.position")


class Option(db.Model):
    __tablename__ = "evaluation_options"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("evaluation_questions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(500))
    correct: Mapped[bool] = mapped_column(Boolean, default=False)

    question = relationship("Question", back_populates="options")


class EvaluationAttempt(db.Model):
    """One try of a participant at an evaluation: started, answered as they go, submitted once.

    `score_pct` and `grade` are set at submission (grade stays NULL while `pending_review`).
    `question_order` / `option_order` keep the shuffle of this attempt, so a reload shows the same order.
    """

    __tablename__ = "evaluation_attempts"
    __table_args__ = (UniqueConstraint("evaluation_id", "user_id", "number"),
                      Index("ix_evaluation_attempts_user_evaluation", "user_id", "evaluation_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer, default=1)
    started_at = mapped_column(UTCDateTime, default=utcnow)
    deadline_at = mapped_column(UTCDateTime, nullable=True)  # started_at + time limit, capped by closes_at
    submitted_at = mapped_column(UTCDateTime, nullable=True)
    submitted_late: Mapped[bool] = mapped_column(Boolean, default=False)  # closed by the server at the deadline
    question_order: Mapped[list] = mapped_column(JSON, default=list)
    option_order: Mapped[dict] = mapped_column(JSON, default=dict)
    score_points: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    max_points: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    score_pct: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    grade: Mapped[Decimal | None] = mapped_column(Numeric(2, 1))
    pending_review: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at = mapped_column(UTCDateTime, nullable=True)

    evaluation = relationship("Evaluation")
    user = relationship("User", foreign_keys=[user_id])
    answers = relationship("Answer", back_populates="attempt", cascade="all, delete-orphan")

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None


class Answer(db.Model):
    """The participant's answer to one question in one attempt, saved on every change (one row, updated)."""

    __tablename__ = "evaluation_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("evaluation_attempts.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("evaluation_questions.id", ondelete="CASCADE"), index=True)
    value: Mapped[dict] = mapped_column(JSON, default=dict)  # {"options": [ids]} or {"text": "..."}
    points: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))  # NULL until graded (open: by hand)
    saved_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    attempt = relationship("EvaluationAttempt", back_populates="answers")


class StatusOverride(db.Model):
    """Staff's decision on a participant's course status, with its reason. Append-only: the newest row applies;
    a row with status NULL lifts the override. The rows are the log."""

    __tablename__ = "status_overrides"
    __table_args__ = (Index("ix_status_overrides_course_user", "course_id", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow)

    created_by = relationship("User", foreign_keys=[created_by_id])
