"""`flask --app wsgi sweep`: the time-driven mail work, safe to run every minute on several servers."""

import click
from flask import Flask, current_app


def register(app: Flask) -> None:
    @app.cli.command("sweep")
    def sweep_command():
        """Replay saved SENCE answers, queue due reminders and alerts, send (or retry) due mail, apply retention."""
        from app.auth.throttle import purge_expired
        from app.notify.service import sweep
        from app.privacy.retention import run_retention, summary
        from app.sence.journal import replay

        replayed = replay()  # first: a replayed answer may open a session that needs its reminder
        if replayed.replayed or replayed.waiting:
            click.echo(f"Respuestas SENCE recuperadas: {replayed.replayed}, a la espera: {replayed.waiting}.")
        purge_expired()
        result = sweep()
        retention_runs = run_retention()
        if not current_app.config.get("MAIL_SERVER"):
            click.echo("MAIL_SERVER no está definido: los correos quedan en la bandeja (página Correos).")
        click.echo(f"Barrido listo: {result.summary()}; {summary(retention_runs)}.")
        from app.sic.cli import sweep_and_report

        sweep_and_report()
