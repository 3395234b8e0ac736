from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_template_attribute,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.exceptions import RequestEntityTooLarge

from app.auth.service import signed_in_as_row
from app.courses import outline, progress, service, uploads
from app.courses.access import editable_course_or_abort, viewable_course_for_page, viewable_course_or_abort
from app.courses.content import external_images, render_markdown
from app.courses.timer import live_timer_state, timer_state
from app.extensions import without_transaction
from app.timeutil import utcnow

bp = Blueprint("courses", __name__)


def _is_htmx() -> bool:
    """A partial request; htmx's history restore (back button) sends HX-Request too but needs the whole page."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


@bp.app_template_filter("markdown")
def markdown_filter(text: str) -> Markup:
    return Markup(render_markdown(text))  # noqa: S704 (sanitized by nh3 in render_markdown)


@bp.app_template_global("lesson_list")
def lesson_list(course, player, placed=None) -> Markup:
    """The player's list items: each lesson's rendered once per worker, content version and state (current or not,
    completed or not), then joined with the placed evaluations' items (`placed`, evaluations' hook). The loop in
    Jinja cost ~5 % of a course page."""
    variants = outline.cached("lesson-items", course, lambda: _lesson_item_variants(player.lessons))
    current = player.current.id if player.current else None
    items = []
    for lesson in player.lessons:
        items.append(variants[(lesson.id, lesson.id == current, lesson.id in player.completed)])
        if placed:
            items.append(placed.after(lesson.id))
    if placed:
        items.append(placed.after(None))
    return Markup("\n".join(items))  # noqa: S704 (every item is Markup already: rendered macros)


def _lesson_item_variants(lessons) -> dict:
    item = get_template_attribute("courses/_lesson_item.html", "item")
    return {(lesson.id, current, done): item(lesson, number, current, done)
            for number, lesson in enumerate(lessons, 1) for current in (False, True) for done in (False, True)}


@bp.app_template_filter("filesize")
def filesize(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")


@bp.app_template_filter("clock")
def clock(delta) -> str:
    """A duration as H:MM:SS, the same format site.js ticks with."""
    seconds = max(0, int(delta.total_seconds()))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


# --- Participant pages -----------------------------------------------------------------------


@bp.route("/")
@login_required
def dashboard():
    sessions = service.open_sessions(current_user.id) if current_user.is_participant else []
    if _is_htmx():
        return render_template("courses/_open_sessions.html", open_sessions=sessions, now=utcnow())
    courses = service.courses_for(current_user)
    course_progress = progress.for_participant(current_user, courses) if current_user.is_participant else {}
    return render_template("courses/dashboard.html", courses=courses, open_sessions=sessions, now=utcnow(),
                           progress=course_progress)


def _lesson_or_404(course_id: int, lesson_id: int):
    lesson = service.lesson_in(course_id, lesson_id)
    if lesson is None:
        abort(404)
    return lesson


def _player_lesson_or_404(course, lesson_id: int):
    lesson = service.player_lesson(course, lesson_id)
    if lesson is None:
        abort(404)
    return lesson


def _player_page(course, gate, lesson=None, status: int = 200):
    """The course page, or only its content area (#player) when htmx asks for it."""
    player = service.player_for(current_user, course, lesson, record=not gate.locked)
    context = {"course": course, "gate": gate, "player": player, "sence_session": gate.sence_session,
               "locked_message": service.LOCKED_MESSAGE}
    if _is_htmx():
        return render_template("courses/_player.html", **context), status
    timer = None
    if gate.sence_session is not None:
        timer = live_timer_state(gate.sence_session, course)
    elif gate.gated:
        timer = timer_state(current_user.id, course.id)
    if timer is not None and timer.status == "ended":  # no SENCE session can open: do not ask for one
        context["locked_message"] = service.ENDED_MESSAGE
    return render_template("courses/course.html", timer=timer, **context), status


@bp.get("/cursos/<int:course_id>")
@without_transaction
@signed_in_as_row
@login_required
def course(course_id: int):
    course = viewable_course_for_page(course_id)
    lesson = None
    if request.args.get("leccion", "").isdigit():
        lesson = service.player_lesson(course, int(request.args["leccion"]))
    return _player_page(course, service.gate_for(current_user, course, page=not _is_htmx()), lesson)


@bp.get("/cursos/<int:course_id>/lecciones/<int:lesson_id>")
@without_transaction
@signed_in_as_row
@login_required
def lesson(course_id: int, lesson_id: int):
    course = viewable_course_for_page(course_id)
    lesson = _player_lesson_or_404(course, lesson_id)
    gate = service.gate_for(current_user, course, page=not _is_htmx())
    if gate.locked:
        return _locked(course, gate)
    return _player_page(course, gate, lesson)


def _locked(course, gate):
    """403 with the same words as the course page, whatever the client did with CSS or JS."""
    template = "_error.html" if _is_htmx() else "courses/locked.html"
    return render_template(template, course=course, sence_session=gate.sence_session, title="Contenido bloqueado",
                           message=service.LOCKED_MESSAGE), 403


@bp.post("/cursos/<int:course_id>/lecciones/<int:lesson_id>/completada")
@login_required
def lesson_completed(course_id: int, lesson_id: int):
    course = viewable_course_or_abort(course_id)
    lesson = _player_lesson_or_404(course, lesson_id)
    if not current_user.is_participant:
        abort(403)
    gate = service.gate_for(current_user, course)
    if gate.locked:
        return _locked(course, gate)
    service.set_completed(current_user, lesson, request.form.get("done", "1") == "1")
    if _is_htmx():
        return _player_page(course, gate, lesson)
    return redirect(url_for("courses.lesson", course_id=course.id, lesson_id=lesson.id), 303)


@bp.get("/cursos/<int:course_id>/material/<int:material_id>")
@login_required
def material(course_id: int, material_id: int):
    course = viewable_course_or_abort(course_id)
    material = service.material_in(course.id, material_id)
    if material is None:
        abort(404)
    gate = service.gate_for(current_user, course)
    if gate.locked:
        return _locked(course, gate)
    path = uploads.path_of(material.stored_name)
    if not path.is_file():
        current_app.logger.error("material %s: file %s is missing", material.id, material.stored_name)
        abort(404)
    inline = material.kind in uploads.INLINE_KINDS
    response = send_file(path, mimetype=material.content_type, as_attachment=not inline,
                         download_name=material.original_name, conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    if material.kind == "pdf":  # shown in an <iframe> of the lesson page: framing by our own pages only
        response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    else:
        response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; sandbox"
    return response


@bp.get("/cursos/<int:course_id>/timer")
def timer(course_id: int):
    """The hot path (every 30 s per participant): one query, no User object, no layout; 204 when unchanged."""
    if not _is_htmx():
        return redirect(url_for("courses.course", course_id=course_id))
    user_id, session_version = _signed_in_user_id()
    state = timer_state(user_id, course_id, session_version=session_version) if user_id is not None else None
    if state is None:  # rare: signed out, account deactivated, staff, or not enrolled here
        if not current_user.is_authenticated:
            return render_template("courses/_timer_signed_out.html"), 286
        if current_user.is_staff:
            return "", 286
        abort(403)
    shown = request.args.get("shown", "")
    if shown == state.key and not state.final:
        return "", 204
    response = make_response(_render_timer(state, course_id), 286 if state.final else 200)
    if shown and _visible(shown) != state.content_visible:
        response.headers["HX-Trigger-After-Settle"] = "player:refresh, sence:changed"
    return response


def _render_timer(state, course_id: int) -> str:
    """Rendered without Flask's context processors (Flask-Login's would load the User just to offer it) and without
    the template globals, which Jinja copies into every new context (a third of this render, bench/README.md): the
    fragment uses neither. Otherwise as Template.render does it."""
    template = current_app.jinja_env.get_template("courses/_timer.html")
    context = template.new_context({"timer": state, "course_id": course_id}, shared=True)
    try:
        return template.environment.concat(template.root_render_func(context))
    except Exception:
        template.environment.handle_exception()


def _signed_in_user_id() -> tuple[int | None, int]:
    """Flask-Login's user id and session version ("id:version", app/auth) read from the signed session cookie;
    timer_state checks the account is active and the version current."""
    try:
        user_id, _, version = session["_user_id"].partition(":")
        return int(user_id), int(version)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None, 0


def _visible(key: str) -> bool:
    return key.split("-", 1)[0] in ("none", "open", "warning")


# --- Signing out with an open SENCE session --------------------------------------------------


@bp.get("/salir/confirmar")
@login_required
def logout_confirm():
    template = "courses/_logout_choices.html" if _is_htmx() else "courses/logout_confirm.html"
    return render_template(template, open_sessions=service.open_sessions(current_user.id), now=utcnow())


# --- Instructor pages: lessons and material --------------------------------------------------


@bp.route("/cursos/<int:course_id>/lecciones/gestionar", methods=["GET", "POST"])
@login_required
def lessons_edit(course_id: int):
    course = editable_course_or_abort(course_id)
    error = None
    if request.method == "POST":
        try:
            lesson = service.add_lesson(course, request.form.get("title"), request.form.get("body", ""))
        except service.RuleError as err:
            error = str(err)
        else:
            flash(f"Lección «{lesson.title}» creada. Agrega ahora su material.", "success")
            return redirect(url_for("courses.lesson_edit", course_id=course.id, lesson_id=lesson.id), 303)
    return render_template("courses/lessons_edit.html", course=course, error=error,
                           form=request.form), (422 if error else 200)


@bp.route("/cursos/<int:course_id>/lecciones/<int:lesson_id>/editar", methods=["GET", "POST"])
@login_required
def lesson_edit(course_id: int, lesson_id: int):
    course = editable_course_or_abort(course_id)
    lesson = _lesson_or_404(course.id, lesson_id)
    error = None
    if request.method == "POST":
        try:
            service.update_lesson(lesson, request.form.get("title"), request.form.get("body", ""))
        except service.RuleError as err:
            error = str(err)
        else:
            flash("Lección guardada.", "success")
            return redirect(url_for("courses.lesson_edit", course_id=course.id, lesson_id=lesson.id), 303)
    return _lesson_edit_page(course, lesson, error=error, form=request.form)


def _lesson_edit_page(course, lesson, *, error=None, upload_error=None, form=None, status=None):
    status = status or (422 if error or upload_error else 200)
    return render_template("courses/lesson_edit.html", course=course, lesson=lesson, error=error,
                           upload_error=upload_error, form=form or {}, external=external_images(lesson.body),
                           **_upload_context()), status


@bp.post("/cursos/<int:course_id>/lecciones/<int:lesson_id>/vista-previa")
@login_required
def lesson_preview(course_id: int, lesson_id: int):
    editable_course_or_abort(course_id)
    body = request.form.get("body", "")
    return render_template("courses/_preview.html", body=body, external=external_images(body))


@bp.post("/cursos/<int:course_id>/lecciones/<int:lesson_id>/mover")
@login_required
def lesson_move(course_id: int, lesson_id: int):
    course = editable_course_or_abort(course_id)
    service.move_lesson(_lesson_or_404(course.id, lesson_id), request.form.get("direction", ""))
    return redirect(url_for("courses.lessons_edit", course_id=course.id), 303)


@bp.post("/cursos/<int:course_id>/lecciones/<int:lesson_id>/eliminar")
@login_required
def lesson_delete(course_id: int, lesson_id: int):
    course = editable_course_or_abort(course_id)
    lesson = _lesson_or_404(course.id, lesson_id)
    title = lesson.title
    service.delete_lesson(lesson)
    flash(f"Lección «{title}» eliminada con su material.", "success")
    return redirect(url_for("courses.lessons_edit", course_id=course.id), 303)


@bp.post("/cursos/<int:course_id>/lecciones/<int:lesson_id>/material")
@login_required
def material_upload(course_id: int, lesson_id: int):
    course = editable_course_or_abort(course_id)
    lesson = _lesson_or_404(course.id, lesson_id)
    try:
        material = service.add_material(lesson, request.files.get("file"), request.form.get("title", ""))
    except uploads.UploadRefused as err:
        return _upload_refused(course, lesson, str(err), 422, request.form.get("title", ""))
    flash(f"Archivo «{material.display_title}» subido.", "success")
    target = url_for("courses.lesson_edit", course_id=course.id, lesson_id=lesson.id) + "#material"
    if _is_htmx():  # the upload ran with a progress bar, on this same page: reload it, with the new file listed
        return "", 204, {"HX-Refresh": "true"}
    return redirect(target, 303)


def _upload_refused(course, lesson, message: str, status: int, title: str = ""):
    """With htmx, only the upload form with its error (the page and its URL stay); without, the whole page.

    `title` comes in as an argument: after a 413 the form must not be read again."""
    if _is_htmx():
        return render_template("courses/_upload_form.html", course=course, lesson=lesson, upload_error=message,
                               title=title, **_upload_context()), status
    return _lesson_edit_page(course, lesson, upload_error=message, status=status)


def _upload_context() -> dict:
    return {"accept": uploads.ACCEPT, "allowed_label": uploads.ALLOWED_LABEL,
            "max_mb": current_app.config["MAX_UPLOAD_MB"]}


@bp.errorhandler(RequestEntityTooLarge)
def too_large(err):
    """The body passed MAX_CONTENT_LENGTH (often while the CSRF check reads the form): say so beside the form."""
    args = request.view_args or {}
    if request.endpoint != "courses.material_upload" or not current_user.is_authenticated:
        return render_template("error.html", code=413, title="Archivo demasiado grande",
                               message=uploads.too_big_message()), 413
    course = editable_course_or_abort(args["course_id"])
    lesson = _lesson_or_404(course.id, args["lesson_id"])
    return _upload_refused(course, lesson, uploads.too_big_message(), 413)


@bp.post("/cursos/<int:course_id>/material/<int:material_id>/nombre")
@login_required
def material_title(course_id: int, material_id: int):
    course = editable_course_or_abort(course_id)
    material = _material_or_404(course.id, material_id)
    service.rename_material(material, request.form.get("title", ""))
    flash(f"Nombre del material: «{material.display_title}».", "success")
    return redirect(url_for("courses.lesson_edit", course_id=course.id, lesson_id=material.lesson_id) + "#material",
                    303)


@bp.post("/cursos/<int:course_id>/material/<int:material_id>/mover")
@login_required
def material_move(course_id: int, material_id: int):
    course = editable_course_or_abort(course_id)
    material = _material_or_404(course.id, material_id)
    service.move_material(material, request.form.get("direction", ""))
    return redirect(url_for("courses.lesson_edit", course_id=course.id, lesson_id=material.lesson_id) + "#material",
                    303)


@bp.post("/cursos/<int:course_id>/material/<int:material_id>/eliminar")
@login_required
def material_delete(course_id: int, material_id: int):
    course = editable_course_or_abort(course_id)
    material = _material_or_404(course.id, material_id)
    lesson_id, name = material.lesson_id, material.original_name
    service.delete_material(material)
    flash(f"Archivo «{name}» eliminado.", "success")
    return redirect(url_for("courses.lesson_edit", course_id=course.id, lesson_id=lesson_id) + "#material", 303)


def _material_or_404(course_id: int, material_id: int):
    material = service.material_in(course_id, material_id)
    if material is None:
        abort(404)
    return material

