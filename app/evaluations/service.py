"""Evaluations: building them (staff), taking them (participants), grading by hand, the rule and overrides.

Every refusal raises EvaluationError with a message for the person who asked; nothing is changed then.
Times are checked by the server on every request: a page left open cannot save after the deadline.
"""

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from flask import url_for
from sqlalchemy import Text, and_, bindparam, cast, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from app.courses import outline
from app.evaluations.grading import (
    close_overdue,
    effective_deadline,
    grade_of,
    is_overdue,
    parse_number,
    rescore,
    submit,
)
from app.evaluations.models import (
    Answer,
    CourseRule,
    Evaluation,
    EvaluationAttempt,
    Option,
    Question,
    StatusOverride,
)
from app.extensions import RowSlices, begin_transaction, db
from app.timeutil import format_chile, utcnow

log = logging.getLogger(__name__)
# A save or a submission sent just before the deadline may arrive a moment after it.
GRACE = timedelta(seconds=15)
MAX_OPTIONS = 6


class EvaluationError(Exception):
    """A request that breaks a rule; the message is for the person who made it."""


# --- Where evaluations sit among the lessons -------------------------------------------------------


def evaluations_of(course_id: int, *, published_only: bool = False) -> list[Evaluation]:
    query = select(Evaluation).where(Evaluation.course_id == course_id)
    if published_only:
        query = query.where(Evaluation.published.is_(True))
    return list(db.session.execute(query.order_by(Evaluation.position, Evaluation.id)).scalars())


def placements(course, *, published_only: bool) -> dict[int | None, list[Evaluation]]:
    """Evaluations keyed by the lesson they follow (None: after the last lesson); one query."""
    lesson_ids = outline.outline(course).lesson_ids
    placed: dict[int | None, list[Evaluation]] = {}
    for evaluation in evaluations_of(course.id, published_only=published_only):
        key = evaluation.after_lesson_id if evaluation.after_lesson_id in lesson_ids else None
        placed.setdefault(key, []).append(evaluation)
    return placed


# An evaluation added, moved, renamed, published or deleted changes what the course page lists.
outline.register_content(Evaluation, lambda session, evaluation: evaluation.course_id)


@dataclass(frozen=True)
class PlacedEvaluation:
    """What the course page's lesson list shows of an evaluation: a plain copy, kept per worker."""

    id: int
    title: str
    published: bool
    url: str


def player_placements(course, *, published_only: bool) -> dict[int | None, tuple[PlacedEvaluation, ...]]:
    """placements() as plain copies with their addresses, for the course page's per-worker copy of its list."""
    return {key: tuple(PlacedEvaluation(e.id, e.title, e.published,
                                        url_for("evaluations.show", course_id=course.id, evaluation_id=e.id))
                       for e in evaluations)
            for key, evaluations in placements(course, published_only=published_only).items()}


def evaluation_in(course_id: int, evaluation_id: int) -> Evaluation | None:
    evaluation = db.session.get(Evaluation, evaluation_id)
    return evaluation if evaluation is not None and evaluation.course_id == course_id else None


# --- Building (staff) ------------------------------------------------------------------------------

SETTINGS = ("title", "instructions", "after_lesson_id", "weight", "published", "layout", "time_limit_minutes",
            "max_attempts", "counting", "opens_at", "closes_at", "shuffle_questions", "shuffle_options", "feedback",
            "manual_review")


def _check_settings(data: dict, evaluation: Evaluation | None) -> None:
    if data.get("opens_at") and data.get("closes_at") and data["closes_at"] <= data["opens_at"]:
        raise EvaluationError("El cierre debe ser posterior a la apertura.")
    if data.get("feedback") == "answers" and not data.get("closes_at"):
        raise EvaluationError("Para mostrar las respuestas correctas después del cierre, indica la fecha de cierre.")
    if evaluation is not None and not data.get("manual_review") and any(
            q.kind == "open" for q in evaluation.questions):
        raise EvaluationError("Tiene preguntas de respuesta abierta: debe quedar marcada para revisión manual.")
    if data.get("published") and evaluation is not None and not evaluation.questions:
        raise EvaluationError("Agrega al menos una pregunta antes de publicar.")
    if data.get("published") and evaluation is None:
        raise EvaluationError("Agrega al menos una pregunta antes de publicar.")


