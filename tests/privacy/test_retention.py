"""Retention: what has passed its period is deleted by the sweep, once, with a record of what was done."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db as _db
from app.notify.models import OutboxMessage
from app.privacy import retention
from app.privacy.models import AccessEvent, RetentionPolicy, RetentionRun
from app.privacy.service import file_request, log_access
from app.privacy.suppression import suppress
from app.sence.models import Attempt, Exchange, SenceSession
from app.timeutil import utcnow
from tests.concurrency import run_at_once
from tests.factories import make_user
from tests.privacy.helpers import build_world, closed_session

NOW = utcnow()


def _old_world():
    """Evidence and mail from six years ago next to this week's."""
    world = build_world()
    old = closed_session(world.benito, world.course, days_ago=6 * 365)
    staff = make_user("admin")
    log_access(staff.id, "attendance_export", course_id=world.course.id, people=2, now=NOW - timedelta(days=800))
    log_access(staff.id, "attendance_export", course_id=world.course.id, people=2, now=NOW - timedelta(days=1))
    for message in _db.session.execute(select(OutboxMessage)).scalars():
        message.status = "sent"
    _db.session.add(OutboxMessage(kind="reminder", to_addrs="x@correo.cl", subject="viejo", body="", status="sent",
                                  created_at=NOW - timedelta(days=200), next_attempt_at=NOW - timedelta(days=200)))
    _db.session.add(OutboxMessage(kind="reminder", to_addrs="y@correo.cl", subject="pendiente", body="",
                                  status="pending", created_at=NOW - timedelta(days=200),
                                  next_attempt_at=NOW - timedelta(days=200)))
    _db.session.commit()
    return world, old


def test_each_class_deletes_what_passed_its_period_and_records_it(db):
    world, old = _old_world()
    old_id = old.id
    runs = {run.data_class: run.counts for run in retention.run_retention(NOW)}

    assert runs["sence_evidence"] == {"sence_exchanges": 2, "sence_attempts": 1, "suppressed_accounts": 0,
                                      "sic_actions": 0, "sic_accepted": 0, "sic_sends": 0}
    assert runs["outbox"] == {"outbox": 1}
    assert runs["logs"] == {"access_trail": 1, "sence_exchanges_unmatched": 0}
    assert db.session.get(SenceSession, old_id) is None
    assert db.session.query(SenceSession).count() == 2  # this week's sessions stay
    assert {m.subject for m in db.session.query(OutboxMessage)} >= {"pendiente"}  # unsent mail is never deleted
    assert db.session.query(AccessEvent).count() == 1
    assert db.session.query(RetentionRun).count() == len(retention.DATA_CLASSES)


def test_a_class_runs_once_a_day(db):
    _old_world()
    assert len(retention.run_retention(NOW)) == len(retention.DATA_CLASSES)
    assert retention.run_retention(NOW + timedelta(hours=1)) == []
    assert len(retention.run_retention(NOW + timedelta(hours=25))) == len(retention.DATA_CLASSES)


def test_the_periods_are_the_otecs(db):
    _old_world()
    retention.set_days({"outbox": 365})
    runs = {run.data_class: run.counts for run in retention.run_retention(NOW)}
    assert runs["outbox"] == {"outbox": 0}
    assert db.session.get(RetentionPolicy, "outbox").days == 365
    with pytest.raises(ValueError, match="entre 30 y 7300"):
        retention.set_days({"logs": 3})


def test_a_suppressed_account_goes_when_its_evidence_does(db):
    world = build_world()
    admin = make_user("admin")
    ana_id, benito_id = world.ana.id, world.benito.id
    suppress(file_request(world.ana, "suppression", ""), admin)
    for attempt in db.session.execute(select(Attempt).where(Attempt.user_id == ana_id)).scalars():
        attempt.created_at = NOW - timedelta(days=6 * 365)
    db.session.commit()
    runs = {run.data_class: run.counts for run in retention.run_retention(NOW)}
    assert runs["sence_evidence"]["suppressed_accounts"] == 1
    assert db.session.get(User, ana_id) is None
    assert db.session.get(User, benito_id) is not None


def test_the_sweep_command_applies_retention(app, db):
    _old_world()
    result = app.test_cli_runner().invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    assert "retención: 4 clases revisadas" in result.output
    assert db.session.query(Exchange).count() == 4


@pytest.mark.postgres_only
def test_two_sweeps_at_once_run_retention_once(app, db, backend):
    if backend != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) are what this checks; SQLite has a single writer")
    _old_world()
    retention.ensure_policies()
    results = run_at_once(app, lambda: [r.data_class for r in retention.run_retention(NOW)])
    recorded = [data_class for result in results for data_class in result]
    assert sorted(recorded) == sorted(retention.DATA_CLASSES)
    runs = db.session.execute(select(RetentionRun)).scalars().all()
    assert sorted(r.data_class for r in runs) == sorted(retention.DATA_CLASSES)
    evidence = next(r for r in runs if r.data_class == "sence_evidence")
    assert evidence.counts["sence_attempts"] == 1
    assert db.session.query(SenceSession).count() == 2
