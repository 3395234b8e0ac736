"""Page weight: a cold load in headless Chromium, bytes on the wire by resource type and the request count.

"On the wire" is Chromium's encodedDataLength (headers + body as transferred, from the DevTools protocol),
measured in a fresh browser context (empty cache). The app compresses (app/assets.py: gzip over plain
HTTP, as Chromium asks for there; brotli over HTTPS), so the figure is what a user gets from gunicorn alone;
`gzip_estimate` is what the bodies weigh gzip-compressed (level 6), for comparison. A *warm* load follows in the
same context (cache on): `warm_requests` counts the requests for the page and its files that still reached the
server (the fingerprinted static files are cached for a year); `warm_xhr` lists htmx's calls apart (the timer's
first poll on load is the page's live state, not a file). The lesson's own material (an embedded PDF) is
reported apart: its size is the instructor's, not the page's.
"""

import gzip
from collections import defaultdict

from bench.client import USER_AGENT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MATERIAL = "/material/"  # the course's own files (a PDF in an <iframe>): counted apart from the page
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


def measure_pages(base_url: str, pages: list[tuple[str, str, str]]) -> dict:
    """`pages`: (name, path, cookie or "") -> {name: weight}; each page in its own cold context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            return {name: _cold_load(browser, base_url, path, cookie) for name, path, cookie in pages}
        finally:
            browser.close()


def _cold_load(browser, base_url: str, path: str, cookie: str) -> dict:
    context = browser.new_context(user_agent=USER_AGENT, viewport={"width": 360, "height": 740})
    try:
        if cookie:
            name, _, value = cookie.partition("=")
            context.add_cookies([{"name": name, "value": value, "url": base_url}])
        page = context.new_page()
        requests = _record(page)
        page.goto(base_url + path, wait_until="networkidle")
        weight = _summarise(requests, page.url)
        page.close()
        weight.update(_warm_load(context, base_url + path))
        return weight
    finally:
        context.close()


def _warm_load(context, url: str) -> dict:
    """The same page again in the same context, cache on: which requests still reached the server."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    network: dict[str, tuple[str, str]] = {}
    cached: set[str] = set()

    def on_response(event):
        if event["response"]["url"].startswith("http") and not event["response"].get("fromDiskCache"):
            network[event["requestId"]] = (event["response"]["url"], event.get("type", "Other"))

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.requestServedFromCache", lambda event: cached.add(event["requestId"]))
    page.goto(url, wait_until="networkidle")
    page.close()
    reached = [(u, kind) for request_id, (u, kind) in network.items()
               if request_id not in cached and MATERIAL not in u]
    # htmx's first timer poll (hx-trigger="load") is the page's live state, not one of its files
    files = [u for u, kind in reached if kind not in ("XHR", "Fetch")]
    return {"warm_requests": len(files), "warm_urls": files, "warm_xhr": [u for u, kind in reached
                                                                        if kind in ("XHR", "Fetch")]}


def _record(page) -> dict:
    """Request id -> what we know of it, filled from DevTools Network events and Playwright responses."""
    requests: dict[str, dict] = defaultdict(dict)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})

    def on_response(event):
        response = event["response"]
        requests[event["requestId"]].update(
            url=response["url"], status=response["status"], type=event.get("type", "Other"),
            mime=response.get("mimeType", ""), encoding=_header(response.get("headers", {}), "content-encoding"))

    def on_finished(event):
        requests[event["requestId"]]["wire"] = int(event["encodedDataLength"])

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_finished)
    page.on("response", lambda response: _remember_body(requests, response))
    return requests


def _remember_body(requests: dict, response) -> None:
    try:
        body = response.body()
    except Exception:  # noqa: BLE001 (redirects and aborted loads have no body)
        return
    bodies = requests.setdefault("_bodies", {})
    bodies[response.url] = body


def _header(headers: dict, name: str) -> str:
    return next((value for key, value in headers.items() if key.lower() == name), "")


def _summarise(requests: dict, final_url: str) -> dict:
    bodies = requests.pop("_bodies", {})
    by_type: dict[str, dict] = defaultdict(lambda: {"requests": 0, "wire_bytes": 0, "body_bytes": 0,
                                                     "gzip_estimate": 0})
    rows, statuses = [], []
    for entry in requests.values():
        if not entry.get("url", "").startswith("http"):  # data: URLs, Chromium's PDF viewer: not the network
            continue
        if MATERIAL in entry["url"]:
            entry["type"] = "Material"
        body = bodies.get(entry["url"], b"")
        compressed = _gzip_size(body, entry["mime"])
        bucket = by_type[entry["type"]]
        bucket["requests"] += 1
        bucket["wire_bytes"] += entry.get("wire", 0)
        bucket["body_bytes"] += len(body)
        bucket["gzip_estimate"] += compressed
        statuses.append(entry["status"])
        rows.append({"url": entry["url"], "type": entry["type"], "status": entry["status"],
                     "wire_bytes": entry.get("wire", 0), "body_bytes": len(body), "gzip_estimate": compressed,
                     "content_encoding": entry["encoding"]})
    page = [r for r in rows if r["type"] != "Material"]
    return {
        "final_url": final_url,
        "requests": len(page),
        "wire_bytes": sum(r["wire_bytes"] for r in page),
        "body_bytes": sum(r["body_bytes"] for r in page),
        "gzip_estimate": sum(r["gzip_estimate"] for r in page),
        "material_requests": len(rows) - len(page),
        "material_wire_bytes": sum(r["wire_bytes"] for r in rows if r["type"] == "Material"),
        "compressed_on_the_wire": any(r["content_encoding"] for r in rows),
        "by_type": dict(by_type),
        "resources": rows,
        "statuses": statuses,
    }


def _gzip_size(body: bytes, mime: str) -> int:
    if mime.startswith(COMPRESSIBLE) and len(body) > 0:
        return len(gzip.compress(body, compresslevel=6))
    return len(body)
