"""A course's outline (lessons, their rendered bodies, their material), kept by each worker between edits.

The course page needs it on every view, but it changes only when staff edit the content. Each worker keeps a
plain copy keyed by the course's `content_version`, a random stamp that every flush touching the content renews
(lessons and material here; higher layers register their own models, e.g. evaluations). The course row is read
on every course request anyway, so every worker sees an edit on its very next request: nothing is ever stale.
Copies are plain frozen objects, never ORM instances, so no session, commit or thread can expire them.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain

from flask import has_request_context, request, url_for
from markupsafe import Markup
from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload

from app.courses.content import render_markdown
from app.courses.models import Course, Lesson, Material, new_content_version
from app.extensions import db

MAX_ENTRIES = 512

# Models whose changes change what a course shows, with the function that finds the course of an instance.
CONTENT_MODELS: dict[type, Callable[[Session, object], int | None]] = {}


def register_content(model: type, course_id_of: Callable[[Session, object], int | None]) -> None:
    CONTENT_MODELS[model] = course_id_of


def _material_course(session: Session, material: Material) -> int | None:
    lesson = material.lesson or session.get(Lesson, material.lesson_id)
    return lesson.course_id if lesson is not None else None


register_content(Lesson, lambda session, lesson: lesson.course_id)
register_content(Material, _material_course)


@event.listens_for(Session, "before_flush")
def _renew_content_versions(session: Session, flush_context, instances) -> None:
    """Every flush that adds, changes or deletes content gives its course a new version, in the same flush."""
    course_ids = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        course_id_of = CONTENT_MODELS.get(type(obj))
        if course_id_of is None or (obj in session.dirty and not session.is_modified(obj)):
            continue
        course_ids.add(course_id_of(session, obj))
    for course_id in course_ids - {None}:
        course = session.get(Course, course_id)
        if course is not None and course not in session.deleted:
            course.content_version = new_content_version()


# --- The per-worker copies ---------------------------------------------------------------------------


_copies: OrderedDict = OrderedDict()
_lock = threading.Lock()


def cached(kind: str, course: Course, build: Callable[[], object]):
    """`build()`'s result for this version of the course's content, built at most once per worker and version."""
    key = (kind, course.id, course.content_version, request.script_root if has_request_context() else None)
    with _lock:
        if key in _copies:
            _copies.move_to_end(key)
            return _copies[key]
    value = build()
    with _lock:
        _copies[key] = value
        while len(_copies) > MAX_ENTRIES:
            _copies.popitem(last=False)
    return value


@dataclass(frozen=True)
class MaterialItem:
    id: int
    kind: str
    title: str
    display_title: str
    size: int
    url: str


@dataclass(frozen=True)
class LessonItem:
    id: int
    course_id: int
    title: str
    body_html: Markup
    materials: tuple[MaterialItem, ...]
    url: str


@dataclass(frozen=True)
class Outline:
    lessons: tuple[LessonItem, ...]

    def lesson(self, lesson_id: int) -> LessonItem | None:
        return next((each for each in self.lessons if each.id == lesson_id), None)

    @property
    def lesson_ids(self) -> frozenset[int]:
        return frozenset(each.id for each in self.lessons)


def outline(course: Course) -> Outline:
    return cached("outline", course, lambda: _build(course.id))


def _build(course_id: int) -> Outline:
    lessons = db.session.execute(
        select(Lesson).options(selectinload(Lesson.materials)).where(Lesson.course_id == course_id)
        .order_by(Lesson.position, Lesson.id)
    ).scalars()
    return Outline(tuple(_lesson_item(lesson) for lesson in lessons))


def _lesson_item(lesson: Lesson) -> LessonItem:
    materials = tuple(
        MaterialItem(m.id, m.kind, m.title, m.display_title, m.size,
                     url_for("courses.material", course_id=lesson.course_id, material_id=m.id))
        for m in lesson.materials
    )
    body = Markup(render_markdown(lesson.body))  # noqa: S704 (sanitized by nh3 in render_markdown)
    return LessonItem(lesson.id, lesson.course_id, lesson.title, body, materials,
                      url_for("courses.lesson", course_id=lesson.course_id, lesson_id=lesson.id))