def create_evaluation(course, data: dict) -> Evaluation:
    _check_settings(data, None)
    last = db.session.execute(select(func.max(Evaluation.position))
                              .where(Evaluation.course_id == course.id)).scalar()
    evaluation = Evaluation(course_id=course.id, position=(last or 0) + 1,
                            **{key: data[key] for key in SETTINGS if key in data})
    db.session.add(evaluation)
    db.session.commit()
    return evaluation


def update_evaluation(evaluation: Evaluation, data: dict) -> None:
    _check_settings(data, evaluation)
    for key in SETTINGS:
        if key in data:
            setattr(evaluation, key, data[key])
    db.session.commit()


def delete_evaluation(evaluation: Evaluation) -> None:
    """Refused once someone has taken it: grades must not vanish; unpublish it instead."""
    taken = db.session.execute(select(EvaluationAttempt.id).where(EvaluationAttempt.evaluation_id == evaluation.id)
                               .limit(1)).first()
    if taken is not None:
        raise EvaluationError("Ya hay intentos de participantes: no se puede eliminar. Puedes despublicarla.")
    db.session.delete(evaluation)
    db.session.commit()


def _has_attempts(evaluation: Evaluation) -> bool:
    return db.session.execute(select(EvaluationAttempt.id).where(EvaluationAttempt.evaluation_id == evaluation.id)
                              .limit(1)).first() is not None


def _question_fields(question: Question, data: dict) -> None:
    kind = data["kind"]
    question.kind, question.text, question.points = kind, data["text"].strip(), data["points"]
    question.expected, question.tolerance = "", Decimal(0)
    options = [(text.strip(), bool(correct)) for text, correct in data.get("options", []) if text and text.strip()]
    if kind == "truefalse":
        options = [("Verdadero", data.get("true_is_correct", True)), ("Falso", not data.get("true_is_correct", True))]
    if kind in ("single", "multiple", "truefalse"):
        if len(options) < 2:
            raise EvaluationError("Escribe al menos dos opciones.")
        correct = sum(1 for _, ok in options if ok)
        if correct == 0:
            raise EvaluationError("Marca la opción correcta.")
        if kind == "single" and correct > 1:
            raise EvaluationError("En selección única solo una opción puede ser correcta.")
        question.options = [Option(text=text[:500], correct=ok, position=n) for n, (text, ok) in
                            enumerate(options, 1)]
        return
    question.options = []
    if kind == "short":
        if not (data.get("expected") or "").strip():
            raise EvaluationError("Escribe la respuesta esperada (puedes separar variantes con «|»).")
        question.expected = data["expected"].strip()[:200]
    elif kind == "numeric":
        if parse_number(data.get("expected") or "") is None:
            raise EvaluationError("Escribe el valor numérico esperado, por ejemplo 12,5.")
        question.expected = data["expected"].strip()[:200]
        question.tolerance = data.get("tolerance") or Decimal(0)


def save_question(evaluation: Evaluation, data: dict, question: Question | None = None) -> Question:
    """Add or change a question. Changing questions of an evaluation already taken would regrade history."""
    if _has_attempts(evaluation):
        raise EvaluationError("Ya hay intentos de participantes: las preguntas no se pueden cambiar.")
    if data["kind"] == "open" and not evaluation.manual_review:
        raise EvaluationError("Las preguntas abiertas requieren marcar la evaluación para revisión manual.")
    is_new = question is None
    if is_new:
        last = max((q.position for q in evaluation.questions), default=0)
        question = Question(evaluation_id=evaluation.id, position=last + 1)
    with db.session.no_autoflush:
        _question_fields(question, data)
    if is_new:
        evaluation.questions.append(question)
    db.session.commit()
    return question


