from sqlalchemy import func, select

from app.demo import seed_demo
from app.notify.models import OutboxMessage
from app.reports.service import attendance
from app.sence.models import SenceSession


def test_the_demo_has_history_for_the_report_and_the_outbox_once(db):
    course = seed_demo()
    seed_demo()

    assert course.sence.alert_email_list == ["alertas@demo.cl"]
    assert db.session.execute(select(func.count()).select_from(SenceSession)
                              .where(SenceSession.course_id == course.id)).scalar_one() == 2
    [alert] = db.session.execute(select(OutboxMessage)).scalars().all()
    assert "Benito Soto" in alert.body and "Código 211" in alert.body
    rows = {row.user.full_name: row for row in attendance(course).rows}
    assert rows["Benito Soto"].hours_counted == 4.25 and rows["Benito Soto"].failed_attempts == 1
    assert rows["Ana Pérez"].sessions_counted == 0
