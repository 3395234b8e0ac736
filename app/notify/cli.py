"""`flask --app wsgi sweep`: the time-driven mail work, safe to run every minute on several servers."""

import click
from flask import Flask, current_app


def register(app: Flask) -> None:
    @app.cli.command("sweep")
    def sweep_command():
        """Queue due close reminders and abandoned-attempt alerts, then send (or retry) due mail."""
        from app.notify.service import sweep

        result = sweep()
        if not current_app.config.get("MAIL_SERVER"):
            click.echo("MAIL_SERVER no está definido: los correos quedan en la bandeja (página Correos).")
        click.echo(f"Barrido listo: {result.summary()}.")
        from app.sic.cli import sweep_and_report

        sweep_and_report()