def copy_questions(target: Evaluation, source: Evaluation) -> int:
    """The course's question bank: copy every question (and its options) of another evaluation of the course."""
    if source.course_id != target.course_id or source.id == target.id:
        raise EvaluationError("Elige otra evaluación de este mismo curso.")
    if _has_attempts(target):
        raise EvaluationError("Ya hay intentos de participantes: las preguntas no se pueden cambiar.")
    if not target.manual_review and any(q.kind == "open" for q in source.questions):
        raise EvaluationError("Esa evaluación tiene preguntas abiertas: marca esta para revisión manual primero.")
    last = max((q.position for q in target.questions), default=0)
    for offset, question in enumerate(source.questions, 1):
        copy = Question(kind=question.kind, text=question.text, points=question.points, position=last + offset,
                        expected=question.expected, tolerance=question.tolerance)
        copy.options = [Option(text=o.text, correct=o.correct, position=o.position) for o in question.options]
        target.questions.append(copy)
    db.session.commit()
    return len(source.questions)


def question_in(evaluation: Evaluation, question_id: int) -> Question | None:
    return next((q for q in evaluation.questions if q.id == question_id), None)


def delete_question(evaluation: Evaluation, question: Question) -> None:
    if _has_attempts(evaluation):
        raise EvaluationError("Ya hay intentos de participantes: las preguntas no se pueden cambiar.")
    evaluation.questions.remove(question)
    if not evaluation.questions:
        evaluation.published = False
    db.session.commit()


def move_question(evaluation: Evaluation, question: Question, direction: str) -> None:
    items = list(evaluation.questions)
    index = items.index(question)
    other = index - 1 if direction == "up" else index + 1
    if direction in ("up", "down") and 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
        for position, each in enumerate(items, 1):
            each.position = position
        db.session.commit()


# --- Taking (participants) -------------------------------------------------------------------------


@dataclass
class Availability:
    """What the participant may do with an evaluation now, and why not."""

    attempts: list[EvaluationAttempt]
    in_progress: EvaluationAttempt | None
    can_start: bool
    reason: str

    @property
    def submitted(self) -> list[EvaluationAttempt]:
        return [a for a in self.attempts if a.submitted]


def availability(evaluation: Evaluation, user_id: int, now: datetime | None = None) -> Availability:
    now = now or utcnow()
    close_overdue(evaluation.course_id, now, user_id)
    attempts = list(db.session.execute(
        select(EvaluationAttempt).where(EvaluationAttempt.evaluation_id == evaluation.id,
                                        EvaluationAttempt.user_id == user_id)
        .order_by(EvaluationAttempt.number)
    ).scalars())
    in_progress = next((a for a in attempts if not a.submitted), None)
    reason = refusal(evaluation, len(attempts), now)
    return Availability(attempts, in_progress, in_progress is None and reason == "", reason)


def refusal(evaluation: Evaluation, used: int, now: datetime) -> str:
    """Why a new attempt cannot start now ("" when it can)."""
    if not evaluation.published or not evaluation.questions:
        return "Esta evaluación aún no está disponible."
    if evaluation.opens_at and now < evaluation.opens_at:
        return f"Se abre el {format_chile(evaluation.opens_at)}."
    if evaluation.closes_at and now >= evaluation.closes_at:
        return f"Cerró el {format_chile(evaluation.closes_at)}."
    if used >= evaluation.max_attempts:
        return "Ya usaste todos tus intentos." if evaluation.max_attempts > 1 else "Ya rendiste esta evaluación."
    return ""


