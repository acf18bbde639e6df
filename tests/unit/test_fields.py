"""The field rules of badgehub.fields: one rule per kind of field, for forms, services and CSV readers alike."""

from __future__ import annotations

from typing import Any

import pytest

from badgehub import fields
from badgehub.fields import (
    FieldError,
    block,
    check,
    email_address,
    email_key,
    line,
    person_name,
    tidy_block,
    tidy_line,
    web_address,
)


def _refusal(rule: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(FieldError) as caught:
        rule(*args, **kwargs)
    return str(caught.value.message)


def test_line_collapses_white_space_and_keeps_empty_when_optional() -> None:
    assert line("  Atelier \t vélo\n solidaire ", 100) == "Atelier vélo solidaire"
    assert line("   ", 100) == "" and line(None, 100) == ""


def test_line_refuses_empty_when_required_controls_and_excess() -> None:
    assert _refusal(line, " ", 10, required=True) == "This field is required."
    assert "control characters" in _refusal(line, "a\x00b", 10)
    assert "control characters" in _refusal(line, "a\x9bb", 10)
    assert _refusal(line, "x" * 11, 10) == "Use at most 10 characters."
    assert line("x" * 10, 10) == "x" * 10


def test_block_keeps_line_breaks_as_lf_and_refuses_other_controls() -> None:
    assert block("\r\n Un\r\ndeux\rtrois\t!\n", 100) == "Un\ndeux\ntrois\t!"
    assert "control characters" in _refusal(block, "un\x0bdeux", 100)
    assert _refusal(block, "", 100, required=True) == "This field is required."
    assert _refusal(block, "x" * 6, 5) == "Use at most 5 characters."


def test_person_name_is_a_line_that_also_refuses_text_direction_marks() -> None:
    assert person_name("  Léa \t Martin ", 50) == "Léa Martin"
    assert "control characters" in _refusal(person_name, "Léa\u202eniraM", 50)
    assert "control characters" in _refusal(person_name, "Léa\x00", 50)
    assert _refusal(person_name, "", 50, required=True) == "This field is required."
    assert _refusal(person_name, "x" * 51, 50) == "Use at most 50 characters."
    assert line("Léa\u202eniraM", 50) == "Léa\u202eniraM"  # a title may quote any script's marks


def test_tidy_line_drops_controls_before_collapsing_and_refuses_nothing() -> None:
    assert tidy_line(" Très \x00bien \x1c\n noté ") == "Très bien noté"
    assert tidy_line("a\x00b") == "ab"
    assert tidy_line(None) == "" and tidy_line(" \x07 ") == ""


def test_tidy_block_keeps_lines_and_tabs_and_drops_other_controls() -> None:
    assert tidy_block("\r\n Un\r\ndeux\x0b\rtrois\t!\x00\n") == "Un\ndeux\ntrois\t!"
    assert tidy_block(None) == ""


@pytest.mark.parametrize("url", ["https://example.org", " http://a.example.org:8080/p?q=1 ", "https://xn--vlo-bma.fr/x"])
def test_web_address_accepts_absolute_http_addresses(url: str) -> None:
    assert web_address(url) == url.strip()


@pytest.mark.parametrize("url", ["https://", "http://localhost", "https://exa mple.org", "www.example.org",
                                 "ftp://example.org/x", "javascript:alert(1)", "https://example.org:99999/",
                                 "https://example.org/a\tb", "https://example.org/\x00"])
def test_web_address_refuses_anything_else(url: str) -> None:
    assert _refusal(web_address, url).startswith("Give a full web address starting with https://")


def test_web_address_is_optional_unless_required_and_bounded() -> None:
    assert web_address("  ") is None and web_address(None) is None
    assert _refusal(web_address, "", required=True) == "This field is required."
    long = "https://example.org/" + "a" * fields.MAX_URL
    assert _refusal(web_address, long) == f"Use at most {fields.MAX_URL} characters."


def test_email_address_is_trimmed_and_checked() -> None:
    assert email_address("  Lea@Example.org ") == "Lea@example.org"
    for bad in ("", "no-at-sign", "two words@example.org", "a@b", "a@" + "b" * 300 + ".org"):
        assert _refusal(email_address, bad) == "This does not look like an e-mail address."


def test_email_key_is_the_one_comparison_rule() -> None:
    assert email_key("  Ana@Example.ORG ") == email_key("ana@example.org") == "ana@example.org"


def test_check_records_the_refusal_against_the_field() -> None:
    errors: dict[str, Any] = {}
    assert check(errors, "url", web_address, "https://example.org") == "https://example.org"
    assert check(errors, "name", line, "", 10, required=True) is None
    assert list(errors) == ["name"] and str(errors["name"]) == "This field is required."
