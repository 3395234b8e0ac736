"""axe-core on the main pages, as admin, instructor and participant, at desktop and phone sizes.

axe.min.js is vendored under tests/browser/vendor/ (MPL-2.0), so the check runs from a fresh clone, offline.
The test fails on any violation axe rates serious or critical.
"""

from pathlib import Path

import pytest

from tests.browser.conftest import sign_in
from tests.courses.helpers import PDF, lesson_with
from tests.evaluations.helpers import make_evaluation
from tests.factories import PASSWORD, enroll, make_course, make_user, open_session

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()


def serious_violations(page) -> list[str]:
    page.evaluate(AXE + "\n;0")  # evaluated by the devtools protocol: the page's CSP does not apply
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in violations if v["impact"] in ("serious", "critical")]


ACCOUNTS = {"participant": "ana@otec.cl", "instructor": "irene@otec.cl", "admin": "admin@otec.cl"}


def _course():
    instructor = make_user("instructor", email="irene@otec.cl")
    participant = make_user(full_name="Ana Pérez", email="ana@otec.cl")
    course = make_course([instructor], title="Excel intermedio",
                         sence={"cod_sence": "1237894560", "codigo_curso": "FT-2025-0001234"})
    enroll(course, participant)
    open_session(participant, course)
    return course, instructor, participant


def _pages(course, participant) -> dict[str, list[str]]:
    c = course.id
    lesson = lesson_with(course, "Tablas dinámicas", files=[("guia.pdf", PDF)])
    evaluation = make_evaluation(course, title="Control 1").id
    return {
        "participant": ["/", f"/cursos/{c}", "/clave", "/mi-cuenta", f"/cursos/{c}/evaluaciones/{evaluation}",
                        f"/cursos/{c}/mis-calificaciones", "/mis-datos", "/privacidad"],
        "instructor": ["/", f"/cursos/{c}/lecciones/gestionar", f"/cursos/{c}/lecciones/{lesson.id}/editar",
                       f"/reportes/cursos/{c}/asistencia", f"/reportes/cursos/{c}/avance",
                       f"/reportes/cursos/{c}/en-vivo", f"/reportes/cursos/{c}/participantes/{participant.id}",
                       f"/cursos/{c}/evaluaciones/{evaluation}/editar", f"/cursos/{c}/calificaciones",
                       f"/cursos/{c}/calificaciones/participantes/{participant.id}"],
        "admin": ["/admin/cursos", "/admin/usuarios", "/admin/usuarios?q=ana", f"/admin/cursos/{c}/participantes",
                  f"/sence/cursos/{c}/registro", f"/sence/cursos/{c}/registro?resultado=fallido",
                  "/admin/correos/", "/reportes/en-vivo", f"/reportes/cursos/{c}/asistencia", "/mi-cuenta",
                  f"/admin/cursos/{c}/editar", f"/sence/cursos/{c}/configuracion", f"/cierre/cursos/{c}",
                  f"/sic/cursos/{c}", f"/sic/cursos/{c}/registro", "/admin/privacidad", "/admin/privacidad/solicitudes",
                  "/admin/privacidad/accesos", "/verificar"],
    }


@pytest.mark.parametrize("fixture", ["page", "phone_page"])
def test_main_pages_have_no_serious_axe_violations(request, fixture, live):
    browser_page = request.getfixturevalue(fixture)
    course, instructor, participant = _course()
    make_user("admin", email="admin@otec.cl")
    browser_page.goto(f"{live.url}/ingresar")
    assert serious_violations(browser_page) == []
    found = {}
    for role, paths in _pages(course, participant).items():
        browser_page.context.clear_cookies()
        sign_in(browser_page, live, ACCOUNTS[role], PASSWORD)
        for path in paths:
            response = browser_page.goto(f"{live.url}{path}")
            assert response.status == 200, f"{role} {path}: {response.status}"  # axe on the page, not an error
            problems = serious_violations(browser_page)
            if problems:
                found[f"{role} {path}"] = problems
    assert found == {}