def start_attempt(evaluation: Evaluation, user_id: int, now: datetime | None = None) -> EvaluationAttempt:
    """Start a new attempt, or return the one in progress (a second click or tab starts nothing more)."""
    now = now or utcnow()
    state = availability(evaluation, user_id, now)
    if state.in_progress is not None:
        return state.in_progress
    if not state.can_start:
        raise EvaluationError(state.reason)
    questions = list(evaluation.questions)
    rng = secrets.SystemRandom()
    if evaluation.shuffle_questions:
        rng.shuffle(questions)
    option_order = {}
    for question in questions:
        ids = [o.id for o in question.options]
        if evaluation.shuffle_options and question.kind != "truefalse":
            rng.shuffle(ids)
        option_order[str(question.id)] = ids
    deadline = now + timedelta(minutes=evaluation.time_limit_minutes) if evaluation.time_limit_minutes else None
    if evaluation.closes_at and (deadline is None or evaluation.closes_at < deadline):
        deadline = evaluation.closes_at
    attempt = EvaluationAttempt(evaluation_id=evaluation.id, user_id=user_id, number=len(state.attempts) + 1,
                                started_at=now, deadline_at=deadline, question_order=[q.id for q in questions],
                                option_order=option_order)
    db.session.add(attempt)
    try:
        db.session.commit()
    except IntegrityError:  # the same click from another tab got there first: resume that attempt
        db.session.rollback()
        resumed = availability(evaluation, user_id, now).in_progress
        if resumed is None:
            raise EvaluationError("Ya rendiste esta evaluación.") from None
        return resumed
    return attempt


_own_attempt_query = []  # built once per process (a select with its options is not free to build)


def _own_attempt_statement():
    if not _own_attempt_query:
        _own_attempt_query.append(
            select(EvaluationAttempt).join(EvaluationAttempt.evaluation)
            .options(contains_eager(EvaluationAttempt.evaluation), joinedload(EvaluationAttempt.answers))
            .where(EvaluationAttempt.id == bindparam("attempt_id"), EvaluationAttempt.user_id == bindparam("user_id"),
                   EvaluationAttempt.evaluation_id == bindparam("evaluation_id"),
                   Evaluation.course_id == bindparam("course_id"), Evaluation.published.is_(True)))
    return _own_attempt_query[0]


def own_attempt(course_id: int, evaluation_id: int, user_id: int, attempt_id: int) -> EvaluationAttempt | None:
    """The attempt if it is this participant's, of this published evaluation of this course; anybody else's, or
    one of an unpublished evaluation, is "not found". One statement: the attempt with its evaluation and its
    answers (a row an answer). The questions the participant answers come from paper()."""
    return db.session.execute(_own_attempt_statement(), {
        "attempt_id": attempt_id, "user_id": user_id, "evaluation_id": evaluation_id, "course_id": course_id,
    }).unique().scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class EvaluationOnPaper:
    """What the question page reads of an evaluation."""

    id: int
    course_id: int
    title: str
    layout: str
    closes_at: datetime | None


@dataclass(frozen=True, slots=True)
class AnswerOnPaper:
    id: int
    question_id: int
    value: dict


@dataclass(frozen=True, slots=True)
class PaperOption:
    id: int
    text: str
    correct: bool


@dataclass(frozen=True, slots=True)
class PaperQuestion:
    """A question as an attempt shows it: plain read-only data, its options in the attempt's order. The
    questions of an evaluation that has attempts cannot change (save_question refuses), so reading them as
    plain rows loses nothing."""

    id: int
    kind: str
    text: str
    points: Decimal
    expected: str
    tolerance: Decimal
    options: tuple[PaperOption, ...]


