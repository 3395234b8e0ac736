"""Courses: who sees which, lessons and their material (editing), the player's state and the participant's place."""

from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.courses import uploads
from app.courses.access import enrollment_of, forget_enrollment
from app.courses.models import Course, Enrollment, Lesson, LessonProgress, Material, course_instructors
from app.courses.outline import LessonItem, outline
from app.extensions import commit_statement, db
from app.sence.gate import LiveSession, gate_read_with_course, gate_session, is_gated, live_session_and_latest_attempt
from app.sence.models import SenceSession
from app.timeutil import utcnow

LOCKED_MESSAGE = "Debes iniciar sesión SENCE para ver el contenido"
ENDED_MESSAGE = "El curso terminó: su contenido ya no está disponible"


def courses_for(user) -> list[Course]:
    """Admins: every course; instructors: those they teach; participants: their enrolments."""
    query = select(Course).order_by(Course.start_date.desc().nulls_last(), Course.title)
    if user.is_instructor:
        query = query.join(course_instructors).where(course_instructors.c.user_id == user.id)
    elif not user.is_admin:
        query = query.join(Enrollment).where(Enrollment.user_id == user.id)
    return list(db.session.execute(query).scalars())


# --- The SENCE gate on content ---------------------------------------------------------------


@dataclass
class Gate:
    gated: bool
    sence_session: LiveSession | None

    @property
    def locked(self) -> bool:
        return self.gated and self.sence_session is None


def gate_for(user, course, now=None, *, page: bool = False) -> Gate:
    """Checked on every request for a lesson body or a file, whatever the page looked like.

    `page`: the request shows the SENCE bar, which needs the latest attempt too: read in the same query."""
    if not is_gated(user, course):
        return Gate(False, None)
    if now is None:
        read, sence_session = gate_read_with_course(user, course.id, page=page)
        if read:
            return Gate(True, sence_session)
    if page:
        return Gate(True, live_session_and_latest_attempt(user.id, course.id, now))
    return Gate(True, gate_session(user.id, course.id, now))


def open_sessions(user_id: int, now=None) -> list[SenceSession]:
    """Every live SENCE session of the participant, soonest to expire first (dashboard, sign-out)."""
    now = now or utcnow()
    return list(db.session.execute(
        select(SenceSession).options(joinedload(SenceSession.course))
        .where(SenceSession.user_id == user_id, SenceSession.status.in_(("open", "close_failed")),
               SenceSession.expires_at > now)
        .order_by(SenceSession.expires_at)
    ).scalars())


# --- Lessons and material (instructors of the course, admins) --------------------------------


class RuleError(Exception):
    """A request that would break a rule; the message is for the person who made it."""


def lesson_in(course_id: int, lesson_id: int) -> Lesson | None:
    lesson = db.session.get(Lesson, lesson_id)
    return lesson if lesson is not None and lesson.course_id == course_id else None


def material_in(course_id: int, material_id: int) -> Material | None:
    return db.session.execute(
        select(Material).join(Lesson).where(Material.id == material_id, Lesson.course_id == course_id)
    ).scalar_one_or_none()


def _clean_title(title: str | None) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise RuleError("Escribe un título para la lección.")
    if len(title) > 200:
        raise RuleError("El título puede tener hasta 200 caracteres.")
    return title


def add_lesson(course: Course, title: str, body: str) -> Lesson:
    last = db.session.execute(select(func.max(Lesson.position)).where(Lesson.course_id == course.id)).scalar()
    lesson = Lesson(course_id=course.id, title=_clean_title(title), body=body or "", position=(last or 0) + 1)
    db.session.add(lesson)
    db.session.commit()
    return lesson


def update_lesson(lesson: Lesson, title: str, body: str) -> None:
    lesson.title = _clean_title(title)
    lesson.body = body or ""
    db.session.commit()


def _swap(items: list, item, direction: str) -> bool:
    """Swap `item` with its neighbour in `items` (ordered by position) and renumber them 1..n."""
    index = items.index(item)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(items):
        return False
    items[index], items[other] = items[other], items[index]
    for position, each in enumerate(items, 1):
        each.position = position
    db.session.commit()
    return True


def move_lesson(lesson: Lesson, direction: str) -> bool:
    return _swap(list(lesson.course.lessons), lesson, direction)


