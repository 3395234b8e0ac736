"""The Correos page: every queued, sent and refused e-mail, readable by the OTEC's admins."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from app.auth.access import admin_required
from app.extensions import db
from app.notify import service
from app.notify.models import STATUSES, OutboxMessage
from app.timeutil import utcnow

bp = Blueprint("notify", __name__, url_prefix="/admin/correos")

STATUS_LABELS = {"pending": "Pendiente", "sent": "Enviado", "failed": "Rechazado"}
KIND_LABELS = {"alert": "Alerta de falla", "reminder": "Recordatorio de cierre",
               "reset": "Restablecer contraseña", "invitation": "Invitación", "sic": "Aviso de envío SIC",
               "closeout": "Cierre del curso"}


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("pagina", "1")))
    except ValueError:
        return 1


@bp.route("/")
@admin_required
def outbox():
    status = request.args.get("estado") or None
    if status not in (None, *STATUSES):
        status = None
    page = _page_number()
    messages, has_more = service.list_messages(status, page)
    return render_template("notify/outbox.html", messages=messages, has_more=has_more, page=page, status=status,
                           counts=service.status_counts(), mail_server=current_app.config.get("MAIL_SERVER"),
                           now=utcnow(),
                           status_labels=STATUS_LABELS, kind_labels=KIND_LABELS)


def _message_or_404(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return message


@bp.route("/<int:message_id>")
@admin_required
def message(message_id: int):
    return render_template("notify/message.html", message=_message_or_404(message_id),
                           mail_server=current_app.config.get("MAIL_SERVER"), now=utcnow(),
                           status_labels=STATUS_LABELS, kind_labels=KIND_LABELS)


@bp.route("/<int:message_id>/reintentar", methods=["POST"])
@admin_required
def retry(message_id: int):
    message = _message_or_404(message_id)
    if message.status == "sent":
        flash("Ese correo ya fue enviado.", "info")
    else:
        service.retry_now(message)
        flash("El correo se enviará en el próximo barrido (cada minuto).", "success")
    return redirect(url_for("notify.message", message_id=message.id))
