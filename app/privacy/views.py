"""Privacy pages: the notice (and the gate that shows it), "Mis datos", the requests queue, settings and the
access trail."""

import csv
import io
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from app.auth.access import admin_required
from app.auth.models import User
from app.extensions import db
from app.privacy import export, retention, service, suppression
from app.privacy.forms import AcknowledgeForm, AnswerForm, NoteForm, NoticeForm, RequestForm, retention_form
from app.privacy.models import PrivacyRequest, Pseudonym
from app.privacy.trail import record_access
from app.timeutil import format_chile, utcnow

bp = Blueprint("privacy", __name__)

# Pages a participant reaches before acknowledging the notice: signing in and out, passwords (issue 10 adds a
# forced change at first sign-in under auth.*), the notice itself, health checks and files.
GATE_OPEN_BLUEPRINTS = {"auth", "health", "static"}
GATE_OPEN_ENDPOINTS = {"static", "privacy.notice", "privacy.acknowledge", "courses.timer"}
ACK_SESSION_KEY = "privacy_ack"


@bp.app_template_filter("run_masked")
def run_masked(run):
    return service.mask_run(run)


@bp.before_app_request
def notice_gate():
    """A participant who has not acknowledged the current notice sees it before any other page.

    Only full-page GETs are sent there: a POST or an htmx fragment passes (nothing the participant did is lost),
    and the acknowledged version is remembered in the session so that the check is one cheap query.
    """
    if not current_app.config.get("PRIVACY_NOTICE_GATE", True) or request.method != "GET":
        return None
    if request.headers.get("HX-Request") or request.endpoint in GATE_OPEN_ENDPOINTS:
        return None
    if request.blueprint in GATE_OPEN_BLUEPRINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated or not current_user.is_participant:
        return None
    version = service.current_version()
    if session.get(ACK_SESSION_KEY) == version:
        return None
    if service.has_acknowledged(current_user.id, version):
        session[ACK_SESSION_KEY] = version
        return None
    return redirect(url_for("privacy.notice", next=request.full_path.rstrip("?")))


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("courses.dashboard")


def _fragment_or_page(fragment: str, page: str, **context):
    return render_template(fragment if request.headers.get("HX-Request") else page, **context)


# --- Notice ---------------------------------------------------------------------------------------------


@bp.route("/privacidad")
def notice():
    current = service.current_notice()
    pending = (current_user.is_authenticated
               and not service.has_acknowledged(current_user.id, current.version))
    form = AcknowledgeForm(version=current.version, next=request.args.get("next", ""))
    return render_template("privacy/notice.html", notice=current, pending=pending, form=form)


@bp.route("/privacidad/aceptar", methods=["POST"])
@login_required
def acknowledge():
    form = AcknowledgeForm()
    if not form.validate_on_submit() or not form.version.data.isdigit():
        flash("No se pudo registrar tu lectura del aviso. Inténtalo de nuevo.", "error")
        return redirect(url_for("privacy.notice"))
    try:
        ack = service.acknowledge(current_user, int(form.version.data))
    except service.RuleError as err:
        flash(str(err), "error")
        return redirect(url_for("privacy.notice", next=form.next.data or ""))
    session[ACK_SESSION_KEY] = ack.version
    flash("Gracias: quedó registrado que leíste el aviso de privacidad.", "success")
    return redirect(_safe_next(form.next.data))


# --- Mis datos ------------------------------------------------------------------------------------------


@bp.route("/mis-datos")
@login_required
def my_data():
    data = export.collect(current_user)
    return render_template("privacy/my_data.html", data=data, sections=export.SECTIONS,
                           requests=service.requests_of(current_user), form=RequestForm(),
                           blocked=service.is_blocked(current_user.id))


@bp.route("/mis-datos/descargar.zip")
@login_required
def my_data_zip():
    return _zip(current_user, "mis-datos")


def _zip(user: User, name: str) -> Response:
    response = Response(export.bundle(user), mimetype="application/zip")
    stamp = format_chile(utcnow(), "%Y%m%d-%H%M")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{user.id}-{stamp}.zip"'
    return response


