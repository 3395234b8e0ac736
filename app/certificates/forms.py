"""Forms: the OTEC's signer, revocation and reissue."""

from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.sence.forms import REQUIRED, SpanishForm


class SignerForm(SpanishForm):
    signer_name = StringField("Nombre de quien firma", validators=[DataRequired(REQUIRED), Length(max=200)])
    signer_title = StringField("Cargo", validators=[DataRequired(REQUIRED), Length(max=200)],
                               description="P. ej. «Director académico».")
    signature = FileField("Imagen de la firma (opcional)",
                          validators=[Optional(), FileAllowed(["png", "jpg", "jpeg"], "Sube una imagen PNG o JPG.")],
                          description="PNG o JPG de hasta 2 MB, idealmente tinta negra sobre fondo blanco "
                                      "o transparente.")
    remove_signature = BooleanField("Quitar la imagen de la firma")


class RevokeForm(SpanishForm):
    reason = TextAreaField("Motivo", validators=[DataRequired("Indica el motivo: queda registrado."),
                                                 Length(min=5, max=1000, message="Entre 5 y 1000 caracteres.")])

