"""Text helpers shared by the printed documents: the bundled fonts, printable text, Markdown as plain text.

Pure code. Everything printed goes through :func:`printable` first, because the text comes from issuers and
learners (names, descriptions, criteria) and may hold anything: control characters, decomposed accents,
characters no bundled font can draw (CJK ideographs). The PDF library would either drop such characters
silently or fail to lay out a line made only of them; here they become □ (one visible mark per character,
so a reader sees that something was there and the public page shows the real text).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path
from typing import Final

from fontTools.ttLib import TTFont
from markdown_it import MarkdownIt

FONTS_DIR: Final = Path(__file__).resolve().parent / "fonts"
FONT_REGULAR: Final = FONTS_DIR / "DejaVuSans.ttf"
FONT_BOLD: Final = FONTS_DIR / "DejaVuSans-Bold.ttf"
MISSING: Final = "\u25a1"  # □ WHITE SQUARE, in both fonts
ELLIPSIS: Final = "…"
# Longest text taken from any one field before layout; what is printed is cut further to fit its box.
MAX_FIELD: Final = 5_000

_SPACES_RE: Final = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


@functools.cache
def covered() -> frozenset[int]:
    """Code points both bundled fonts (regular and bold) can draw."""
    sets = []
    for path in (FONT_REGULAR, FONT_BOLD):
        with TTFont(path, lazy=True) as font:
            sets.append(frozenset(font.getBestCmap()))
    return sets[0] & sets[1]


def printable(text: str | None, *, multiline: bool = False, limit: int = MAX_FIELD) -> str:
    """``text`` made safe to lay out with the bundled fonts.

    NFC-normalised (a decomposed "é" becomes one character the font has), control and format characters
    removed (line breaks kept when ``multiline``, else turned into spaces), runs of spaces collapsed, and
    characters the fonts lack replaced by □. At most ``limit`` characters are kept.
    """
    if not text:
        return ""
    value = unicodedata.normalize("NFC", str(text)[: limit * 2]).replace("\r\n", "\n")
    glyphs = covered()
    out: list[str] = []
    for char in value:
        if char in "\r\n\u2028\u2029":
            out.append("\n" if multiline else " ")
            continue
        category = unicodedata.category(char)
        # Joiners stay (Arabic, Persian and Indic spelling needs them); bidi overrides and other format
        # characters go, so that nobody can make a printed name read backwards.
        if category in ("Cc", "Cf", "Cs", "Co", "Cn") and char not in "\u200c\u200d":
            out.append(" " if char == "\t" else "")
            continue
        if category == "Zs":
            out.append(" ")
            continue
        if ord(char) not in glyphs:
            # A combining mark the font lacks is dropped (its base letter is still printed).
            out.append("" if category.startswith("M") else MISSING)
            continue
        out.append(char)
    lines = [_SPACES_RE.sub(" ", line).strip() for line in "".join(out).split("\n")]
    if multiline:
        # Leading spaces are kept (up to 8): they show the nesting of list items.
        indents = [min(8, len(raw) - len(raw.lstrip(" "))) for raw in "".join(out).split("\n")]
        lines = [" " * indent + line if line else "" for indent, line in zip(indents, lines, strict=True)]
    joined = "\n".join(lines) if multiline else " ".join(lines)
    joined = re.sub(r"\n{3,}", "\n\n", joined).strip()
    return joined[:limit]


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary if possible, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


@functools.cache
def _parser() -> MarkdownIt:
    # Same settings as the pages (badgehub.achievements.markdown): raw HTML is not Markdown here, it is text
    # the issuer typed, so tags are dropped below rather than interpreted.
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.disable("image")
    return parser


def markdown_to_text(source: str | None, *, limit: int = MAX_FIELD) -> str:
    """Issuer-written Markdown as plain text for print: one line per paragraph, heading or list item.

    List items start with "• " (or their number), links keep their text followed by the address when it
    differs, emphasis marks and code fences disappear, and anything that looks like an HTML tag is removed.
    """
    if not source:
        return ""
    tokens = _parser().parse(str(source)[: limit * 2])
    lines: list[str] = []
    prefixes: list[list[int | None]] = []  # per open list: [next number or None for bullets]
    pending_prefix = ""
    for token in tokens:
        if token.type == "bullet_list_open":
            prefixes.append([None])
        elif token.type == "ordered_list_open":
            start = token.attrGet("start")
            prefixes.append([int(start) if isinstance(start, (int, str)) and str(start).isdigit() else 1])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            prefixes.pop()
        elif token.type == "list_item_open" and prefixes:
            number = prefixes[-1][0]
            indent = "  " * (len(prefixes) - 1)
            if number is None:
                pending_prefix = f"{indent}• "
            else:
                pending_prefix = f"{indent}{number}. "
                prefixes[-1][0] = number + 1
        elif token.type == "inline":
            lines.append(pending_prefix + _inline_text(token.children or []))
            pending_prefix = ""
        elif token.type in ("fence", "code_block"):
            lines.extend(token.content.rstrip("\n").split("\n"))
        elif token.type == "hr":
            lines.append("—")
    text = "\n".join(line for line in lines if line.strip())
    return printable(_TAG_RE.sub("", text), multiline=True, limit=limit)


_TAG_RE: Final = re.compile(r"</?[A-Za-z][^<>]{0,500}>|<!--.*?-->", re.DOTALL)


def _inline_text(children: list) -> str:  # type: ignore[type-arg]
    parts: list[str] = []
    href: str | None = None
    link_text: list[str] = []
    for child in children:
        if child.type == "link_open":
            href = str(child.attrGet("href") or "")
            link_text = []
        elif child.type == "link_close":
            shown = "".join(link_text)
            parts.append(shown if not href or href in (shown, f"mailto:{shown}") else f"{shown} ({href})")
            href = None
        elif child.type in ("text", "code_inline", "html_inline"):
            (link_text if href is not None else parts).append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            (link_text if href is not None else parts).append(" ")
    return "".join(parts)