@dataclass(frozen=True, slots=True)
class AttemptOnPaper:
    """An attempt in progress as its question page shows it and the answer save checks it: the attempt, its
    evaluation, its questions in the attempt's order and its answers, read as plain rows in one statement
    through Core, not ORM objects (the ORM's load was ~15 % of the page, and the questions a round trip of
    their own). Submitting, grading an overdue attempt and the result page read the EvaluationAttempt."""

    id: int
    evaluation_id: int
    user_id: int
    number: int
    deadline_at: datetime | None
    submitted_at: datetime | None
    question_order: list
    option_order: dict
    evaluation: EvaluationOnPaper
    answers: tuple[AnswerOnPaper, ...]
    questions: tuple[PaperQuestion, ...]

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None


# The JSON columns come as text and are decoded once: the attempt's repeat on every row, an answer's on each of
# its question's options (decoding them per row was ~6 % of the question page).
_ATTEMPT_ON_PAPER_COLUMNS = (EvaluationAttempt.id, EvaluationAttempt.evaluation_id, EvaluationAttempt.user_id,
                             EvaluationAttempt.number, EvaluationAttempt.deadline_at, EvaluationAttempt.submitted_at,
                             cast(EvaluationAttempt.question_order, Text), cast(EvaluationAttempt.option_order, Text))
_EVALUATION_ON_PAPER_COLUMNS = (Evaluation.id, Evaluation.course_id, Evaluation.title, Evaluation.layout,
                                Evaluation.closes_at)
_QUESTION_COLUMNS = (Question.id, Question.kind, Question.text, Question.points, Question.expected,
                     Question.tolerance)
_OPTION_COLUMNS = (Option.id, Option.text, Option.correct)
_PAPER_ORDER = (Question.position, Question.id, Option.position, Option.id)
_ATTEMPT_ON_PAPER = (
    select(*_ATTEMPT_ON_PAPER_COLUMNS, *_EVALUATION_ON_PAPER_COLUMNS, *_QUESTION_COLUMNS, *_OPTION_COLUMNS,
           Answer.id, cast(Answer.value, Text))
    .join(Evaluation, Evaluation.id == EvaluationAttempt.evaluation_id)
    .outerjoin(Question, Question.evaluation_id == Evaluation.id)
    .outerjoin(Option, Option.question_id == Question.id)
    .outerjoin(Answer, and_(Answer.attempt_id == EvaluationAttempt.id, Answer.question_id == Question.id))
    .where(EvaluationAttempt.id == bindparam("attempt_id"), EvaluationAttempt.user_id == bindparam("user_id"),
           EvaluationAttempt.evaluation_id == bindparam("evaluation_id"),
           Evaluation.course_id == bindparam("course_id"), Evaluation.published.is_(True))
    .order_by(*_PAPER_ORDER)
)
_PAPER = (select(*_QUESTION_COLUMNS, *_OPTION_COLUMNS).outerjoin(Option, Option.question_id == Question.id)
          .where(Question.evaluation_id == bindparam("evaluation_id")).order_by(*_PAPER_ORDER))


def own_attempt_on_paper(course_id: int, evaluation_id: int, user_id: int, attempt_id: int) -> AttemptOnPaper | None:
    """own_attempt's attempt, with the same checks, and its questions and answers as plain rows: one statement,
    a row an option (or a question without options), each with the attempt's answer to its question."""
    rows = db.session.connection().execute(_ATTEMPT_ON_PAPER, {
        "attempt_id": attempt_id, "user_id": user_id, "evaluation_id": evaluation_id, "course_id": course_id,
    }).all()
    if not rows:
        return None
    values = RowSlices(rows[0])
    attempt, evaluation = values.take(len(_ATTEMPT_ON_PAPER_COLUMNS)), values.take(len(_EVALUATION_ON_PAPER_COLUMNS))
    question_order, option_order = json.loads(attempt[6] or "null") or [], json.loads(attempt[7] or "null") or {}
    paper_rows = [row[values.start:-2] for row in rows]
    answers = {}
    for row in rows:  # an answer's columns repeat on each of its question's options' rows
        question_id, answer_id = row[values.start], row[-2]
        if answer_id is not None and question_id not in answers:
            answers[question_id] = AnswerOnPaper(answer_id, question_id, json.loads(row[-1]))
    return AttemptOnPaper(*attempt[:6], question_order, option_order, evaluation=EvaluationOnPaper(*evaluation),
                          answers=tuple(answers.values()),
                          questions=tuple(_in_attempt_order(paper_rows, question_order, option_order)))


