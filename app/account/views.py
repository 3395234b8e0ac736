"""Mi cuenta: every signed-in user sees and edits their own e-mail and phones (what alerts and reminders use)."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.account import service
from app.account.forms import ContactForm

bp = Blueprint("account", __name__)


@bp.route("/mi-cuenta", methods=["GET", "POST"])
@login_required
def account():
    form = ContactForm(obj=current_user)
    if form.validate_on_submit():
        error = service.update_contact(current_user, email=form.email.data, phone=form.phone.data,
                                       mobile=form.mobile.data, password=form.current.data)
        if error is None:
            flash("Tus datos de contacto fueron guardados.", "success")
            return redirect(url_for("account.account"))
        field = form.current if "contraseña" in error else form.email
        field.errors.append(error)
    return render_template("account/account.html", form=form), (422 if form.errors else 200)
