"""`flask --app wsgi sic-send [--course ID] [--force]`, and the SIC step of `flask sweep`."""

import click
from flask import Flask

from app.sic import service


def _echo(result: service.SweepSic) -> None:
    if result.skipped:
        click.echo(f"SIC: {result.skipped}")
    elif not result.sends:
        click.echo("SIC: ningún curso por enviar.")
    for summary in result.sends:
        click.echo(f"SIC: {summary.line()}")


def sweep_and_report() -> None:
    """Called by `flask sweep` after the mail: inside 22:00-00:00 Chile time, each due course once a day."""
    result = service.sweep()
    if result.sends:  # outside the window the sweep stays quiet (it runs every minute)
        _echo(result)


def register(app: Flask) -> None:
    @app.cli.command("sic-send")
    @click.option("--course", "course_id", type=int, default=None, help="Solo este curso (id).")
    @click.option("--force", is_flag=True, help="Ignora el horario 22:00-00:00 y la marca «ya enviado hoy».")
    def sic_send_command(course_id: int | None, force: bool):
        """Send the SIC progress of the due courses now and print a summary per course."""
        _echo(service.sweep(course_id=course_id, force=force, trigger="cli"))