def delete_lesson(lesson: Lesson) -> None:
    stored = [m.stored_name for m in lesson.materials]
    db.session.delete(lesson)
    db.session.commit()
    uploads.remove(stored)


def add_material(lesson: Lesson, file, title: str = "") -> Material:
    """Validate by name and content, store under a generated name, then record it; refusals change nothing.

    `title` is what participants read (the file name when empty)."""
    if file is None or not file.filename:
        raise uploads.UploadRefused("Elige un archivo para subir.")
    head = file.stream.read(uploads.HEAD_BYTES)
    file.stream.seek(0)
    name, kind = uploads.classify(file.filename, head)
    stored, size = uploads.save_stream(file.stream, name.rpartition(".")[2])
    last = db.session.execute(select(func.max(Material.position)).where(Material.lesson_id == lesson.id)).scalar()
    material = Material(lesson_id=lesson.id, kind=kind.kind, original_name=name, stored_name=stored,
                        title=" ".join((title or "").split())[:200], content_type=kind.content_type, size=size,
                        position=(last or 0) + 1)
    db.session.add(material)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        uploads.remove([stored])
        raise
    return material


def rename_material(material: Material, title: str) -> None:
    """An empty title shows the file name again."""
    material.title = " ".join((title or "").split())[:200]
    db.session.commit()


def move_material(material: Material, direction: str) -> bool:
    return _swap(list(material.lesson.materials), material, direction)


def delete_material(material: Material) -> None:
    stored = material.stored_name
    db.session.delete(material)
    db.session.commit()
    uploads.remove([stored])


# --- The participant's place -----------------------------------------------------------------


@dataclass
class Player:
    lessons: tuple[LessonItem, ...]
    current: LessonItem | None
    completed: set[int] = field(default_factory=set)

    @property
    def total(self) -> int:
        return len(self.lessons)

    @property
    def done(self) -> int:
        return len(self.completed)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    def neighbours(self) -> tuple[LessonItem | None, LessonItem | None]:
        if self.current is None:
            return None, None
        index = self.lessons.index(self.current)
        previous = self.lessons[index - 1] if index > 0 else None
        following = self.lessons[index + 1] if index + 1 < len(self.lessons) else None
        return previous, following


def player_lesson(course: Course, lesson_id: int) -> LessonItem | None:
    """A lesson of the course as the player shows it (from the worker's outline: no query)."""
    return outline(course).lesson(lesson_id)


def player_for(user, course: Course, lesson: LessonItem | None = None, *, record: bool = False) -> Player:
    """The lesson list, the lesson to show (asked for, else the last opened, else the first) and progress.

    With `record`, opening the lesson is remembered as the participant's place.
    """
    lessons = outline(course).lessons
    enrollment = enrollment_of(user, course.id) if user.is_participant else None
    if lesson is None and enrollment is not None and enrollment.last_lesson_id:
        lesson = next((each for each in lessons if each.id == enrollment.last_lesson_id), None)
    current = lesson or (lessons[0] if lessons else None)
    if record and enrollment is not None and current is not None and enrollment.last_lesson_id != current.id:
        db.session.execute(update(Enrollment).where(Enrollment.id == enrollment.id).values(last_lesson_id=current.id))
        commit_statement()
    completed = enrollment.completed_lesson_ids if enrollment is not None else set()
    return Player(lessons, current, completed & {each.id for each in lessons})


def set_completed(user, lesson: Lesson | LessonItem, done: bool) -> None:
    """Idempotent either way: a double click or a second tab changes nothing more."""
    exists = db.session.execute(
        select(LessonProgress.id).where(LessonProgress.user_id == user.id, LessonProgress.lesson_id == lesson.id)
    ).scalar_one_or_none()
    if done and exists is None:
        db.session.add(LessonProgress(user_id=user.id, course_id=lesson.course_id, lesson_id=lesson.id))
    elif not done and exists is not None:
        db.session.execute(delete(LessonProgress).where(LessonProgress.id == exists))
    try:
        db.session.commit()
    except IntegrityError:  # the same click from another tab got there first
        db.session.rollback()
    forget_enrollment(user, lesson.course_id)  # its row lists the completed lessons
