from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.auth.run import InvalidRun, normalize_run

REQUIRED = "Este campo es obligatorio."


class RunField(StringField):
    """A RUN in any spelling, normalized to 12345678-9 when the form validates."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data:
            try:
                self.data = normalize_run(self.data)
            except InvalidRun as err:
                self.run_error = str(err)

    def pre_validate(self, form):
        if getattr(self, "run_error", None):
            raise ValidationError(self.run_error)


class CourseForm(FlaskForm):
    title = StringField("Nombre del curso", validators=[DataRequired(REQUIRED), Length(max=200)])
    description = TextAreaField("Descripción", validators=[Optional(), Length(max=5000)])
    instructors = SelectMultipleField("Instructores", coerce=int, validators=[Optional()])
    start_date = DateField("Fecha de inicio", validators=[Optional()])
    end_date = DateField("Fecha de término", validators=[Optional()])
    hours = DecimalField("Horas del curso", places=1, validators=[
        InputRequired(REQUIRED), NumberRange(min=0, max=9999, message="Ingresa un número de horas entre 0 y 9999.")])

    def validate_end_date(self, field):
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError("La fecha de término no puede ser anterior a la de inicio.")


class UserForm(FlaskForm):
    role = SelectField("Rol", choices=[("participant", "Participante"), ("instructor", "Instructor"),
                                       ("admin", "Administrador OTEC")])
    full_name = StringField("Nombre completo", validators=[DataRequired(REQUIRED), Length(max=200)])
    run = RunField("RUN", validators=[Optional(), Length(max=20)], description="Obligatorio para participantes.")
    email = EmailField("Correo", validators=[Optional(), Email("Ingresa un correo válido."), Length(max=254)])
    phone = StringField("Teléfono", validators=[Optional(), Length(max=40)])
    mobile = StringField("Celular", validators=[Optional(), Length(max=40)])
    active = BooleanField("Cuenta activa", default=True)
    password = PasswordField("Contraseña", validators=[Optional(), Length(min=8, max=200,
                             message="La contraseña debe tener al menos 8 caracteres.")])


class EnrollForm(FlaskForm):
    run = RunField("RUN", validators=[DataRequired(REQUIRED), Length(max=20)])
    full_name = StringField("Nombre completo", validators=[Optional(), Length(max=200)],
                            description="Solo si el participante aún no existe en Pizarra.")
    email = EmailField("Correo", validators=[Optional(), Email("Ingresa un correo válido."), Length(max=254)])
    phone = StringField("Teléfono", validators=[Optional(), Length(max=40)])
    mobile = StringField("Celular", validators=[Optional(), Length(max=40)])
    password = PasswordField("Contraseña inicial", validators=[Optional(), Length(min=8, max=200,
                             message="La contraseña debe tener al menos 8 caracteres.")])
    group = SelectField("Grupo", coerce=int, validators=[Optional()])


class ImportForm(FlaskForm):
    file = FileField("Archivo CSV", validators=[FileRequired("Elige un archivo CSV.")],
                     description="Columnas: RUN; nombre; correo; teléfono; celular (separadas por ; o ,).")
    password = PasswordField("Contraseña inicial de los participantes nuevos", validators=[
        DataRequired(REQUIRED), Length(min=8, max=200, message="Debe tener al menos 8 caracteres.")],
        description="Cada participante nuevo deberá cambiarla por una propia al ingresar por primera vez.")
    invite = BooleanField("Enviar invitación por correo a los participantes nuevos",
                          description="Un enlace para elegir su propia contraseña (vence en 7 días).")


class GroupForm(FlaskForm):
    name = StringField("Nuevo grupo", validators=[DataRequired("Escribe un nombre para el grupo."), Length(max=100)])


class AssignGroupForm(FlaskForm):
    group = SelectField("Grupo", coerce=int)
