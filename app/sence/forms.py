"""Admin forms for OTECs, tokens and a course's SENCE settings; they refuse what SENCE would refuse."""

import re

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.meta import DefaultMeta
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.sence import protocol
from app.sence.models import ENVIRONMENTS

REQUIRED = "Este campo es obligatorio."
ENVIRONMENT_LABELS = {
    "simulator": "Simulador (sin conexión a SENCE)",
    "test": "Pruebas de SENCE (rcetest, no registra asistencia)",
    "production": "Producción de SENCE (registra asistencia real)",
}
MODALITY_LABELS = {"sincronico": "Sincrónico", "asincronico": "Asincrónico"}
DEFAULT_TARGET = {"sincronico": 75, "asincronico": 40}
_EMAIL_RE = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


class SpanishForm(FlaskForm):
    """WTForms' own messages ("Not a valid integer value") in Spanish, without Flask-Babel."""

    class Meta:
        locales = ("es_CL", "es")

        def get_translations(self, form):
            return DefaultMeta.get_translations(self, form)


def _int_or_zero(value) -> int:
    """Coerce a posted choice; anything unreadable becomes 0, which the SENCE checks then refuse clearly."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _sence_says(code: int) -> str:
    return f" (SENCE lo rechazaría con el error {code}: «{protocol.ERRORS[code].manual}»)"


class OtecForm(SpanishForm):
    name = StringField("Nombre del OTEC", validators=[DataRequired(REQUIRED), Length(max=200)])
    rut = StringField("RUT del OTEC", validators=[DataRequired(REQUIRED), Length(max=20)],
                      description="Sin puntos, con guion y dígito verificador: 76123456-7.")

    def validate_rut(self, field):
        problems = protocol.validate_rut_otec(field.data or "")
        if problems:
            raise ValidationError(problems[0][2] + _sence_says(209))
        field.data = protocol.sence_run(field.data)


class TokenForm(SpanishForm):
    label = StringField("Etiqueta", validators=[Optional(), Length(max=100)],
                        description="Para reconocerlo, p. ej. «Token 2025».")
    token = PasswordField("Token SENCE", validators=[DataRequired(REQUIRED)],
                          description="El UUID de 36 caracteres generado en https://sistemas.sence.cl/rts.")
    expires_on = DateField("Vence el", validators=[Optional()],
                           description="Opcional. Desde esa fecha el token deja de usarse.")

    def validate_token(self, field):
        if not protocol.is_token_well_formed(field.data):
            raise ValidationError("El token debe ser un UUID de 36 caracteres, como "
                                  "8FCF1A2B-3C4D-4E5F-8A9B-0C1D2E3F4F8F." + _sence_says(303))
        field.data = field.data.strip().upper()  # one spelling, whatever the admin pasted


class CourseSenceForm(SpanishForm):
    otec_id = SelectField("OTEC", coerce=_int_or_zero)
    linea = SelectField("Línea de capacitación", coerce=_int_or_zero, validate_choice=False,
                        choices=[(n, f"{n} — {name}") for n, name in protocol.LINEAS.items()],
                        description="Línea 1: código SENCE en blanco. Línea 3: código SENCE de 10 caracteres. "
                                    "Código del curso de 7 a 50 caracteres, salvo en la línea 6 (FPT).")
    cod_sence = StringField("Código SENCE (CodSence)", validators=[Length(max=20)])
    codigo_curso = StringField("Código del curso (CodigoCurso / ID acción)", validators=[Length(max=60)])
    environment = SelectField("Ambiente", choices=list(ENVIRONMENT_LABELS.items()))
    confirm_production = BooleanField(
        "Entiendo que SENCE no puede borrar los registros de producción: cada inicio y cierre de sesión "
        "quedará registrado como asistencia real.")
    login_required = BooleanField("Exigir inicio de sesión SENCE para ver el contenido")
    session_limit_minutes = IntegerField(
        "Límite de la sesión (minutos)",
        validators=[InputRequired(REQUIRED), NumberRange(
            min=10, max=protocol.SESSION_LIMIT_MAX_MINUTES,
            message=f"Entre 10 y {protocol.SESSION_LIMIT_MAX_MINUTES} minutos.")],
        description="SENCE no cuenta las sesiones de más de 3 horas (180 minutos): ese es el máximo.")
    modality = SelectField("Modalidad", choices=list(MODALITY_LABELS.items()))
    connectivity_target = IntegerField(
        "Meta de conectividad (%)",
        validators=[Optional(), NumberRange(min=0, max=100, message="Entre 0 y 100.")],
        description="En blanco: 75 % sincrónico, 40 % asincrónico.")
    alert_emails = TextAreaField("Correos de alerta", validators=[Optional(), Length(max=2000)],
                                 description="Reciben cada intento fallido. Uno por línea o separados por coma.")
    exempt_group_ids = SelectMultipleField("Grupos exentos", coerce=int, validators=[Optional()],
                                           description="Sus participantes no necesitan sesión SENCE.")

    def __init__(self, *args, previous_environment: str = "simulator", **kwargs):
        super().__init__(*args, **kwargs)
        self.previous_environment = previous_environment

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.environment.data not in ENVIRONMENTS:
            return False  # the choice check has already said so
        for name, code, message in protocol.validate_course_codes(
            self.linea.data, self.cod_sence.data, self.codigo_curso.data, self.environment.data
        ):
            target = {"LineaCapacitacion": self.linea, "CodSence": self.cod_sence}.get(name, self.codigo_curso)
            target.errors.append(message + _sence_says(code))
            ok = False
        if self.environment.data == "simulator" and current_app.config["ENV"] == "production":
            self.environment.errors.append(
                "Esta instalación de Pizarra está en producción: el simulador no registra asistencia y los "
                "participantes no llegarían a SENCE. Elige «Pruebas de SENCE» o «Producción de SENCE».")
            ok = False
        if self.environment.data == "production" and self.previous_environment != "production" \
                and not self.confirm_production.data:
            self.confirm_production.errors.append(
                "Para pasar a producción confirma que entiendes que SENCE no puede borrar esos registros.")
            ok = False
        return ok

    def validate_alert_emails(self, field):
        wrong = [a for a in split_emails(field.data) if not _EMAIL_RE.match(a)]
        if wrong:
            raise ValidationError(f"No parece un correo: {', '.join(wrong[:3])}.")


def split_emails(text: str | None) -> list[str]:
    raw = (text or "").replace(";", ",").replace("\n", ",")
    return [a.strip() for a in raw.split(",") if a.strip()]