def paper(attempt: EvaluationAttempt | AttemptOnPaper) -> list[PaperQuestion]:
    """The attempt's questions in its order, each with its options in its order (as ordered_questions and
    ordered_options give them), as plain rows. An AttemptOnPaper read them with itself; for an EvaluationAttempt
    one statement through Core (the ORM's execution of the same select costs 1.5 to 2.4 times Core's)."""
    if isinstance(attempt, AttemptOnPaper):
        return list(attempt.questions)
    rows = db.session.connection().execute(_PAPER, {"evaluation_id": attempt.evaluation_id}).all()
    return _in_attempt_order(rows, attempt.question_order, attempt.option_order)


def _in_attempt_order(rows, question_order: list, option_order: dict | None) -> list[PaperQuestion]:
    """PaperQuestions from rows of _QUESTION_COLUMNS + _OPTION_COLUMNS (in the evaluation's order), in the
    attempt's order of questions and of each question's options."""
    questions: dict[int, tuple] = {}
    options: dict[int, list[PaperOption]] = {}
    for qid, kind, text_, points, expected, tolerance, oid, otext, correct in rows:
        if qid is None:  # an evaluation without questions
            continue
        if qid not in questions:
            questions[qid], options[qid] = (qid, kind, text_, points, expected, tolerance), []
        if oid is not None:
            options[qid].append(PaperOption(oid, otext, correct))
    order = option_order or {}
    ordered = []
    for qid in question_order:
        if qid not in questions:
            continue
        listed = options[qid]
        wanted = order.get(str(qid))
        if wanted:
            by_id = {o.id: o for o in listed}
            listed = [by_id[i] for i in wanted if i in by_id]
        ordered.append(PaperQuestion(*questions[qid], tuple(listed)))
    return ordered


def ordered_questions(attempt: EvaluationAttempt) -> list[Question]:
    questions = {q.id: q for q in attempt.evaluation.questions}
    return [questions[qid] for qid in attempt.question_order if qid in questions]


def ordered_options(attempt: EvaluationAttempt, question: Question) -> list[Option]:
    order = (attempt.option_order or {}).get(str(question.id))
    if not order:
        return list(question.options)
    options = {o.id: o for o in question.options}
    return [options[i] for i in order if i in options]


def _writable(attempt: EvaluationAttempt | AttemptOnPaper, now: datetime) -> None:
    """Refuse changes to a submitted attempt or after the deadline (then submit it with what was saved)."""
    if attempt.submitted:
        raise EvaluationError("Esta evaluación ya fue enviada: las respuestas no se pueden cambiar.")
    deadline = effective_deadline(attempt, attempt.evaluation)
    if deadline is not None and now > deadline + GRACE:
        begin_transaction()  # the attempt and its answers are graded together
        submit(db.session.get(EvaluationAttempt, attempt.id), deadline, late=True)
        db.session.commit()
        raise EvaluationError("Se acabó el tiempo: se envió con las respuestas guardadas hasta entonces.")


def _clean_value(question: PaperQuestion, raw: list[str]) -> dict:
    if question.kind in ("single", "truefalse", "multiple"):
        valid = {o.id for o in question.options}
        chosen = [int(v) for v in raw if v.isdigit() and int(v) in valid]
        if question.kind != "multiple":
            chosen = chosen[:1]
        return {"options": sorted(set(chosen))}
    limit = 5000 if question.kind == "open" else 200
    return {"text": (raw[0] if raw else "")[:limit]}


_answer_writes = []


