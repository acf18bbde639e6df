"""Text for print: Markdown flattened to lines, and any input made drawable with the bundled fonts."""

from __future__ import annotations

from badgehub.printing.text import MISSING, markdown_to_text, printable, truncate


def test_lists_keep_their_bullets_numbers_and_nesting():
    text = markdown_to_text("3. trois\n4. quatre\n   - sous-point\n\n- puce")
    assert text.split("\n") == ["3. trois", "4. quatre", "  • sous-point", "• puce"]


def test_links_keep_their_text_and_address_once():
    assert markdown_to_text("[la notice](https://ex.org) et <https://ex.org>") == "la notice (https://ex.org) et https://ex.org"


def test_emphasis_headings_code_and_rules_become_plain_lines():
    text = markdown_to_text("# Titre\n\n**gras** et *penché* et `code`\n\n---\n\n```\nbloc\n```")
    assert text.split("\n") == ["Titre", "gras et penché et code", "—", "bloc"]


def test_html_typed_in_markdown_is_removed_and_entities_are_text():
    text = markdown_to_text("<b>fort</b> &amp; <script>alert(1)</script>\n\n<!-- caché -->")
    assert text == "fort & alert(1)"


def test_printable_composes_accents_and_removes_control_characters():
    assert printable("E\u0301lodie\x00\x1b[31m\tDupont") == "Élodie[31m Dupont"
    assert printable("ligne 1\r\nligne 2") == "ligne 1 ligne 2"
    assert printable("ligne 1\r\nligne 2", multiline=True) == "ligne 1\nligne 2"


def test_printable_marks_characters_the_fonts_lack_and_limits_length():
    assert printable("王") == MISSING
    assert len(printable("a" * 20_000)) == 5_000
    assert printable(None) == ""


def test_truncate_cuts_at_a_word_with_an_ellipsis():
    assert truncate("un deux trois quatre", 12) == "un deux…"
    assert truncate("court", 12) == "court"
