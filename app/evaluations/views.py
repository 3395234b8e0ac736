"""Evaluation pages: building (staff), taking (participants, behind the SENCE gate), grades and the gradebook."""

from dataclasses import dataclass
from decimal import Decimal

from flask import (
    Blueprint,
    abort,
    flash,
    get_template_attribute,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from app.auth.models import User
from app.auth.service import signed_in_as_row
from app.courses import outline
from app.courses import service as courses
from app.courses.access import (
    editable_course_or_abort,
    enrollment_of,
    viewable_course_for_page,
    viewable_course_or_abort,
)
from app.courses.timer import live_timer_state
from app.evaluations import exports, service
from app.evaluations.forms import EvaluationForm, OverrideForm, QuestionForm, RuleForm, points_from
from app.evaluations.gradebook import STATUS_LABELS, Filters, gradebook
from app.evaluations.grades import grade_text
from app.evaluations.grading import close_overdue, rule_for
from app.evaluations.models import QUESTION_KINDS
from app.evaluations.status import counted_results, participant_status
from app.extensions import begin_transaction, db, without_transaction
from app.privacy.trail import record_access
from app.reports.views import MIMETYPES, _download
from app.sence.gate import changes_no_sence_session
from app.timeutil import utcnow

bp = Blueprint("evaluations", __name__)


def _is_htmx() -> bool:
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


@bp.app_template_filter("grade")
def grade_filter(value) -> str:
    return grade_text(value)


@bp.app_template_filter("points")
def points_filter(value) -> str:
    """1.00 -> "1", 1.50 -> "1,5": points as people write them."""
    return f"{Decimal(value).normalize():f}".replace(".", ",")


@bp.app_template_global("course_evaluations")
def course_evaluations(course):
    """The lesson editor's hook: evaluations keyed by the lesson they follow."""
    return service.placements(course, published_only=not current_user.is_staff)


@dataclass(frozen=True)
class PlayerItems:
    """Markup keyed by the lesson it follows (None: the end of the list); false when nothing is placed."""

    markup: dict
    placed: bool

    def __bool__(self) -> bool:
        return self.placed

    def after(self, lesson_id: int | None) -> Markup:
        return self.markup.get(lesson_id, Markup(""))


def _player_items(course, staff: bool) -> PlayerItems:
    placed = service.player_placements(course, published_only=not staff)
    items = get_template_attribute("evaluations/_player_items.html", "items")
    markup = {after: items(evaluations, course, after, False) for after, evaluations in placed.items()}
    markup[None] = items(placed.get(None, ()), course, None, not staff)
    return PlayerItems(markup, bool(placed))


@bp.app_template_global("player_evaluations")
def player_evaluations(course) -> PlayerItems:
    """The course page's hook: the list items of the placed evaluations, rendered once per worker and version of
    the course's content (an include per lesson on every view cost more than the rest of the lesson list)."""
    staff = current_user.is_staff
    return outline.cached(f"evaluation-items:{staff}", course, lambda: _player_items(course, staff))


def _evaluation_or_404(course_id: int, evaluation_id: int):
    evaluation = service.evaluation_in(course_id, evaluation_id)
    if evaluation is None:
        abort(404)
    return evaluation


# --- Building (staff of the course) ----------------------------------------------------------------


def _lesson_choices(course):
    return [(lesson.id, f"Después de «{lesson.title}»") for lesson in course.lessons] + [(0, "Al final del curso")]


def _settings_page(course, form, evaluation=None, error=None):
    question_form = QuestionForm(prefix="q") if evaluation else None
    status = 422 if error or form.errors else 200
    others = [e for e in service.evaluations_of(course.id) if evaluation and e.id != evaluation.id and e.questions]
    return render_template("evaluations/edit.html", course=course, form=form, evaluation=evaluation, error=error,
                           question_form=question_form, kinds=QUESTION_KINDS, others=others,
                           max_options=service.MAX_OPTIONS), status


@bp.route("/cursos/<int:course_id>/evaluaciones/nueva", methods=["GET", "POST"])
@login_required
def new(course_id: int):
    course = editable_course_or_abort(course_id)
    form = EvaluationForm()
    form.after_lesson_id.choices = _lesson_choices(course)
    if request.method == "GET":
        form.after_lesson_id.data = course.lessons[-1].id if course.lessons else 0
    error = None
    if form.validate_on_submit():
        try:
            evaluation = service.create_evaluation(course, form.data_for_service())
        except service.EvaluationError as err:
            error = str(err)
        else:
            flash(f"Evaluación «{evaluation.title}» creada. Agrega ahora sus preguntas.", "success")
            return redirect(url_for("evaluations.edit", course_id=course.id, evaluation_id=evaluation.id), 303)
    return _settings_page(course, form, error=error)


@bp.route("/cursos/<int:course_id>/evaluaciones/<int:evaluation_id>/editar", methods=["GET", "POST"])
@login_required
def edit(course_id: int, evaluation_id: int):
    course = editable_course_or_abort(course_id)
    evaluation = _evaluation_or_404(course.id, evaluation_id)
    form = EvaluationForm(obj=evaluation if request.method == "GET" else None)
    form.after_lesson_id.choices = _lesson_choices(course)
    if request.method == "GET":
        form.fill_from(evaluation)
    error = None
    if form.validate_on_submit():
        try:
            service.update_evaluation(evaluation, form.data_for_service())
        except service.EvaluationError as err:
            db.session.rollback()
            error = str(err)
        else:
            flash("Evaluación guardada.", "success")
            return redirect(url_for("evaluations.edit", course_id=course.id, evaluation_id=evaluation.id), 303)
    return _settings_page(course, form, evaluation, error)


@bp.post("/cursos/<int:course_id>/evaluaciones/<int:evaluation_id>/eliminar")
@login_required
def delete(course_id: int, evaluation_id: int):
    course = editable_course_or_abort(course_id)
    evaluation = _evaluation_or_404(course.id, evaluation_id)
    title = evaluation.title
    try:
        service.delete_evaluation(evaluation)
    except service.EvaluationError as err:
        flash(str(err), "error")
        return redirect(url_for("evaluations.edit", course_id=course.id, evaluation_id=evaluation.id), 303)
    flash(f"Evaluación «{title}» eliminada.", "success")
    return redirect(url_for("courses.lessons_edit", course_id=course.id), 303)


@bp.post("/cursos/<int:course_id>/evaluaciones/<int:evaluation_id>/copiar-preguntas")
@login_required
def copy_questions(course_id: int, evaluation_id: int):
    course = editable_course_or_abort(course_id)
    evaluation = _evaluation_or_404(course.id, evaluation_id)
    raw = request.form.get("source", "")
    source = service.evaluation_in(course.id, int(raw)) if raw.isdigit() else None
    try:
        if source is None:
            raise service.EvaluationError("Elige otra evaluación de este mismo curso.")
        copied = service.copy_questions(evaluation, source)
    except service.EvaluationError as err:
        db.session.rollback()
        flash(str(err), "error")
    else:
        flash(f"{copied} pregunta{'s' if copied != 1 else ''} copiada{'s' if copied != 1 else ''} de «{source.title}».",
              "success")
    return redirect(url_for("evaluations.edit", course_id=course.id, evaluation_id=evaluation.id) + "#preguntas",
                    303)


@bp.route("/cursos/<int:course_id>/evaluaciones/<int:evaluation_id>/preguntas", methods=["POST"])
@bp.route("/cursos/<int:course_id>/evaluaciones/<int:evaluation_id>/preguntas/<int:question_id>",
          methods=["GET", "POST"])
@login_required
def question(course_id: int, evaluation_id: int, question_id: int | None = None):
    """Add a question (no id) or change one; the same form on both."""
    course = editable_course_or_abort(course_id)
    evaluation = _evaluation_or_404(course.id, evaluation_id)
    existing = None
    if question_id is not None:
        existing = service.question_in(evaluation, question_id)
        if existing is None:
            abort(404)
    form = QuestionForm(prefix="q", obj=existing if request.method == "GET" else None)
    error = None
    if request.method == "POST" and form.validate():
        try:
            service.save_question(evaluation, form.data_for_service(request.form), existing)
        except service.EvaluationError as err:
            db.session.rollback()
            error = str(err)
        else:
            flash("Pregunta guardada.", "success")
            return redirect(url_for("evaluations.edit", course_id=course.id, evaluation_id=evaluation.id)
                            + "#preguntas", 303)
    if existing is not None and request.method == "GET":
        form.true_is_correct.data = "1" if existing.options and existing.options[0].correct else "0"
    status = 422 if error or form.errors else 200
    return render_template("evaluations/question.html", course=course, evaluation=evaluation, question=existing,
                           form=form, error=error, kinds=QUESTION_KINDS, max_options=service.MAX_OPTIONS,
                           posted=request.form if request.method == "POST" else None), status


@bp.post("/cursos/<int:course_id>/evaluaciones/<int:evaluation_id>/preguntas/<int:question_id>/<action>")
@login_required
def question_action(course_id: int, evaluation_id: int, question_id: int, action: str):
    """Move a question up or down, or delete it."""
    course = editable_course_or_abort(course_id)
    evaluation = _evaluation_or_404(course.id, evaluation_id)
    question = service.question_in(evaluation, question_id)
    if question is None or action not in ("mover", "eliminar"):
        abort(404)
    try:
        if action == "mover":
            service.move_question(evaluation, question, request.form.get("direction", ""))
        else:
            service.delete_question(evaluation, question)
            flash("Pregunta eliminada.", "success")
    except service.EvaluationError as err:
        flash(str(err), "error")
    return redirect(url_for("evaluations.edit", course_id=course.id, evaluation_id=evaluation.id) + "#preguntas",
                    303)


# --- Taking (participants; staff see the summary) --------------------------------------------------


def _locked(course, gate):
    """The same refusal as a locked lesson (403), whatever the page looked like."""
    if _is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url_for("courses.course", course_id=course.id)
        return response
    return render_template("courses/locked.html", course=course, sence_session=gate.sence_session,
                           title="Contenido bloqueado", message=courses.LOCKED_MESSAGE), 403


@bp.get("/cursos/<int:course_id>/evaluaciones/<int:evaluation_id>")
@login_required
def show(course_id: int, evaluation_id: int):
    course = viewable_course_or_abort(course_id)
    evaluation = _evaluation_or_404(course.id, evaluation_id)
    if current_user.is_participant and not evaluation.published:
        abort(404)
    gate = courses.gate_for(current_user, course)
    if gate.locked:
        return _locked(course, gate)
    state = service.availability(evaluation, current_user.id) if current_user.is_participant else None
    return render_template("evaluations/show.html", course=course, evaluation=evaluation, state=state,
                           now=utcnow(), counted=_counted(course.id, evaluation.id))


def _counted(course_id: int, evaluation_id: int):
    if not current_user.is_participant:
        return None
    return counted_results(course_id).get((current_user.id, evaluation_id))


def _participant_gate(course_id: int, evaluation_id: int):
    course = viewable_course_or_abort(course_id)
    if not current_user.is_participant:
        abort(403)
    evaluation = _evaluation_or_404(course.id, evaluation_id)
    if not evaluation.published:
        abort(404)
    gate = courses.gate_for(current_user, course)
    return course, evaluation, gate


@bp.post("/cursos/<int:course_id>/evaluaciones/<int:evaluation_id>/comenzar")
@login_required
def start(course_id: int, evaluation_id: int):
    course, evaluation, gate = _participant_gate(course_id, evaluation_id)
    if gate.locked:
        return _locked(course, gate)
    try:
        attempt = service.start_attempt(evaluation, current_user.id)
    except service.EvaluationError as err:
        flash(str(err), "error")
        return redirect(url_for("evaluations.show", course_id=course.id, evaluation_id=evaluation.id), 303)
    return redirect(_attempt_url(attempt), 303)


def _attempt_url(attempt, page: int | None = None) -> str:
    return url_for("evaluations.attempt", course_id=attempt.evaluation.course_id,
                   evaluation_id=attempt.evaluation_id, evaluation_attempt_id=attempt.id, p=page)


def _participant_course(course_id: int):
    """The course of a participant's attempt pages, only read there (its id, title and dates): a plain row."""
    course = viewable_course_for_page(course_id)
    if not current_user.is_participant:
        abort(403)
    return course


def _own_attempt(course_id: int, evaluation_id: int, evaluation_attempt_id: int):
    """The same checks as _participant_gate, with the evaluation read together with the attempt."""
    course = _participant_course(course_id)
    attempt = service.own_attempt(course.id, evaluation_id, current_user.id, evaluation_attempt_id)
    if attempt is None:
        abort(404)
    return course, attempt.evaluation, courses.gate_for(current_user, course), attempt


def _own_attempt_on_paper(course_id: int, evaluation_id: int, evaluation_attempt_id: int):
    """_own_attempt's checks, with the course and the attempt in progress as plain rows (the question page, the
    answer save); the caller asks for the gate it needs."""
    course = _participant_course(course_id)
    attempt = service.own_attempt_on_paper(course.id, evaluation_id, current_user.id, evaluation_attempt_id)
    if attempt is None:
        abort(404)
    return course, attempt


def _page_number(attempt, questions) -> int:
    """One question per screen: ?p=1..n, and n+1 for the review before sending."""
    raw = request.args.get("p", "")
    page = int(raw) if raw.isdigit() else 1
    return min(max(page, 1), len(questions) + 1)


@bp.get("/cursos/<int:course_id>/evaluaciones/<int:evaluation_id>/intentos/<int:evaluation_attempt_id>")
@without_transaction
@signed_in_as_row
@login_required
def attempt(course_id: int, evaluation_id: int, evaluation_attempt_id: int):
    """The question page reads the attempt in progress as plain rows; an overdue attempt is graded, and a submitted
    one shown, from the EvaluationAttempt. The gate reads the latest SENCE attempt with the course (the bar)."""
    course, attempt = _own_attempt_on_paper(course_id, evaluation_id, evaluation_attempt_id)
    ids = (course.id, evaluation_id, current_user.id, evaluation_attempt_id)
    gate = courses.gate_for(current_user, course, page=True)
    if gate.locked:
        return _locked(course, gate)
    now = utcnow()
    if not attempt.submitted and service.overdue(attempt, now):
        begin_transaction()  # the attempt and its answers are graded together
        close_overdue(course.id, now, current_user.id)
        flash("Se acabó el tiempo: tu intento se envió con las respuestas guardadas.", "warning")
        attempt = service.own_attempt_on_paper(*ids)
    if attempt.submitted:
        graded = service.own_attempt(*ids)
        return _result_page(course, graded.evaluation, graded, now)
    evaluation = attempt.evaluation
    questions = service.paper(attempt)
    answers = {a.question_id: a.value for a in attempt.answers}
    page = _page_number(attempt, questions) if evaluation.layout == "one" else None
    shown = questions if page is None else questions[page - 1:page]
    return render_template("evaluations/attempt.html", course=course, evaluation=evaluation, attempt=attempt,
                           questions=questions, shown=shown, page=page, answers=answers,
                           answered={qid for qid, v in answers.items() if v.get("options") or v.get("text")},
                           remaining=service.remaining_seconds(attempt, now), sence_session=gate.sence_session,
                           timer=live_timer_state(gate.sence_session, course) if gate.sence_session else None)


def _result_page(course, evaluation, attempt, now):
    return render_template("evaluations/result.html", course=course, evaluation=evaluation, attempt=attempt,
                           questions=service.ordered_questions(attempt),
                           answers={a.question_id: a for a in attempt.answers},
                           show_answers=service.answers_shown(attempt, now),
                           options_of=lambda q: service.ordered_options(attempt, q))


def _posted_answers(form: MultiDict) -> dict[int, list[str]]:
    """`shown` lists the questions on the page: one left blank (a radio unchecked) is saved blank."""
    answers = {}
    for raw in form.getlist("shown"):
        if raw.isdigit():
            answers[int(raw)] = [v.strip() if len(v) < 6000 else v[:6000] for v in form.getlist(f"q{raw}")]
    return answers


@bp.post("/cursos/<int:course_id>/evaluaciones/<int:evaluation_id>/intentos/<int:evaluation_attempt_id>/respuestas")
@without_transaction
@signed_in_as_row
@changes_no_sence_session
@login_required
def save(course_id: int, evaluation_id: int, evaluation_attempt_id: int):
    """Save answers as the participant goes (htmx, on every change), or on Anterior/Siguiente without JS. The
    hottest write: the account, the course with its gate and the attempt are read as plain rows, and the
    answers written through Core."""
    course, attempt = _own_attempt_on_paper(course_id, evaluation_id, evaluation_attempt_id)
    gate = courses.gate_for(current_user, course)
    if gate.locked:
        return _locked(course, gate)
    try:
        service.save_answers(attempt, _posted_answers(request.form))
    except service.EvaluationError as err:
        return _refused(attempt, str(err))
    if _is_htmx():
        return render_template("evaluations/_saved.html", saved_at=utcnow())
    go = request.form.get("go", "")
    return redirect(_attempt_url(attempt, int(go) if go.isdigit() else None), 303)


def _refused(attempt, message: str):
    """A refused save or submission changes nothing; the participant lands on the attempt's page with why."""
    flash(message, "error")
    if _is_htmx():
        response = make_response(render_template("evaluations/_saved.html", error=message), 200)
        response.headers["HX-Redirect"] = _attempt_url(attempt)
        return response
    return redirect(_attempt_url(attempt), 303)


@bp.post("/cursos/<int:course_id>/evaluaciones/<int:evaluation_id>/intentos/<int:evaluation_attempt_id>/enviar")
@login_required
def submit(course_id: int, evaluation_id: int, evaluation_attempt_id: int):
    course, evaluation, gate, attempt = _own_attempt(course_id, evaluation_id, evaluation_attempt_id)
    if gate.locked:
        return _locked(course, gate)
    try:
        service.submit_attempt(attempt, _posted_answers(request.form))
    except service.EvaluationError as err:
        return _refused(attempt, str(err))
    flash("Evaluación enviada.", "success")
    return redirect(_attempt_url(attempt), 303)


@bp.get("/cursos/<int:course_id>/mis-calificaciones")
@login_required
def my_grades(course_id: int):
    course = viewable_course_or_abort(course_id)
    if not current_user.is_participant:
        abort(403)
    book = gradebook(course, Filters())
    row = next(r for r in book.rows if r.user.id == current_user.id)
    evaluations = [e for e in book.evaluations if e.published]
    return render_template("evaluations/my_grades.html", course=course, row=row, evaluations=evaluations,
                           labels=STATUS_LABELS)


# --- Gradebook, rule, overrides, manual grading (staff) --------------------------------------------


@bp.route("/cursos/<int:course_id>/calificaciones")
@login_required
def gradebook_page(course_id: int):
    course = editable_course_or_abort(course_id)
    filters = Filters.from_args(request.args)
    book = gradebook(course, filters)
    rule_form = RuleForm(obj=rule_for(course.id), prefix="rule")
    template = "evaluations/_gradebook_table.html" if _is_htmx() else "evaluations/gradebook.html"
    return render_template(template, course=course, book=book, filters=filters, labels=STATUS_LABELS,
                           rule_form=rule_form, pending=service.pending_attempts(course.id))


@bp.route("/cursos/<int:course_id>/calificaciones.<fmt>")
@login_required
def gradebook_export(course_id: int, fmt: str):
    if fmt not in MIMETYPES:
        abort(404)
    course = editable_course_or_abort(course_id)
    book = gradebook(course, Filters.from_args(request.args))
    content = exports.gradebook_csv(book) if fmt == "csv" else exports.gradebook_xlsx(book)
    record_access("gradebook_export", course_id=course.id, people=len(book.rows))
    return _download(content, fmt, "calificaciones", course.id)


@bp.post("/cursos/<int:course_id>/calificaciones/regla")
@login_required
def rule(course_id: int):
    course = editable_course_or_abort(course_id)
    form = RuleForm(prefix="rule")
    if form.validate_on_submit():
        service.save_rule(course.id, form.data)
        flash("Regla de aprobación guardada.", "success")
        return redirect(url_for("evaluations.gradebook_page", course_id=course.id), 303)
    book = gradebook(course, Filters())
    return render_template("evaluations/gradebook.html", course=course, book=book, filters=Filters(),
                           labels=STATUS_LABELS, rule_form=form, pending=service.pending_attempts(course.id),
                           rule_open=True), 422


def _participant_or_404(course, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or enrollment_of(user, course.id) is None:
        abort(404)
    return user


@bp.route("/cursos/<int:course_id>/calificaciones/participantes/<int:user_id>", methods=["GET", "POST"])
@login_required
def participant(course_id: int, user_id: int):
    """One participant's grades and status for staff, with the override form and its log."""
    course = editable_course_or_abort(course_id)
    user = _participant_or_404(course, user_id)
    form = OverrideForm()
    error = None
    if form.validate_on_submit():
        try:
            service.set_override(course.id, user.id, form.status.data or None, form.reason.data, current_user)
        except service.EvaluationError as err:
            error = str(err)
        else:
            flash("Estado registrado.", "success")
            return redirect(url_for("evaluations.participant", course_id=course.id, user_id=user.id), 303)
    attempts = [a for e in service.evaluations_of(course.id) for a in service.availability(e, user.id).attempts]
    status = 422 if error or form.errors else 200
    if request.method == "GET":
        record_access("grades_detail", course_id=course.id, subject_user_id=user.id)
    return render_template("evaluations/participant.html", course=course, user=user, form=form, error=error,
                           status=participant_status(course.id, user.id), labels=STATUS_LABELS,
                           attempts=attempts, log=service.override_log(course.id, user.id)), status


@bp.route("/cursos/<int:course_id>/calificaciones/intentos/<int:evaluation_attempt_id>", methods=["GET", "POST"])
@login_required
def review(course_id: int, evaluation_attempt_id: int):
    course = editable_course_or_abort(course_id)
    attempt = service.attempt_in_course(course.id, evaluation_attempt_id)
    if attempt is None:
        abort(404)
    questions = service.ordered_questions(attempt)
    error = None
    if request.method == "POST":
        try:
            service.review(attempt, points_from(request.form, [q.id for q in questions]), current_user)
        except service.EvaluationError as err:
            db.session.rollback()
            error = str(err)
        else:
            flash(f"Revisión guardada: nota {attempt.grade:.1f}".replace(".", ",") + ".", "success")
            return redirect(url_for("evaluations.gradebook_page", course_id=course.id), 303)
    return render_template("evaluations/review.html", course=course, attempt=attempt, questions=questions,
                           answers={a.question_id: a for a in attempt.answers}, error=error,
                           options_of=lambda q: service.ordered_options(attempt, q),
                           posted=request.form), (422 if error else 200)


