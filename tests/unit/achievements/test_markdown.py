"""Issuer-written Markdown becomes inert HTML: no scripts, no dangerous links, no images from elsewhere."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from badgehub.achievements.markdown import render_markdown


def test_ordinary_markdown_is_rendered():
    html = render_markdown("Pour l'obtenir :\n\n- réparer **seul·e** une crevaison\n- *expliquer* la démarche\n\n"
                           "Voir [le guide](https://atelier.example.org/guide).")
    assert isinstance(html, Markup)
    assert "<li>réparer <strong>seul·e</strong> une crevaison</li>" in html
    assert "<em>expliquer</em>" in html
    assert '<a href="https://atelier.example.org/guide" rel="nofollow noopener noreferrer">le guide</a>' in html


def test_raw_html_and_script_stay_text():
    html = render_markdown("<script>alert('x')</script>\n\n<img src=x onerror=alert(1)> <b onclick=\"x()\">b</b>")
    assert "<script" not in html and "<img" not in html and "<b" not in html
    assert "&lt;script&gt;" in html
    assert "onerror=alert(1)" in html  # as visible text, inside an escaped tag


@pytest.mark.parametrize("link", [
    "[clic](javascript:alert(1))",
    "[clic](JaVaScRiPt:alert(1))",
    "[clic](java\tscript:alert(1))",
    "[clic](vbscript:msgbox(1))",
    "[clic](data:text/html;base64,PHNjcmlwdD4=)",
    "<javascript:alert(1)>",
    "[clic][r]\n\n[r]: javascript:alert(1)",
])
def test_dangerous_links_are_not_links(link):
    html = render_markdown(link)
    assert "href" not in html


def test_images_from_other_sites_are_not_loaded():
    html = render_markdown("![pixel](https://tracker.example.net/p.png)")
    assert "<img" not in html
    assert 'href="https://tracker.example.net/p.png"' in html


def test_headings_sit_below_the_page_headings():
    html = render_markdown("# Critères\n\n## Détail\n\n###### Fin")
    assert "<h3>Critères</h3>" in html and "<h4>Détail</h4>" in html and "<h6>Fin</h6>" in html
    assert "<h1" not in html and "<h2" not in html


def test_empty_text_renders_nothing():
    assert render_markdown("") == Markup("")
    assert render_markdown(None) == Markup("")
