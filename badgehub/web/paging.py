"""The page of a paged list, read from the query string (``?page=``), and how many pages a total makes."""

from __future__ import annotations

from flask import request


def page_number(last: int = 100_000) -> int:
    """The page asked for: a positive number below ``last``; anything else (absent, text, zero, huge) is page 1,
    so a hand-edited address shows the list rather than an error."""
    text = request.args.get("page", "1")
    return int(text) if text.isdigit() and 0 < int(text) < last else 1


def page_count(total: int, size: int) -> int:
    """How many pages of ``size`` rows ``total`` rows fill (at least one: an empty list is one empty page)."""
    return max(1, -(-total // size))
