from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    identifier = StringField("RUN o correo", validators=[DataRequired("Ingresa tu RUN o correo."), Length(max=254)])
    password = PasswordField("Contraseña", validators=[DataRequired("Ingresa tu contraseña."), Length(max=200)])


class PasswordForm(FlaskForm):
    current = PasswordField("Contraseña actual", validators=[DataRequired("Ingresa tu contraseña actual.")])
    new = PasswordField(
        "Nueva contraseña",
        validators=[DataRequired("Ingresa la nueva contraseña."),
                    Length(min=8, max=200, message="Debe tener entre 8 y 200 caracteres.")],
    )
    confirm = PasswordField(
        "Repite la nueva contraseña",
        validators=[DataRequired("Repite la nueva contraseña."), EqualTo("new", "Las contraseñas no coinciden.")],
    )


class ForgotForm(FlaskForm):
    identifier = StringField("RUN o correo", validators=[DataRequired("Ingresa tu RUN o correo."), Length(max=254)])


class ResetForm(FlaskForm):
    new = PasswordField(
        "Nueva contraseña",
        validators=[DataRequired("Ingresa la nueva contraseña."),
                    Length(min=8, max=200, message="Debe tener entre 8 y 200 caracteres.")],
    )
    confirm = PasswordField(
        "Repite la nueva contraseña",
        validators=[DataRequired("Repite la nueva contraseña."), EqualTo("new", "Las contraseñas no coinciden.")],
    )
