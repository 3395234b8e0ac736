"""Certificates: public verification, the participant's download, and the admins' issue/revoke/signer pages."""

import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from app.auth.access import admin_required
from app.auth.models import User
from app.certificates import service
from app.certificates.forms import RevokeForm, SignerForm
from app.certificates.models import Certificate
from app.certificates.text import run_masked
from app.courses.access import (
    ENROLLMENT_EXTRAS,
    NOT_READ,
    EnrollmentExtra,
    course_or_404,
    enrollment_extra,
    viewable_course_or_abort,
)
from app.extensions import db, limiter
from app.privacy.models import Pseudonym
from app.privacy.trail import record_access
from app.sence.models import Otec

bp = Blueprint("certificates", __name__)

# Public and unauthenticated: a folio is unguessable, and the limit keeps anyone from trying many.
VERIFY_LIMIT = "20 per minute;200 per hour"
NOT_FOUND = "No encontramos un certificado con ese folio. Revisa que lo hayas escrito tal como aparece en el documento."


ENROLLMENT_EXTRAS["certificate_folio"] = lambda: EnrollmentExtra((service.enrollment_folio(),))


@bp.app_template_global("my_certificate_folio")
def my_certificate_folio(course_id: int) -> str | None:
    """The folio of the signed-in participant's valid certificate in the course (the course page offers it),
    read with their enrollment when the page loaded it."""
    user = current_user._get_current_object()
    if not user.is_authenticated or not user.is_participant:
        return None
    read = enrollment_extra(user, course_id, "certificate_folio")
    return service.valid_folio(course_id, user.id) if read is NOT_READ else read[0]


# --- Public verification -------------------------------------------------------------------------------------


@bp.get("/verificar")
@limiter.limit(VERIFY_LIMIT)
def verify_form():
    typed = request.args.get("folio", "")
    if not typed:
        return render_template("certificates/verify.html", cert=None, typed="", error=None)
    cert = service.find(typed)
    if cert is None:
        return render_template("certificates/verify.html", cert=None, typed=typed[:40], error=NOT_FOUND), 404
    return redirect(url_for("certificates.verify", folio=cert.folio), 303)


@bp.get("/verificar/<folio>")
@limiter.limit(VERIFY_LIMIT)
def verify(folio: str):
    cert = service.find(folio)
    if cert is None:
        return render_template("certificates/verify.html", cert=None, typed="", error=NOT_FOUND), 404
    # After a suppression the snapshot holds the pseudonym: the public page says so instead of showing a code.
    suppressed = db.session.get(Pseudonym, cert.user_id) is not None
    return render_template("certificates/verify.html", cert=cert, suppressed=suppressed, typed="", error=None,
                           run="" if suppressed else run_masked(cert.participant_run))


# --- Downloads -----------------------------------------------------------------------------------------------


def _pdf_response(cert: Certificate) -> Response:
    return send_file(io.BytesIO(service.pdf_of(cert)), mimetype="application/pdf",
                     as_attachment=True, download_name=service.pdf_name(cert))


@bp.get("/cursos/<int:course_id>/certificado.pdf")
@login_required
def my_pdf(course_id: int):
    course = viewable_course_or_abort(course_id)
    cert = service.valid_certificate(course.id, current_user.id)
    if cert is None:
        abort(404)
    return _pdf_response(cert)


def _certificate_or_404(cert_id: int) -> Certificate:
    cert = db.session.get(Certificate, cert_id)
    if cert is None:
        abort(404)
    return cert


@bp.get("/certificados/<int:cert_id>.pdf")
@admin_required
def pdf(cert_id: int):
    cert = _certificate_or_404(cert_id)
    record_access("certificate_pdf", course_id=cert.course_id, subject_user_id=cert.user_id)
    return _pdf_response(cert)


@bp.get("/certificados/cursos/<int:course_id>/certificados.zip")
@admin_required
def course_zip(course_id: int):
    course = course_or_404(course_id)
    certs = [c for c in service.of_course(course.id) if c.is_valid]
    response = Response(service.zip_of(certs), mimetype="application/zip")
    record_access("certificates_zip", course_id=course.id, people=len(certs))
    response.headers["Content-Disposition"] = f'attachment; filename="certificados-curso{course.id}.zip"'
    return response


# --- Issuing, revoking, reissuing ----------------------------------------------------------------------------


@bp.post("/certificados/cursos/<int:course_id>/emitir")
@admin_required
def issue(course_id: int):
    course = course_or_404(course_id)
    user_id = request.form.get("user_id", "")
    try:
        if user_id.isdigit():
            user = db.session.get(User, int(user_id))
            if user is None:
                abort(404)
            cert = service.issue(course, user, current_user)
            flash(f"Certificado emitido a {user.full_name}: folio {cert.folio}.", "success")
        else:
            result = service.issue_all(course, current_user)
            flash(f"Certificados emitidos: {len(result.issued)}. Ya tenían uno válido: {result.already}.", "success")
    except service.RuleError as err:
        flash(str(err), "error")
    return redirect(url_for("closeout.page", course_id=course.id), 303)


@bp.post("/certificados/<int:cert_id>/revocar")
@admin_required
def revoke(cert_id: int):
    cert = _certificate_or_404(cert_id)
    form = RevokeForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    else:
        try:
            service.revoke(cert, form.reason.data, current_user)
            flash(f"Certificado {cert.folio} revocado.", "success")
        except service.RuleError as err:
            flash(str(err), "error")
    return redirect(url_for("closeout.page", course_id=cert.course_id), 303)


@bp.post("/certificados/<int:cert_id>/reemitir")
@admin_required
def reissue(cert_id: int):
    cert = _certificate_or_404(cert_id)
    course_id = cert.course_id
    form = RevokeForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    else:
        try:
            new = service.reissue(cert, form.reason.data, current_user)
            flash(f"Certificado reemitido con el folio {new.folio}; el folio {cert.folio} quedó revocado.", "success")
        except service.RuleError as err:
            flash(str(err), "error")
    return redirect(url_for("closeout.page", course_id=course_id), 303)


# --- The OTEC's signer ---------------------------------------------------------------------------------------


def _otec_or_404(otec_id: int) -> Otec:
    otec = db.session.get(Otec, otec_id)
    if otec is None:
        abort(404)
    return otec


@bp.route("/certificados/otecs/<int:otec_id>/firma", methods=["GET", "POST"])
@admin_required
def signer(otec_id: int):
    otec = _otec_or_404(otec_id)
    current = service.signer_of(otec)
    form = SignerForm(obj=current)
    if form.validate_on_submit():
        upload = form.signature.data
        try:
            service.save_signer(otec, form.signer_name.data, form.signer_title.data,
                                upload.read() if upload else None, bool(form.remove_signature.data))
        except service.RuleError as err:
            form.signature.errors.append(str(err))
        else:
            flash("Firma de los certificados guardada.", "success")
            return redirect(url_for("certificates.signer", otec_id=otec.id), 303)
    return render_template("certificates/signer.html", otec=otec, form=form, signer=current), \
        (422 if form.errors else 200)


@bp.get("/certificados/otecs/<int:otec_id>/firma.png")
@admin_required
def signature_image(otec_id: int):
    signer = service.signer_of(_otec_or_404(otec_id))
    path = service.signatures_dir() / signer.signature_file if signer.signature_file else None
    if path is None or not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/png")
