"""Lesson bodies: Markdown rendered on the server, then sanitized, so nothing an author types can run script."""

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

# Raw HTML in the Markdown is shown as text; tables and strikethrough are welcome in course notes.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"},
              "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def sanitize(html: str) -> str:
    """Second line of defence: only plain document tags, no attributes that run code, only web/mail links."""
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow")


@lru_cache(maxsize=512)
def render_markdown(text: str) -> str:
    """Cached by the text itself, so every worker's copy is always right; parsing was ~15 % of a course page."""
    return sanitize(_markdown.render(text or ""))


def external_images(text: str) -> list[str]:
    """Image addresses on other sites: the page's CSP (img-src 'self') blocks them, so the author is told."""
    found = []
    for token in _markdown.parse(text or ""):
        for child in token.children or ():
            src = child.attrGet("src") if child.type == "image" else None
            if src and (src.startswith("//") or "://" in src) and src not in found:
                found.append(src)
    return found
