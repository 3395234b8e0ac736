"""Admin forms for a course's SIC settings and modules."""

from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.sence.forms import REQUIRED, SpanishForm
from app.sic.models import ENVIRONMENTS

ENVIRONMENT_CHOICES = {
    "simulator": "Simulador (sin conexión a SENCE)",
    "production": "SENCE (API Gestor Intermedio, datos reales)",
}


class SicSettingsForm(SpanishForm):
    enabled = BooleanField("Informar el avance diario a SIC", description="Obligatorio en programas sociales "
                           "(línea 1). El envío se hace cada noche entre 22:00 y 00:00.")
    codigo_oferta = StringField("Código del curso (codigoOferta)", validators=[Optional(), Length(max=50)],
                                description="De sicadministrativo.sence.cl › Mantenedores › Cursos.")
    codigo_grupo = StringField("Código de la sección (codigoGrupo)", validators=[Optional(), Length(max=50)])
    environment = SelectField("Ambiente", choices=[(e, ENVIRONMENT_CHOICES[e]) for e in ENVIRONMENTS],
                              default="simulator")


class ModuleForm(SpanishForm):
    codigo = StringField("Código SIC del módulo", validators=[DataRequired(REQUIRED), Length(max=50)])