@bp.route("/mis-datos/solicitudes", methods=["POST"])
@login_required
def request_new():
    form = RequestForm()
    if form.validate_on_submit():
        try:
            filed = service.file_request(current_user, form.kind.data, form.detail.data)
        except service.RuleError as err:
            form.detail.errors.append(str(err))
        else:
            flash(f"Solicitud de {filed.kind_label.lower()} recibida. La OTEC responde a más tardar el "
                  f"{format_chile(filed.due_at, '%d-%m-%Y')}.", "success")
            return redirect(url_for("privacy.my_request", request_id=filed.id))
    data = export.collect(current_user)
    return render_template("privacy/my_data.html", data=data, sections=export.SECTIONS,
                           requests=service.requests_of(current_user), form=form,
                           blocked=service.is_blocked(current_user.id)), 422


@bp.route("/mis-datos/solicitudes/<int:request_id>")
@login_required
def my_request(request_id: int):
    filed = service.own_request_or_none(current_user, request_id) or abort(404)
    return render_template("privacy/my_request.html", filed=filed)


# --- Staff: the requests queue --------------------------------------------------------------------------


@bp.route("/admin/privacidad/solicitudes")
@admin_required
def requests():
    status = request.args.get("estado", "open")
    return render_template("privacy/requests.html", rows=service.queue(status), status=status, now=utcnow(),
                           is_overdue=service.is_overdue)


def _request_or_404(request_id: int) -> PrivacyRequest:
    return db.session.get(PrivacyRequest, request_id) or abort(404)


def _detail(filed: PrivacyRequest, status: int = 200, note_form=None, answer_form=None):
    return render_template("privacy/request.html", filed=filed, note_form=note_form or NoteForm(),
                           answer_form=answer_form or AnswerForm(), now=utcnow(), is_overdue=service.is_overdue,
                           blocked=bool(filed.user_id) and service.is_blocked(filed.user_id),
                           suppressed=bool(filed.user_id) and db.session.get(Pseudonym, filed.user_id) is not None
                           ), status


@bp.route("/admin/privacidad/solicitudes/<int:request_id>")
@admin_required
def request_detail(request_id: int):
    filed = _request_or_404(request_id)
    if filed.user_id:
        record_access("participant_detail", subject_user_id=filed.user_id)
    return _detail(filed)


@bp.route("/admin/privacidad/solicitudes/<int:request_id>/nota", methods=["POST"])
@admin_required
def request_note(request_id: int):
    filed, form = _request_or_404(request_id), NoteForm()
    if not form.validate_on_submit():
        return _detail(filed, 422, note_form=form)
    service.add_note(filed, current_user, form.text.data)
    flash("Nota guardada.", "success")
    return redirect(url_for("privacy.request_detail", request_id=filed.id))


@bp.route("/admin/privacidad/solicitudes/<int:request_id>/responder", methods=["POST"])
@admin_required
def request_answer(request_id: int):
    filed, form = _request_or_404(request_id), AnswerForm()
    if form.validate_on_submit():
        try:
            service.answer(filed, current_user, form.outcome.data, form.text.data)
        except service.RuleError as err:
            flash(str(err), "error")  # the form is gone once answered: the message goes on top
        else:
            flash("Respuesta enviada: la persona la ve en «Mis datos».", "success")
            return redirect(url_for("privacy.request_detail", request_id=filed.id))
    return _detail(filed, 422, answer_form=form)


def _action(request_id: int, action, done: str):
    filed = _request_or_404(request_id)
    try:
        action(filed, current_user)
    except service.RuleError as err:
        db.session.rollback()
        flash(str(err), "error")
    else:
        flash(done, "success")
    return redirect(url_for("privacy.request_detail", request_id=filed.id))


@bp.route("/admin/privacidad/solicitudes/<int:request_id>/bloquear", methods=["POST"])
@admin_required
def request_block(request_id: int):
    return _action(request_id, service.block, "Tratamiento bloqueado: no se enviarán correos a esta persona.")


