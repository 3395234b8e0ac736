"""Courses, their instructors, enrolments and groups; lessons, their material and participants' progress."""

import secrets
from datetime import date

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import UTCDateTime, utcnow

course_instructors = Table(
    "course_instructors",
    db.metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


def new_content_version() -> int:
    """Random rather than counted: a course id reused after a delete (SQLite does) never meets an old copy."""
    return secrets.randbits(62)


class Course(db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Numeric(6, 1), default=0)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    # Renewed by every change to the course's content (app/courses/outline.py): workers' copies follow it.
    content_version: Mapped[int] = mapped_column(BigInteger, default=new_content_version, server_default="0")

    instructors = relationship("User", secondary=course_instructors, lazy="selectin")
    enrollments = relationship(
        "Enrollment", back_populates="course", cascade="all, delete-orphan", lazy="select"
    )
    groups = relationship(
        "Group", back_populates="course", cascade="all, delete-orphan", order_by="Group.name"
    )
    lessons = relationship(
        "Lesson", back_populates="course", cascade="all, delete-orphan", order_by="Lesson.position"
    )

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.title!r}>"


class Group(db.Model):
    """A named group of participants within one course (e.g. an exempt group of auditors)."""

    __tablename__ = "course_groups"
    __table_args__ = (UniqueConstraint("course_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))

    course = relationship("Course", back_populates="groups")


class Enrollment(db.Model):
    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("course_groups.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    # The participant's place in the player: the lesson they opened last.
    last_lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id", ondelete="SET NULL"))

    course = relationship("Course", back_populates="enrollments")
    user = relationship("User", lazy="joined")
    group = relationship("Group")


class Lesson(db.Model):
    """One step of a course: a Markdown body (rendered and sanitized when shown) and its material."""

    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown as the instructor wrote it
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    course = relationship("Course", back_populates="lessons")
    materials = relationship(
        "Material", back_populates="lesson", cascade="all, delete-orphan", order_by="Material.position"
    )


class Material(db.Model):
    """An uploaded file. Stored under UPLOAD_DIR as `stored_name` (generated); `original_name` is for people."""

    __tablename__ = "materials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(10))  # pdf | video | image | office | zip | data
    original_name: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")  # empty: the file name
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at = mapped_column(UTCDateTime, default=utcnow)

    lesson = relationship("Lesson", back_populates="materials")

    @property
    def display_title(self) -> str:
        return self.title or self.original_name


class LessonProgress(db.Model):
    """A lesson the participant marked as completed."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id"), Index("ix_lesson_progress_user_course", "user_id",
                                                                       "course_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    completed_at = mapped_column(UTCDateTime, default=utcnow)
