"""A tiny HTTP client for the benchmark: signs participants in through the real form and checks pages."""

import http.client
import re
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

from urllib3 import encode_multipart_formdata

USER_AGENT = "pizarra-bench/1"  # the same as rotate.lua: Flask-Login ties the session to it
CSRF_FIELD = re.compile(
    r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"|<input[^>]*value="([^"]+)"[^>]*name="csrf_token"'
)


@dataclass
class Reply:
    status: int
    headers: dict
    body: str
    set_cookies: dict
    data: bytes = b""  # the body as received (a downloaded file)


class Client:
    """`source` is another loopback address (127.x.y.z) to connect from, so a proxy in front sees another client;
    `headers` go with every request."""

    def __init__(self, base_url: str, source: str = "", headers: dict | None = None):
        parts = urlsplit(base_url)
        if parts.hostname != "127.0.0.1" or (source and not source.startswith("127.")):
            raise ValueError("the benchmark only talks to 127.0.0.1 (from loopback addresses)")
        self.host, self.port = parts.hostname, parts.port or 80
        self.source = (source, 0) if source else None
        self.headers = headers or {}

    def request(self, method: str, path: str, cookie: str = "", form: dict | None = None, hx: bool = False,
                files: dict | None = None) -> Reply:
        """`files` ({field: (filename, bytes, content type)}) sends `form` and them as multipart/form-data."""
        headers = {"User-Agent": USER_AGENT, **self.headers}
        if cookie:
            headers["Cookie"] = cookie
        if hx:
            headers["HX-Request"] = "true"
        body = None
        if files is not None:
            body, headers["Content-Type"] = encode_multipart_formdata({**(form or {}), **files})
        elif form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30, source_address=self.source)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            text = data.decode("utf-8", "replace")
            cookies = SimpleCookie()
            for value in response.headers.get_all("Set-Cookie") or []:
                cookies.load(value)
            return Reply(response.status, dict(response.headers.items()), text,
                         {name: morsel.value for name, morsel in cookies.items()}, data)
        finally:
            conn.close()

    def get(self, path: str, cookie: str = "", hx: bool = False) -> Reply:
        return self.request("GET", path, cookie=cookie, hx=hx)

    def wait_until_up(self, path: str = "/healthz", seconds: float = 30, any_answer: bool = False) -> None:
        """Until `path` answers 200 (`any_answer`: any HTTP status, for a server without such a page)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                if self.get(path).status == 200 or any_answer:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer {path} within {seconds:.0f} s")
            time.sleep(0.2)

    def sign_in(self, identifier: str, password: str) -> str:
        """The session cookie ("session=...") of a participant signed in through /ingresar."""
        page = self.get("/ingresar")
        match = CSRF_FIELD.search(page.body)
        if page.status != 200 or not match or "session" not in page.set_cookies:
            raise RuntimeError(f"the sign-in page did not offer a form and a session (HTTP {page.status})")
        token = match.group(1) or match.group(2)
        answer = self.request("POST", "/ingresar", cookie=f"session={page.set_cookies['session']}",
                              form={"csrf_token": token, "identifier": identifier, "password": password})
        if answer.status != 302 or "session" not in answer.set_cookies:
            raise RuntimeError(f"signing in {identifier} failed: HTTP {answer.status}")
        return f"session={answer.set_cookies['session']}"
