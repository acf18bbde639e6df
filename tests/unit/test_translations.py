"""Both languages are complete, and the compiled catalogues are the ones the .po files describe."""

from __future__ import annotations

import gettext
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _i18n():
    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def i18n():
    return _i18n()


@pytest.fixture(scope="module")
def template(i18n):
    return i18n.extract()


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_every_string_is_translated(i18n, template, locale):
    assert i18n.missing(i18n.load(locale), template) == []


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_compiled_catalogue_matches_its_po_file(i18n, locale):
    catalog = i18n.load(locale)
    with open(i18n.po_path(locale).with_suffix(".mo"), "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for message in catalog:
        if message.id and isinstance(message.id, str) and not message.context and message.string:
            assert compiled.gettext(message.id) == message.string, message.id


def test_french_placeholders_match_the_source(i18n):
    import re

    placeholder = re.compile(r"%\((\w+)\)s")
    for message in i18n.load("fr"):
        if message.id and isinstance(message.id, str) and message.string:
            assert set(placeholder.findall(message.id)) == set(placeholder.findall(message.string)), message.id
