"""Command-line tools: `flask --app wsgi seed-demo`, `flask --app wsgi create-admin`."""

import click
from flask import Flask

from app.admin import service as admin_service
from app.auth.run import InvalidRun, normalize_run


def register_cli(app: Flask) -> None:
    from app.sweep import register as register_sweep_cli

    register_sweep_cli(app)
    from app.sic.cli import register as register_sic_cli

    register_sic_cli(app)

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Create the demo accounts and course (safe to run again)."""
        from app.demo import seed_demo

        course = seed_demo()
        click.echo(f"Demo lista: curso «{course.title}». Contraseña de todas las cuentas: demo1234.")

    @app.cli.command("create-admin")
    @click.option("--email", prompt="Correo")
    @click.option("--name", prompt="Nombre completo")
    @click.option("--run", default="", help="RUN (opcional)")
    @click.password_option("--password", prompt="Contraseña")
    def create_admin_command(email: str, name: str, run: str, password: str):
        """Create an OTEC administrator account."""
        try:
            run_norm = normalize_run(run) if run else None
            if len(password) < 8:
                raise admin_service.RuleError("La contraseña debe tener al menos 8 caracteres.")
            user = admin_service.create_user(role="admin", full_name=name, email=email.strip(), run=run_norm,
                                             password=password)
        except (InvalidRun, admin_service.RuleError) as err:
            raise click.ClickException(str(err)) from None
        click.echo(f"Administrador creado: {user.email}")
