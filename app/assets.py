"""What a user gets from one server with no proxy: pages compressed with gzip (ISA-L's, a few times cheaper than
zlib's), static files compressed once per worker (Flask-Compress: brotli or gzip, whichever the browser accepts)
and cached for a year under fingerprinted URLs (`?v=<hash of the file>`), so a warm page load is one request and
a new version of a file is a new URL."""

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, request
from flask_compress import Compress
from isal import igzip
from werkzeug.http import parse_accept_header

YEAR = 365 * 24 * 3600
# The timer poll is the hottest path (a few hundred bytes, every 30 s per participant): no work added to it.
UNCOMPRESSED = {"courses.timer"}
# ISA-L's level 1: a 10 KB course page in ~34 µs and 2.9 KB, where zlib's gzip took ~100 µs and brotli (level 4)
# ~160 µs for 2.6 KB, measured inside the app (bench/README.md). A page is compressed on every request; a static
# file once per worker, so files keep brotli.
PAGE_GZIP_LEVEL = 1


class _Compress(Compress):
    def after_request(self, response):
        if request.endpoint in UNCOMPRESSED:
            return response
        if request.endpoint != "static" and _gzip_page(response):
            return response
        response = super().after_request(response)
        if request.endpoint == "static" and request.method in ("GET", "HEAD"):
            # with the compressed ETag (…:gzip); pages are never cached, and evaluating them cost more than
            # compressing them (COMPRESS_EVALUATE_CONDITIONAL_REQUEST is off)
            response.make_conditional(request)
        return response


compress = _Compress()


def _gzip_page(response) -> bool:
    """A page or fragment: compressed with gzip when the client takes it, or sent as it is when it is smaller than
    COMPRESS_MIN_SIZE (an answer save's confirmation), with the Vary header Flask-Compress would have set. Anything
    else (a stream, an ETag, a client that only takes brotli) is left to Flask-Compress: returns False."""
    if (response.is_streamed or response.mimetype not in MIMETYPES or not 200 <= response.status_code < 300
            or "Content-Encoding" in response.headers or "ETag" in response.headers):
        return False
    data = response.get_data()
    if len(data) >= current_app.config["COMPRESS_MIN_SIZE"]:
        if not _takes_gzip(request.headers.get("Accept-Encoding", "")):
            return False
        response.set_data(igzip.compress(data, PAGE_GZIP_LEVEL, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Accept-Encoding"
    elif "accept-encoding" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Accept-Encoding"
    return True


@lru_cache(maxsize=256)
def _takes_gzip(accept_encoding: str) -> bool:
    """Browsers send a handful of distinct headers; q-values and `*` as werkzeug reads them."""
    return parse_accept_header(accept_encoding)["gzip"] > 0

# HTML pages and fragments, CSS, JS, JSON, SVG; PDFs, images and videos are compressed already (or the
# instructor's). Below 500 bytes (the timer's fragment, a 204) compression costs more than it saves.
MIMETYPES = ["text/html", "text/css", "text/javascript", "application/javascript", "application/json",
             "image/svg+xml", "text/plain", "text/csv"]


class _StaticCache:
    """Flask-Compress's cache, holding only fingerprinted static files (their key says so): a file is compressed
    once per worker and encoding, not on every cold load. Bounded by the files in static/ times two encodings."""

    def __init__(self):
        self.entries: dict[str, bytes] = {}

    def get(self, key: str):
        return self.entries.get(key)

    def set(self, key: str, value: bytes) -> None:
        if ";static:" in key:
            self.entries[key] = value


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", MIMETYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 4)  # about gzip -6's cost, ~15 % smaller
    app.config.setdefault("COMPRESS_LEVEL", 3)  # a page: 89 µs and 2.9 KB, against 147 µs and 2.6 KB at 6
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_EVALUATE_CONDITIONAL_REQUEST", False)  # static files only: _Compress
    digests: dict[str, tuple[float, str]] = {}

    def cache_key(request) -> str:
        """Only a URL naming the file's current content is cached; anything else gets a key never stored."""
        filename = (request.view_args or {}).get("filename", "")
        if request.endpoint == "static" and request.args.get("v") and request.args["v"] == digest(filename):
            return f"static:{filename}?v={request.args['v']}"
        return "page"

    app.config.setdefault("COMPRESS_CACHE_BACKEND", _StaticCache)
    app.config.setdefault("COMPRESS_CACHE_KEY", cache_key)
    compress.init_app(app)

    def digest(filename: str) -> str | None:
        """The file's content hash: computed once per worker (a deploy restarts the workers); in debug mode,
        again whenever the file changes (one stat per URL built, ~0.1 ms a page on a busy machine)."""
        known = digests.get(filename)
        if known is not None and not app.debug:
            return known[1]
        path = Path(app.static_folder or "") / filename
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        if known is None or known[0] != mtime:
            known = (mtime, hashlib.sha256(path.read_bytes()).hexdigest()[:12])
            digests[filename] = known
        return known[1]

    @app.url_defaults
    def fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = digest(values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_fingerprinted(response):
        """A year, immutable, only when the URL names the file's current content; else revalidate (ETag)."""
        if request.endpoint == "static" and response.status_code == 200:
            if response.is_streamed and response.mimetype in MIMETYPES:
                # send_file streams the file, and Flask-Compress leaves streams alone: our files are small
                response.direct_passthrough = False
                response.set_data(response.get_data())
            version = request.args.get("v")
            filename = (request.view_args or {}).get("filename", "")
            if version and version == digest(filename):
                response.cache_control.public = True
                response.cache_control.max_age = YEAR
                response.cache_control.immutable = True
                response.cache_control.no_cache = None
                response.headers.pop("Expires", None)
        return response
