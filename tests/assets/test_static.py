"""What a browser gets from one server with no proxy: compressed pages and files, fingerprinted static URLs
cached for a year, and nothing changed for a client that does not ask for compression."""

import gzip
import re

import brotli

from app.auth.models import User
from tests.courses.helpers import gated_course, participant_signed_in
from tests.factories import open_session

STATIC_URL = re.compile(r'(?:src|href)="(/static/[^"]+)"')


def _course_page(client):
    course, _ = gated_course(title="Excel intermedio")
    user: User = participant_signed_in(client, course)
    open_session(user, course)
    return f"/cursos/{course.id}"


def test_the_course_page_is_compressed_only_for_a_client_that_accepts_it(client, db):
    url = _course_page(client)
    plain = client.get(url)
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    browser = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert plain.status_code == zipped.status_code == browser.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == browser.headers["Content-Encoding"] == "gzip"
    for reply in (plain, zipped, browser):
        assert "Accept-Encoding" in reply.headers["Vary"] and reply.headers["Cache-Control"] == "no-store"
    page = plain.get_data(as_text=True)
    assert "Excel intermedio" in page
    for reply in (zipped, browser):  # the same page, but for the timer's seconds
        assert len(gzip.decompress(reply.data)) == len(plain.data)
        assert "Excel intermedio" in gzip.decompress(reply.data).decode()
    assert int(zipped.headers["Content-Length"]) == len(zipped.data) < len(plain.data) / 2


def test_a_page_goes_in_brotli_to_a_client_that_takes_only_brotli(client, db):
    url = _course_page(client)
    plain = client.get(url)
    squeezed = client.get(url, headers={"Accept-Encoding": "br, gzip;q=0"})
    assert squeezed.headers["Content-Encoding"] == "br"
    assert len(brotli.decompress(squeezed.data)) == len(plain.data)


def test_a_small_page_is_sent_as_it_is(client, db):
    """Below 500 bytes compression costs more than it saves: the health check's two bytes go plain."""
    reply = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert reply.status_code == 200 and "Content-Encoding" not in reply.headers
    assert "Accept-Encoding" in reply.headers["Vary"]


def test_static_urls_are_fingerprinted_and_cached_for_a_year_compressed(client, db):
    page = client.get(_course_page(client)).get_data(as_text=True)
    urls = [url.replace("&amp;", "&") for url in STATIC_URL.findall(page)]
    assert {"/static/css/app.css", "/static/vendor/htmx.min.js", "/static/js/site.js"} <= {
        url.split("?")[0] for url in urls}
    for url in urls:
        assert re.search(r"\?v=[0-9a-f]{12}$", url), url
        plain = client.get(url)
        zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert plain.status_code == zipped.status_code == 200
        assert zipped.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "Expires" not in zipped.headers
        if len(plain.data) > 500:
            assert zipped.headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(zipped.data) == plain.data


def test_a_url_not_naming_the_current_content_is_revalidated_not_cached_for_a_year(client, db):
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        reply = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert reply.status_code == 200
        assert reply.headers["Cache-Control"] == "no-cache"
        assert "immutable" not in reply.headers["Cache-Control"]


def test_the_unchanged_timer_poll_stays_an_empty_204(client, db):
    url = _course_page(client)
    fragment = client.get(f"{url}/timer", headers={"HX-Request": "true", "Accept-Encoding": "gzip"})
    assert fragment.status_code == 200 and "Content-Encoding" not in fragment.headers  # the hottest path
    shown = re.search(r'id="sence-timer-shown"[^>]*value="([^"]*)"', fragment.get_data(as_text=True))
    assert shown, fragment.get_data(as_text=True)
    again = client.get(f"{url}/timer?shown={shown.group(1)}",
                       headers={"HX-Request": "true", "Accept-Encoding": "gzip"})
    assert again.status_code == 204 and again.data == b"" and "Content-Encoding" not in again.headers


def test_a_static_file_is_revalidated_with_its_compressed_etag(client, db):
    for encoding in ("gzip", "identity"):
        first = client.get("/static/css/app.css", headers={"Accept-Encoding": encoding})
        etag = first.headers["ETag"]
        assert (":gzip" in etag) == (encoding == "gzip")
        again = client.get("/static/css/app.css", headers={"Accept-Encoding": encoding, "If-None-Match": etag})
        assert again.status_code == 304 and again.data == b""


def test_pages_are_not_evaluated_as_conditional_requests(client, db):
    """A page is never cached (no-store): an If-None-Match or a Range changes nothing."""
    url = _course_page(client)
    page = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": "*", "Range": "bytes=0-10"})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Excel intermedio" in gzip.decompress(page.data).decode()
