from datetime import timedelta

from app.extensions import db
from app.notify.service import enqueue, sweep
from app.timeutil import utcnow
from tests.factories import login, make_user


def _queue(subject="Falla SENCE: Ana en «Excel»", body="RUN: 11111111-1\nCódigo 211: token ajeno."):
    message = enqueue("alert", ["alertas@otec.cl"], subject, body)
    db.session.commit()
    return message


def test_admins_read_queued_mail_when_there_is_no_mail_server(client):
    message = _queue()
    login(client, make_user("admin"))

    page = client.get("/admin/correos/").get_data(as_text=True)
    assert "No hay servidor de correo configurado" in page
    assert "Falla SENCE: Ana en «Excel»" in page and "Pendiente" in page and "alertas@<wbr>otec<wbr>.cl" in page

    detail = client.get(f"/admin/correos/{message.id}").get_data(as_text=True)
    assert "RUN: 11111111-1" in detail and "Código 211: token ajeno." in detail


def test_pending_mail_shows_its_last_error(client, smtp):
    _queue()
    smtp.stop()
    sweep()
    login(client, make_user("admin"))
    page = client.get("/admin/correos/?estado=pending").get_data(as_text=True)
    assert "No se pudo enviar" in page and "Próximo intento" in page
    assert "No hay servidor de correo configurado" not in page


def test_retry_now_brings_a_backed_off_message_forward(client, smtp):
    message = _queue()
    smtp.stop()
    sweep()
    smtp.start()
    login(client, make_user("admin"))
    response = client.post(f"/admin/correos/{message.id}/reintentar", follow_redirects=True)
    assert "se enviará en el próximo barrido" in response.get_data(as_text=True)
    assert sweep().sent == 1
    assert len(smtp.messages) == 1


def test_held_alerts_say_when_they_go_out(client):
    message = enqueue("alert", ["a@otec.cl"], "Falla", "x", group_key="alert:1:1",
                      group_until=utcnow() + timedelta(minutes=10))
    db.session.commit()
    login(client, make_user("admin"))
    page = client.get("/admin/correos/").get_data(as_text=True)
    assert "Agrupando fallas" in page
    assert message.next_attempt_at == message.group_until


def test_only_admins_see_the_outbox(client):
    message = _queue()
    assert client.get("/admin/correos/").status_code == 302
    login(client, make_user("instructor"))
    assert client.get("/admin/correos/").status_code == 403
    assert client.get(f"/admin/correos/{message.id}").status_code == 403
    assert client.post(f"/admin/correos/{message.id}/reintentar").status_code == 403


def test_an_unknown_message_is_a_404_and_a_bad_page_number_is_ignored(client):
    login(client, make_user("admin"))
    assert client.get("/admin/correos/999").status_code == 404
    assert client.get("/admin/correos/?pagina=abc&estado=raro").status_code == 200


def test_the_sweep_command_reports_what_it_did(app, smtp):
    _queue()
    result = app.test_cli_runner().invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    assert "enviados: 1" in result.output
    assert len(smtp.messages) == 1


def test_a_due_message_is_not_shown_as_if_its_attempt_were_still_to_come(client):
    message = _queue()
    message.next_attempt_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    login(client, make_user("admin"))
    page = client.get("/admin/correos/").get_data(as_text=True)
    assert "Próximo intento" not in page
    assert "sin servidor de correo no se enviará" in page
    detail = client.get(f"/admin/correos/{message.id}").get_data(as_text=True)
    assert "En espera desde" in detail and "Próximo intento" not in detail


def test_a_message_due_later_shows_its_next_attempt(client):
    message = _queue()
    message.next_attempt_at = utcnow() + timedelta(minutes=30)
    db.session.commit()
    login(client, make_user("admin"))
    assert "Próximo intento" in client.get("/admin/correos/").get_data(as_text=True)


def test_addresses_break_only_between_their_parts(client):
    message = enqueue("alert", ["coordinacion.academica@otec-ejemplo.cl", "b@otec.cl"], "Asunto", "Cuerpo")
    db.session.commit()
    login(client, make_user("admin"))
    detail = client.get(f"/admin/correos/{message.id}").get_data(as_text=True)
    assert ("<span>coordinacion<wbr>.academica@<wbr>otec-ejemplo<wbr>.cl</span>"
            "<span>b@<wbr>otec<wbr>.cl</span>") in detail


def test_every_kind_of_mail_pizarra_sends_is_named_in_spanish(client):
    """Each enqueue() kind in the code has its label: the outbox never shows a raw kind such as "closeout"."""
    import re
    from pathlib import Path

    sources = Path(__file__).resolve().parents[2] / "app"
    kinds = {kind for path in sources.rglob("*.py")
             for kind in re.findall(r'\benqueue\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8"))}
    assert {"alert", "reminder", "sic", "closeout"} <= kinds
    for kind in sorted(kinds):
        enqueue(kind, ["alertas@otec.cl"], f"Asunto {kind}", "Texto")
    db.session.commit()
    login(client, make_user("admin"))
    page = client.get("/admin/correos/").get_data(as_text=True)
    for kind in sorted(kinds):
        assert f'<span class="small muted">{kind}</span>' not in page, kind
    assert "Cierre del curso" in page
