from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from app.privacy.models import OUTCOMES, REQUEST_KINDS
from app.privacy.retention import DATA_CLASSES

REQUIRED = "Este campo es obligatorio."
NUMBER = "Escribe un número entero de días."
LONG = Length(max=4000, message="Máximo 4000 caracteres.")
NOTICE_LENGTH = "El aviso debe tener al menos 50 caracteres (y a lo más 20.000)."


class AcknowledgeForm(FlaskForm):
    version = HiddenField(validators=[DataRequired()])
    next = HiddenField()


class RequestForm(FlaskForm):
    kind = SelectField("Tipo de solicitud", choices=[("", "Elige…"), *REQUEST_KINDS.items()],
                       validators=[DataRequired("Elige el tipo de solicitud.")])
    detail = TextAreaField("Detalle", validators=[LONG],
                           description="Para una rectificación, indica el dato incorrecto y el correcto.")


class NoteForm(FlaskForm):
    text = TextAreaField("Nota interna o acción realizada", validators=[DataRequired(REQUIRED), LONG])


class AnswerForm(FlaskForm):
    outcome = SelectField("Resultado", choices=[("", "Elige…"), *OUTCOMES.items()],
                          validators=[DataRequired("Elige el resultado.")])
    text = TextAreaField("Respuesta para la persona", validators=[DataRequired(REQUIRED), LONG])


class NoticeForm(FlaskForm):
    body = TextAreaField("Texto del aviso", render_kw={"rows": 18},
                         validators=[DataRequired(REQUIRED), Length(min=50, max=20000, message=NOTICE_LENGTH)],
                         description="Markdown: «## » para títulos, «- » para listas. Al guardar se publica una "
                                     "versión nueva y cada participante la verá al entrar.")


class SettingsForm(FlaskForm):
    deadline_days = IntegerField("Plazo para responder solicitudes (días corridos)",
                                 validators=[InputRequired(NUMBER), NumberRange(1, 90, "Entre 1 y 90 días.")],
                                 description="La Ley 21.719 da 30 días corridos desde la presentación.")


def retention_form(policies):
    """The settings form with one days field per data class (the classes live in retention.py)."""

    class Form(SettingsForm):
        pass

    for name, data_class in DATA_CLASSES.items():
        setattr(Form, f"days_{name}", IntegerField(
            f"{data_class.label} (días)", description=data_class.why,
            validators=[InputRequired(NUMBER), NumberRange(30, 7300, "Entre 30 y 7300 días.")]))
    return Form