def _answer_write_statements() -> tuple:
    """The INSERT of first answers and the UPDATE of changed ones, built once per process."""
    if not _answer_writes:
        table = Answer.__table__
        _answer_writes.extend((
            insert(table),
            update(table).where(table.c.id == bindparam("b_id"))
            .values(value=bindparam("b_value"), saved_at=bindparam("b_saved_at")),
        ))
    return tuple(_answer_writes)


def _answer_writes_of(attempt, answers: dict[int, list[str]], now: datetime) -> tuple[int, list, list]:
    """How many of the answers are to the attempt's questions, and the rows to insert and to update (an answer
    that did not change writes nothing)."""
    questions = {q.id: q for q in paper(attempt)}
    existing = {a.question_id: a for a in attempt.answers}
    saved, first, changed = 0, [], []
    for question_id, raw in answers.items():
        question = questions.get(question_id)
        if question is None:
            continue
        value = _clean_value(question, raw)
        answer = existing.get(question_id)
        if answer is None:
            first.append({"attempt_id": attempt.id, "question_id": question_id, "value": value, "saved_at": now})
        elif answer.value != value:
            changed.append({"b_id": answer.id, "b_value": value, "b_saved_at": now})
        saved += 1
    return saved, first, changed


def _read_again(attempt: EvaluationAttempt | AttemptOnPaper) -> EvaluationAttempt | AttemptOnPaper:
    if isinstance(attempt, EvaluationAttempt):
        return db.session.get(EvaluationAttempt, attempt.id)
    return own_attempt_on_paper(attempt.evaluation.course_id, attempt.evaluation_id, attempt.user_id, attempt.id)


def save_answers(attempt: EvaluationAttempt | AttemptOnPaper, answers: dict[int, list[str]],
                 now: datetime | None = None) -> int:
    """Store the answers to the questions given (question id -> submitted values); returns how many.

    The answer save (the hottest write) passes the AttemptOnPaper it checked, submitting the EvaluationAttempt:
    either way the answers are written through Core, first ones with one INSERT and changed ones with one UPDATE,
    and committed together (the ORM's unit of work cost more than the rest of the save, bench/README.md)."""
    now = now or utcnow()
    _writable(attempt, now)
    saved, first, changed = _answer_writes_of(attempt, answers, now)
    if not (first or changed):
        return saved
    insert_first, update_changed = _answer_write_statements()
    if len(first) + len(changed) > 1:
        begin_transaction()  # stored together; one row stands alone (in autocommit on a page without transaction)
    try:
        connection = db.session.connection()
        if first:
            connection.execute(insert_first, first)
        if changed:
            connection.execute(update_changed, changed)
        db.session.commit()
    except IntegrityError:  # two saves of a first answer raced: the other one is stored, store ours over it
        db.session.rollback()
        return save_answers(_read_again(attempt), answers, now)
    return saved


def submit_attempt(attempt: EvaluationAttempt, answers: dict[int, list[str]], now: datetime | None = None) -> None:
    """Save the last answers and submit, once: grades automatic questions at once."""
    now = now or utcnow()
    save_answers(attempt, answers, now)
    submit(attempt, now)
    db.session.commit()
    log.info("evaluation %s attempt %s submitted by user %s: %s %%", attempt.evaluation_id, attempt.id,
             attempt.user_id, attempt.score_pct)


def answers_shown(attempt: EvaluationAttempt, now: datetime | None = None) -> bool:
    """Correct answers appear only after closing, when the instructor chose so."""
    evaluation = attempt.evaluation
    now = now or utcnow()
    return (attempt.submitted and evaluation.feedback == "answers" and evaluation.closes_at is not None
            and now >= evaluation.closes_at)


def remaining_seconds(attempt: EvaluationAttempt, now: datetime | None = None) -> int | None:
    deadline = effective_deadline(attempt, attempt.evaluation)
    if deadline is None:
        return None
    return max(0, int((deadline - (now or utcnow())).total_seconds()))


