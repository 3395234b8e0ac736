from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional


class ContactForm(FlaskForm):
    email = EmailField("Correo", validators=[Optional(), Email("Ingresa un correo válido."), Length(max=254)])
    phone = StringField("Teléfono", validators=[Optional(), Length(max=40, message="Máximo 40 caracteres.")])
    mobile = StringField("Celular", validators=[Optional(), Length(max=40, message="Máximo 40 caracteres.")])
    current = PasswordField("Tu contraseña actual", validators=[DataRequired("Ingresa tu contraseña actual.")],
                            description="La pedimos para que nadie más cambie tus datos desde una sesión abierta.")