@bp.route("/admin/privacidad/solicitudes/<int:request_id>/desbloquear", methods=["POST"])
@admin_required
def request_unblock(request_id: int):
    return _action(request_id, service.unblock, "Bloqueo levantado.")


@bp.route("/admin/privacidad/solicitudes/<int:request_id>/suprimir", methods=["POST"])
@admin_required
def request_suppress(request_id: int):
    return _action(request_id, suppression.suppress,
                   "Datos suprimidos: la evidencia SENCE queda bajo seudónimo y la cuenta quedó cerrada.")


@bp.route("/admin/privacidad/solicitudes/<int:request_id>/datos.zip")
@admin_required
def request_bundle(request_id: int):
    filed = _request_or_404(request_id)
    user = filed.user or abort(404)
    record_access("data_bundle", subject_user_id=user.id)
    service.add_event(filed, current_user, "bundle", "Se generó el ZIP de sus datos.")
    db.session.commit()
    return _zip(user, "datos")


# --- Staff: settings and the access trail ---------------------------------------------------------------


@bp.route("/admin/privacidad", methods=["GET", "POST"])
@admin_required
def settings():
    notice_form = NoticeForm(prefix="notice")
    policies = retention.policies()
    form_class = retention_form(policies)
    values = {f"days_{p.data_class}": p.days for p in policies}
    settings_form = form_class(prefix="settings", deadline_days=service.deadline_days(), **values)
    status = 200
    if request.method == "POST" and request.form.get("which") == "notice":
        if notice_form.validate_on_submit():
            try:
                published = service.publish_notice(notice_form.body.data, current_user)
            except service.RuleError as err:
                notice_form.body.errors.append(str(err))
            else:
                flash(f"Versión {published.version} del aviso publicada.", "success")
                return redirect(url_for("privacy.settings"))
        status = 422
    elif request.method == "POST":
        if settings_form.validate_on_submit():
            service.set_deadline_days(settings_form.deadline_days.data)
            retention.set_days({p.data_class: getattr(settings_form, f"days_{p.data_class}").data for p in policies})
            flash("Plazos guardados.", "success")
            return redirect(url_for("privacy.settings"))
        status = 422
    current = service.current_notice()
    if request.method == "GET" or not notice_form.body.data:
        notice_form.body.data = notice_form.body.data or current.body
    return render_template("privacy/settings.html", notice=current, notice_form=notice_form,
                           settings_form=settings_form, policies=policies, classes=retention.DATA_CLASSES,
                           count_labels=retention.COUNT_LABELS,
                           runs=retention.recent_runs()), status


@bp.route("/admin/privacidad/accesos")
@admin_required
def trail():
    page = max(request.args.get("pagina", 1, type=int) or 1, 1)
    rows, people, more = service.trail(page, subject_user_id=request.args.get("persona", type=int))
    return render_template("privacy/trail.html", rows=rows, people=people, more=more, page=page,
                           actions=service.ACCESS_ACTIONS)


@bp.route("/admin/privacidad/accesos.csv")
@admin_required
def trail_export():
    rows, people, _more = service.trail(page=0)
    record_access("trail_export", people=len({r.subject_user_id for r in rows if r.subject_user_id}))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Fecha (hora de Chile)", "Quién", "Quién (id)", "Acción", "Dirección", "Curso (id)",
                     "Persona (id)", "Personas cubiertas"])
    for row in rows:
        actor = people.get(row.actor_id)
        writer.writerow([export.csv_value(value) for value in (
            row.at, actor.full_name if actor else "", row.actor_id, service.ACCESS_ACTIONS.get(row.action, row.action),
            row.path, row.course_id, row.subject_user_id, row.people)])
    response = Response(buffer.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    stamp = format_chile(utcnow(), "%Y%m%d-%H%M")
    response.headers["Content-Disposition"] = f'attachment; filename="registro-accesos-{stamp}.csv"'
    return response