def overdue(attempt: EvaluationAttempt, now: datetime | None = None) -> bool:
    return is_overdue(attempt, attempt.evaluation, now or utcnow())


# --- Manual grading, the rule, overrides (staff) ---------------------------------------------------


def attempt_in_course(course_id: int, attempt_id: int) -> EvaluationAttempt | None:
    attempt = db.session.get(EvaluationAttempt, attempt_id)
    return attempt if attempt is not None and attempt.evaluation.course_id == course_id else None


def review(attempt: EvaluationAttempt, points: dict[int, Decimal], reviewer) -> None:
    """Points for the open questions (by hand); then the grade is computed and the attempt is no longer pending."""
    if not attempt.submitted:
        raise EvaluationError("El intento aún no se envía.")
    questions = {q.id: q for q in attempt.evaluation.questions}
    answers = {a.question_id: a for a in attempt.answers}
    for question in questions.values():
        if question.kind != "open":
            continue
        given = points.get(question.id)
        if given is None or not Decimal(0) <= given <= Decimal(question.points):
            top = f"{Decimal(question.points).normalize():f}".replace(".", ",")
            raise EvaluationError(f"Asigna entre 0 y {top} puntos a «{question.text[:60]}».")
        answer = answers.get(question.id)
        if answer is None:
            answer = Answer(question_id=question.id, value={"text": ""})
            attempt.answers.append(answer)
        answer.points = given
    attempt.pending_review = False
    attempt.reviewed_by_id, attempt.reviewed_at = reviewer.id, utcnow()
    rescore(attempt)
    db.session.commit()
    log.info("attempt %s reviewed by user %s: grade %s", attempt.id, reviewer.id, attempt.grade)


def save_rule(course_id: int, data: dict) -> CourseRule:
    """Store the course's rule; a new exigencia regrades every graded attempt of the course."""
    rule = db.session.get(CourseRule, course_id)
    if rule is None:
        rule = CourseRule(course_id=course_id)
        db.session.add(rule)
    old_exigencia = rule.exigencia_pct
    for key in ("exigencia_pct", "min_final_grade", "min_lessons_pct", "sence_requirement", "min_connectivity_pct"):
        setattr(rule, key, data[key])
    if old_exigencia != rule.exigencia_pct:
        graded = db.session.execute(
            select(EvaluationAttempt).join(Evaluation)
            .where(Evaluation.course_id == course_id, EvaluationAttempt.grade.is_not(None))
        ).scalars()
        for attempt in graded:
            attempt.grade = grade_of(attempt, rule.exigencia_pct)
    db.session.commit()
    return rule


def set_override(course_id: int, user_id: int, status: str | None, reason: str, by) -> StatusOverride:
    """Record staff's decision (status None lifts the override); every decision stays in the log."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise EvaluationError("Escribe el motivo: queda registrado junto al cambio.")
    row = StatusOverride(course_id=course_id, user_id=user_id, status=status or None, reason=reason[:1000],
                         created_by_id=by.id, created_at=utcnow())
    db.session.add(row)
    db.session.commit()
    log.info("course %s user %s: status override %s by user %s", course_id, user_id, status or "lifted", by.id)
    return row


def override_log(course_id: int, user_id: int) -> list[StatusOverride]:
    return list(db.session.execute(
        select(StatusOverride).where(StatusOverride.course_id == course_id, StatusOverride.user_id == user_id)
        .order_by(StatusOverride.created_at.desc(), StatusOverride.id.desc())
    ).scalars())


def pending_attempts(course_id: int) -> list[EvaluationAttempt]:
    return list(db.session.execute(
        select(EvaluationAttempt).join(Evaluation)
        .where(Evaluation.course_id == course_id, EvaluationAttempt.pending_review.is_(True),
               EvaluationAttempt.submitted_at.is_not(None))
        .order_by(EvaluationAttempt.submitted_at)
    ).scalars())
