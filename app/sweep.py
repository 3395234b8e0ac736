"""`flask --app wsgi sweep`: the time-driven work of every feature, safe to run every minute on several servers.

The orchestration lives here, at the top, because it calls features of every layer (SENCE's journal, sign-in
throttling, mail, close-out, privacy retention, SIC); the lower packages, notify first, never import the ones
built on them. Order matters: a replayed SENCE answer may open a session that needs its reminder, and the
close-out mail is queued before the outbox is sent.
"""

from datetime import datetime

import click
from flask import Flask, current_app

from app.auth.throttle import purge_expired
from app.closeout import reminders as closeout_reminders
from app.notify import service as notify
from app.privacy.retention import run_retention, summary
from app.sence.journal import replay
from app.sic.cli import sweep_and_report

CLOSEOUT = notify.Producer("avisos de cierre de curso", closeout_reminders.queue)


def mail_sweep(now: datetime | None = None) -> notify.SweepResult:
    """notify's sweep with every feature's time-driven mail queued before sending."""
    return notify.sweep(now, producers=(CLOSEOUT,))


def register(app: Flask) -> None:
    @app.cli.command("sweep")
    def sweep_command():
        """Replay saved SENCE answers, queue due reminders and alerts, send (or retry) due mail, apply retention."""
        replayed = replay()
        if replayed.replayed or replayed.waiting:
            click.echo(f"Respuestas SENCE recuperadas: {replayed.replayed}, a la espera: {replayed.waiting}.")
        purge_expired()
        result = mail_sweep()
        retention_runs = run_retention()
        if not current_app.config.get("MAIL_SERVER"):
            click.echo("MAIL_SERVER no está definido: los correos quedan en la bandeja (página Correos).")
        click.echo(f"Barrido listo: {result.summary()}; {summary(retention_runs)}.")
        sweep_and_report()
