"""SENCE pages: OTEC and course settings (admin), the login/logout trip (participant), SENCE's callbacks.

The blueprint has no prefix so that the callbacks can live at the short root paths /s/r and /s/e
(UrlRetoma/UrlError must fit in 100 characters); every other route spells out /sence.
"""

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth.access import admin_required
from app.courses.access import course_or_404, viewable_course_or_abort
from app.extensions import csrf, db
from app.security import sence_trip_policy
from app.sence import journal, log, preflight, protocol, service, settings
from app.sence.forms import ENVIRONMENT_LABELS, CourseSenceForm, OtecForm, TokenForm
from app.sence.gate import is_gated, latest_attempt, live_session
from app.sence.models import Otec, SenceToken
from app.sence.tokens import TokenKeyError
from app.timeutil import utcnow

bp = Blueprint("sence", __name__)

STATUS_FLASH = {
    "opened": ("Sesión SENCE iniciada: tu asistencia quedó registrada.", "success"),
    "closed": ("Sesión SENCE cerrada correctamente.", "success"),
}


def _meta() -> service.Meta:
    return service.Meta(remote_addr=request.remote_addr or "", origin=request.headers.get("Origin", ""),
                        referer=request.headers.get("Referer", ""))


def _fragment_or_page(fragment: str, page: str, **context):
    return render_template(fragment if request.headers.get("HX-Request") else page, **context)


# --- Template helpers for _controls.html (included by the course player) ---------------------


@bp.app_template_global()
def sence_live_session(course):
    if not current_user.is_authenticated:
        return None
    return live_session(current_user.id, course.id)


@bp.app_template_global()
def sence_controls_state(course, sence_session) -> dict:
    """What the SENCE bar shows this user: gated or not, ready or not, a trip without answer, the last failure."""
    user = current_user._get_current_object()  # read a dozen times: not through the proxy each time
    gated = user.is_authenticated and is_gated(user, course)
    state = {"show": bool(sence_session) or gated, "staff": user.is_authenticated and user.is_staff,
             "in_bar": gated, "ready": True, "failure": None, "waiting": None, "waiting_long": False,
             "help_links": protocol.HELP_LINKS}
    if not state["show"]:
        return state
    if sence_session is None:  # only the login button needs it; its checks were ~13 % of a course page
        state["ready"] = not service.course_problems(course) and bool(user.run)
    attempt = latest_attempt(user.id, course.id)
    waiting = service.waiting_attempt(attempt)
    if waiting and (attempt.kind == "login") == (sence_session is None):
        state["waiting"], state["waiting_long"] = waiting
    guidance = service.failure_guidance(user.id, course.id, attempt)
    if guidance:
        attempt, errors = guidance
        state["failure"] = {"attempt": attempt, "errors": errors, "advice": service.retry_advice(errors),
                            "participant_help": any(e.who == "participant" for e in errors)}
    return state


# --- Participant: the trip to SENCE ----------------------------------------------------------


@bp.get("/sence/cursos/<int:course_id>/controles")
@login_required
def controls(course_id: int):
    course = viewable_course_or_abort(course_id)
    if not request.headers.get("HX-Request"):
        return redirect(url_for("courses.course", course_id=course.id))
    return render_template("sence/_controls.html", course=course,
                           sence_session=live_session(current_user.id, course.id))


@bp.post("/sence/cursos/<int:course_id>/iniciar")
@login_required
def start_login(course_id: int):
    return _start(course_id, service.start_login)


@bp.post("/sence/cursos/<int:course_id>/cerrar")
@login_required
def start_logout(course_id: int):
    return _start(course_id, service.start_logout)


def _start(course_id: int, starter):
    course = viewable_course_or_abort(course_id)
    if not current_user.is_participant:
        abort(403)
    via_popup = request.form.get("via_popup") == "1"
    try:
        outgoing = starter(current_user, course, via_popup, _meta())
    except (service.NotReady, TokenKeyError) as err:
        message = str(err) if isinstance(err, service.NotReady) else (
            "No se pudo preparar la conexión con SENCE. Contacta a tu OTEC.")
        return render_template("sence/problem.html", course=course, message=message, popup=via_popup), 409
    response = make_response(render_template("sence/autosubmit.html", outgoing=outgoing, course=course))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = sence_trip_policy()  # SENCE → ClaveÚnica → SENCE
    return response


@bp.get("/sence/intentos/<int:attempt_id>")
@login_required
def result(attempt_id: int):
    """Main-window landing after a callback: the cookie is back (same-site GET), so flash and go on."""
    attempt = service.owned_attempt(attempt_id, current_user.id)
    if attempt is None:
        abort(404)
    status = service.result_status(attempt) if attempt.status != "pending" else ""
    if status in STATUS_FLASH:
        flash(*STATUS_FLASH[status])
    elif status == "failed":
        flash("SENCE no registró la operación. " + service.retry_advice(service.attempt_errors(attempt)), "error")
    return redirect(url_for("courses.course", course_id=attempt.course_id), 303)


# --- SENCE's callbacks (cross-site POST: no cookie, no CSRF token) ---------------------------


@bp.post("/s/r")
@csrf.exempt
def retoma():
    return _callback("retoma")


@bp.post("/s/e")
@csrf.exempt
def url_error():
    return _callback("error")


