"""Lesson bodies: Markdown on the server, sanitized so that no author can run script in a participant's browser."""

from html.parser import HTMLParser

import pytest

from app.courses.content import render_markdown, sanitize
from tests.courses.helpers import lesson_with, participant_signed_in
from tests.factories import make_course, open_session


@pytest.mark.parametrize("markdown", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href=\"javascript:alert(1)\">clic</a>",
    "[clic](javascript:alert(1))",
    "[clic](JaVaScRiPt:alert(1))",
    "[clic](&#106;avascript:alert(1))",
    "[clic](vbscript:msgbox(1))",
    "[clic](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "<iframe src=https://evil.example></iframe>",
    "<svg onload=alert(1)>",
    "<style>body{display:none}</style>",
])
def test_nothing_that_runs_survives(markdown):
    tags = _tags(render_markdown(markdown))
    assert not {name for name, _ in tags} & {"script", "iframe", "svg", "style", "object", "embed"}
    for _, attrs in tags:
        assert not [name for name, _ in attrs if name.startswith("on") or name == "style"]
        for name, value in attrs:
            if name in ("href", "src"):
                assert value.split(":", 1)[0].strip().lower() in ("http", "https", "mailto") or ":" not in value


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def _tags(html: str) -> list:
    collector = _Collector()
    collector.feed(html)
    return collector.tags


def test_the_sanitizer_itself_strips_what_markdown_would_let_through():
    dirty = ('<p onclick="x()">a</p><a href="javascript:alert(1)">b</a><img src="x" onerror="y()">'
             '<script>z()</script><span style="color:red">c</span>')
    clean = sanitize(dirty)
    assert clean == '<p>a</p><a rel="noopener noreferrer nofollow">b</a><img src="x">c'


def test_ordinary_markdown_renders():
    html = render_markdown("## Título\n\n**negrita**, *cursiva* y `código`\n\n- uno\n- dos\n\n"
                           "[SENCE](https://www.sence.cl)\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<h2>Título</h2>" in html and "<strong>negrita</strong>" in html and "<em>cursiva</em>" in html
    assert "<code>código</code>" in html and "<li>uno</li>" in html and "<td>1</td>" in html
    assert '<a href="https://www.sence.cl" rel="noopener noreferrer nofollow">SENCE</a>' in html


def test_the_lesson_page_shows_the_body_sanitized(client, db):
    course = make_course()
    lesson_with(course, body="Hola **mundo** <script>alert('x')</script> [mal](javascript:alert(1))")
    user = participant_signed_in(client, course)
    open_session(user, course)

    html = client.get(f"/cursos/{course.id}").get_data(as_text=True)

    lesson = html.split('id="lesson"')[1]
    assert "Hola <strong>mundo</strong> &lt;script&gt;alert('x')&lt;/script&gt;" in lesson
    assert "<script>alert" not in lesson and 'href="javascript' not in lesson
