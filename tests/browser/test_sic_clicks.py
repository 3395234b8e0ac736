"""A participant's clicks in the real player (htmx) are recorded for SIC dedication time; timer polls are not."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.sic.models import SicAction
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, open_session
from tests.sic.conftest import participant, sic_course

pytestmark = pytest.mark.browser


def test_lesson_clicks_in_the_player_become_sic_actions(db, live, page):
    course = sic_course(lessons=2, modules=("M1",))
    user = participant(course, full_name="Ana Pérez")
    open_session(user, course)
    first, second = course.lessons
    sign_in(page, live, user.email, PASSWORD)
    polls = []
    page.on("requestfinished", lambda request: polls.append(request.url) if "/timer" in request.url else None)
    page.clock.install()
    page.goto(f"{live.url}/cursos/{course.id}")
    page.get_by_role("button", name="Marcar como completada").click()
    expect(page.get_by_text("Lección completada")).to_be_visible()
    page.locator("#player .lesson-list").get_by_role("link", name="Lección 2").click()
    expect(page.locator("#player h2", has_text="Lección 2")).to_be_visible()
    page.clock.run_for(65_000)  # two timer polls
    page.wait_for_load_state("networkidle")
    assert polls, "the timer did not poll"

    rows = db.session.execute(select(SicAction.lesson_id).where(SicAction.user_id == user.id)
                              .order_by(SicAction.id)).scalars().all()
    assert rows == [None, first.id, second.id]
