"""Forms for building evaluations, the course rule, status overrides and manual grading."""

from datetime import UTC
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.evaluations.models import COUNTING, FEEDBACK, LAYOUTS, QUESTION_KINDS, SENCE_REQUIREMENTS
from app.evaluations.service import MAX_OPTIONS
from app.timeutil import CHILE, to_chile

REQUIRED = "Este campo es obligatorio."


class CommaDecimalField(DecimalField):
    """A decimal typed as Chileans write it (4,5) or with a dot (4.5)."""

    def process_formdata(self, valuelist):
        super().process_formdata([value.strip().replace(",", ".") for value in valuelist])
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class EvaluationForm(FlaskForm):
    title = StringField("Título", validators=[DataRequired(REQUIRED), Length(max=200)])
    instructions = TextAreaField("Instrucciones", validators=[Optional(), Length(max=5000)])
    after_lesson_id = SelectField("Ubicación en el curso", coerce=int)
    weight = CommaDecimalField("Ponderación en la nota final", places=1, default=Decimal("1"), validators=[
        InputRequired(REQUIRED), NumberRange(min=0, max=1000, message="Ingresa una ponderación entre 0 y 1000.")],
        description="Peso relativo: con pesos 1 y 3, la segunda vale el triple. 0 = no cuenta.")
    layout = SelectField("Presentación", choices=list(LAYOUTS.items()))
    time_limit_minutes = IntegerField("Tiempo límite (minutos)", validators=[
        Optional(), NumberRange(min=1, max=600, message="Entre 1 y 600 minutos, o en blanco sin límite.")])
    max_attempts = IntegerField("Intentos permitidos", default=1, validators=[
        InputRequired(REQUIRED), NumberRange(min=1, max=20, message="Entre 1 y 20 intentos.")])
    counting = SelectField("Intento que cuenta", choices=list(COUNTING.items()))
    opens_at = DateTimeLocalField("Apertura (hora de Chile)", format=LOCAL_FORMAT, validators=[Optional()])
    closes_at = DateTimeLocalField("Cierre (hora de Chile)", format=LOCAL_FORMAT, validators=[Optional()])
    shuffle_questions = BooleanField("Preguntas en orden aleatorio")
    shuffle_options = BooleanField("Opciones en orden aleatorio")
    feedback = SelectField("Retroalimentación", choices=list(FEEDBACK.items()))
    manual_review = BooleanField("Revisión manual (la nota queda pendiente hasta que el instructor revise)")
    published = BooleanField("Publicada (visible para los participantes)")

    def fill_from(self, evaluation) -> None:
        """Show stored UTC times in Chile time."""
        for name in ("opens_at", "closes_at"):
            value = getattr(evaluation, name)
            getattr(self, name).data = to_chile(value).replace(tzinfo=None) if value else None
        self.after_lesson_id.data = evaluation.after_lesson_id or 0

    def data_for_service(self) -> dict:
        data = {name: getattr(self, name).data for name in (
            "title", "instructions", "weight", "layout", "time_limit_minutes", "max_attempts", "counting",
            "shuffle_questions", "shuffle_options", "feedback", "manual_review", "published")}
        data["title"] = " ".join(data["title"].split())
        data["instructions"] = data["instructions"] or ""
        data["after_lesson_id"] = self.after_lesson_id.data or None
        for name in ("opens_at", "closes_at"):
            local = getattr(self, name).data
            data[name] = local.replace(tzinfo=CHILE).astimezone(UTC) if local else None
        return data


class QuestionForm(FlaskForm):
    kind = SelectField("Tipo", choices=list(QUESTION_KINDS.items()))
    text = TextAreaField("Enunciado", validators=[DataRequired(REQUIRED), Length(max=5000)])
    points = CommaDecimalField("Puntaje", places=2, default=Decimal("1"), validators=[
        InputRequired(REQUIRED), NumberRange(min=Decimal("0.01"), max=1000, message="Entre 0,01 y 1000 puntos.")])
    expected = StringField("Respuesta esperada", validators=[Optional(), Length(max=200)],
                           description="Respuesta corta: variantes aceptadas separadas por «|» (no importan "
                                       "mayúsculas ni tildes). Numérica: el valor, por ejemplo 12,5.")
    tolerance = CommaDecimalField("Tolerancia (numérica, ±)", places=4, default=Decimal("0"), validators=[
        Optional(), NumberRange(min=0, message="La tolerancia no puede ser negativa.")])
    true_is_correct = SelectField("Respuesta correcta (verdadero o falso)",
                                  choices=[("1", "Verdadero"), ("0", "Falso")], default="1", validate_choice=False)

    def data_for_service(self, formdata) -> dict:
        return {"kind": self.kind.data, "text": self.text.data, "points": self.points.data,
                "expected": self.expected.data or "", "tolerance": self.tolerance.data or Decimal(0),
                "true_is_correct": self.true_is_correct.data == "1", "options": options_from(formdata)}


def options_from(formdata) -> list[tuple[str, bool]]:
    """The option rows of the question form: option_text_N and option_correct_N, N = 1..MAX_OPTIONS."""
    return [(formdata.get(f"option_text_{n}", "")[:500], formdata.get(f"option_correct_{n}") == "1")
            for n in range(1, MAX_OPTIONS + 1)]


class RuleForm(FlaskForm):
    exigencia_pct = IntegerField("Exigencia (%)", default=60, validators=[
        InputRequired(REQUIRED), NumberRange(min=1, max=99, message="La exigencia va de 1 %% a 99 %%.")],
        description="Porcentaje de logro que corresponde a la nota 4,0 (habitual: 60 %).")
    min_final_grade = CommaDecimalField("Nota final mínima", places=1, default=Decimal("4.0"), validators=[
        InputRequired(REQUIRED), NumberRange(min=1, max=7, message="Una nota entre 1,0 y 7,0.")])
    min_lessons_pct = IntegerField("Lecciones completadas, mínimo (%)", default=0, validators=[
        InputRequired(REQUIRED), NumberRange(min=0, max=100, message="Entre 0 y 100 %%.")])
    sence_requirement = SelectField("Requisito SENCE", choices=list(SENCE_REQUIREMENTS.items()))
    min_connectivity_pct = IntegerField("Conectividad mínima (%)", default=0, validators=[
        InputRequired(REQUIRED), NumberRange(min=0, max=100, message="Entre 0 y 100 %%.")],
        description="Solo con el requisito «Conectividad mínima»: horas contadas ÷ horas del curso.")


class OverrideForm(FlaskForm):
    status = SelectField("Estado", choices=[("aprobado", "Aprobado"), ("reprobado", "Reprobado"),
                                            ("cursando", "Cursando"), ("", "Quitar el estado fijado (usar la regla)")])
    reason = TextAreaField("Motivo", validators=[DataRequired("Escribe el motivo: queda registrado."),
                                                 Length(max=1000)])


def points_from(formdata, question_ids) -> dict[int, Decimal | None]:
    """Manual grading: points_<question id> as typed (12,5 or 12.5); None when blank or not a number."""
    points = {}
    for question_id in question_ids:
        raw = (formdata.get(f"points_{question_id}") or "").strip().replace(",", ".")
        try:
            value = Decimal(raw) if raw else None
        except InvalidOperation:
            value = None
        points[question_id] = value if value is None or value.is_finite() else None
    return points