def _callback(endpoint: str):
    outcome = journal.receive(endpoint, request.form, _meta())
    if outcome is None:  # kept on disk for the sweep: the participant learns it is not lost
        return render_template("sence/processing.html"), 202
    attempt = outcome.attempt
    if outcome.result == "refused":
        return render_template("sence/refused.html", message=service.refusal_message(outcome.reason),
                               attempt=attempt), outcome.http_status
    if not attempt.via_popup:
        return redirect(url_for("sence.result", attempt_id=attempt.id), 303)
    return render_template("sence/answer.html", outcome=outcome, attempt=attempt,
                           target_origin=_public_origin(), help_links=protocol.HELP_LINKS,
                           retry_advice=service.retry_advice(outcome.errors))


def _public_origin() -> str:
    parts = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    return f"{parts.scheme}://{parts.netloc}"


# --- Admin: OTECs and tokens -----------------------------------------------------------------


@bp.route("/sence/otecs", methods=["GET", "POST"])
@admin_required
def otecs():
    form = OtecForm()
    if form.validate_on_submit():
        try:
            otec = settings.save_otec(None, form.name.data, form.rut.data)
        except settings.RuleError as err:
            form.rut.errors.append(str(err))
        else:
            flash(f"OTEC «{otec.name}» creado. Agrega ahora su token SENCE.", "success")
            return redirect(url_for("sence.otec", otec_id=otec.id), 303)
    return render_template("sence/otecs.html", form=form, otecs=settings.otecs(),
                           url_problems=service.return_url_problems(), urls=service.return_urls(),
                           unmatched=settings.unmatched_exchanges()), (422 if form.errors else 200)


def _otec_or_404(otec_id: int) -> Otec:
    otec = db.session.get(Otec, otec_id)
    if otec is None:
        abort(404)
    return otec


@bp.route("/sence/otecs/<int:otec_id>", methods=["GET", "POST"])
@admin_required
def otec(otec_id: int):
    otec = _otec_or_404(otec_id)
    form = OtecForm(obj=otec, prefix="otec")
    if form.validate_on_submit():
        try:
            settings.save_otec(otec, form.name.data, form.rut.data)
        except settings.RuleError as err:
            form.rut.errors.append(str(err))
        else:
            flash("Datos del OTEC guardados.", "success")
            return redirect(url_for("sence.otec", otec_id=otec.id), 303)
    return _otec_page(otec, form, TokenForm(prefix="token"))


def _otec_page(otec, form, token_form):
    status = 422 if form.errors or token_form.errors else 200
    return render_template("sence/otec.html", otec=otec, form=form, token_form=token_form,
                           tokens=settings.token_rows(otec)), status


@bp.post("/sence/otecs/<int:otec_id>/tokens")
@admin_required
def token_add(otec_id: int):
    otec = _otec_or_404(otec_id)
    token_form = TokenForm(prefix="token")
    if token_form.validate_on_submit():
        try:
            row = settings.add_token(otec, token_form.token.data, token_form.label.data, token_form.expires_on.data)
        except (settings.RuleError, TokenKeyError) as err:
            token_form.token.errors.append(str(err))
        else:
            flash(f"Token {row.hint} agregado.", "success")
            return redirect(url_for("sence.otec", otec_id=otec.id), 303)
    return _otec_page(otec, OtecForm(obj=otec, prefix="otec", formdata=None), token_form)


@bp.post("/sence/otecs/<int:otec_id>/tokens/<int:token_id>/revocar")
@admin_required
def token_revoke(otec_id: int, token_id: int):
    token = db.session.get(SenceToken, token_id)
    if token is None or token.otec_id != otec_id:
        abort(404)
    settings.revoke_token(token)
    flash(f"Token {token.hint} revocado. Los registros que lo usaron se conservan.", "success")
    return redirect(url_for("sence.otec", otec_id=otec_id), 303)


# --- Admin: a course's SENCE settings and log ------------------------------------------------


@bp.route("/sence/cursos/<int:course_id>/configuracion", methods=["GET", "POST"])
@admin_required
def course_settings(course_id: int):
    course = course_or_404(course_id)
    current = settings.settings_of(course)
    form = CourseSenceForm(obj=current, previous_environment=current.environment)
    form.otec_id.choices = [(0, "— Sin OTEC —")] + [(o.id, f"{o.name} ({o.rut})") for o in settings.otecs()]
    form.exempt_group_ids.choices = [(g.id, g.name) for g in course.groups]
    if request.method == "GET":
        form.otec_id.data = current.otec_id or 0
    url_problems = service.return_url_problems()
    if form.validate_on_submit() and not url_problems:
        settings.save_course_settings(course, form.data)
        flash("Configuración SENCE guardada.", "success")
        return redirect(url_for("sence.course_settings", course_id=course.id), 303)
    failed = bool(form.errors) or (request.method == "POST" and bool(url_problems))
    return render_template(
        "sence/course_settings.html", course=course, form=form, url_problems=url_problems,
        urls=service.return_urls(), problems=service.course_problems(course), environments=ENVIRONMENT_LABELS,
        current=current, review=preflight.review_courses([course], url_problems)[course.id],
    ), (422 if failed else 200)


@bp.get("/sence/cursos/<int:course_id>/registro")
@admin_required
def course_log(course_id: int):
    course = course_or_404(course_id)
    filters, errors = log.parse_filters(request.args)
    pages = {name: request.args.get(arg, 1, type=int) for name, arg in
             (("attempts", "pi"), ("sessions", "ps"), ("exchanges", "px"))}
    return render_template("sence/course_log.html", course=course, now=utcnow(), describe=protocol.describe,
                           parse_glosa=protocol.parse_glosa, filters=filters, filter_errors=errors,
                           results=log.RESULTS, pages=log.course_log(course.id, filters, pages))


bp.add_app_template_filter(log.spanish, "sence_value")
