"""Criteria and other issuer-written Markdown, rendered to HTML that is safe to put in any page.

One function, :func:`render_markdown`, used by every page (it is the ``markdown`` template filter). Two
layers, so that a mistake in one is caught by the other:

1. markdown-it-py in CommonMark mode with raw HTML **off** (``<script>`` typed in the criteria stays text)
   and images **off** (``![x](https://elsewhere/pixel.png)`` would make every visitor's browser call another
   site; it is shown as a link instead). Headings are moved two levels down (``#`` becomes ``<h3>``) because
   the page already has its ``<h1>`` and ``<h2>``.
2. nh3 (ammonia) keeps only the tags Markdown produces, only ``href``/``title`` on links and ``start`` on
   lists, only ``http``, ``https`` and ``mailto`` links (``javascript:`` and ``data:`` are dropped), and
   gives every link ``rel="nofollow noopener noreferrer"``.
"""

from __future__ import annotations

import functools
from typing import Final

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS: Final = frozenset({
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr", "h3", "h4", "h5", "h6",
})  # fmt: skip
ALLOWED_ATTRIBUTES: Final = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES: Final = frozenset({"http", "https", "mailto"})
LINK_REL: Final = "nofollow noopener noreferrer"
MAX_MARKDOWN: Final = 20_000


@functools.cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.disable("image")
    return parser


def _lower_headings(html_level: str) -> str:
    return f"h{min(int(html_level[1]) + 2, 6)}"


def render_markdown(text: str | None) -> Markup:
    """Render issuer-written Markdown to sanitised HTML (see the module docstring); empty text gives ``""``."""
    if not text:
        return Markup("")
    parser = _parser()
    tokens = parser.parse(text[:MAX_MARKDOWN])
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = _lower_headings(token.tag)
    html = parser.renderer.render(tokens, parser.options, {})
    cleaned = nh3.clean(html, tags=set(ALLOWED_TAGS), attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
                        url_schemes=set(URL_SCHEMES), link_rel=LINK_REL, strip_comments=True)
    return Markup(cleaned)  # noqa: S704 - sanitised just above by nh3
