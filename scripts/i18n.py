"""Refresh the translation catalogues: extract every string, update en and fr, compile.

    .venv/bin/python scripts/i18n.py          # extract + update + compile
    .venv/bin/python scripts/i18n.py --check  # exit 1 if a French string is missing or fuzzy

English is the source language: its catalogue is filled with the source strings, so both catalogues are
complete by construction for English and by hand for French.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "badgehub" / "translations"
LOCALES = ("en", "fr")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3), "lazy_ngettext": (1, 2)}


def extract() -> Catalog:
    """Every translatable string of the Python code and the templates, as a template catalogue."""
    with open(ROOT / "babel.cfg") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    template = Catalog(project="BadgeHub", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def load(locale: str) -> Catalog:
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="BadgeHub", charset="utf-8")
    with open(path, "rb") as handle:
        return read_po(handle, locale=locale)


def missing(catalog: Catalog, template: Catalog) -> list[str]:
    """The template's ids with no translation, or a fuzzy one, in ``catalog``."""
    problems = []
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id, message.context)
        strings = [] if translated is None else (
            list(translated.string) if isinstance(translated.string, tuple) else [translated.string])
        if translated is None or translated.fuzzy or not all(strings):
            problems.append(message.id if isinstance(message.id, str) else message.id[0])
    return problems


def update() -> None:
    template = extract()
    for locale in LOCALES:
        catalog = load(locale)
        # update() adopts the template's message objects: give each locale its own copy.
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
        if locale == "en":
            for message in catalog:
                if not message.id:
                    continue
                if isinstance(message.id, tuple | list):
                    if not all(message.string or ()):
                        message.string = (message.id[0], message.id[1])
                elif not message.string:
                    message.string = message.id
        path = po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, ignore_obsolete=True, include_lineno=False)
        with open(path.with_suffix(".mo"), "wb") as handle:
            write_mo(handle, catalog)
        gaps = missing(catalog, template)
        print(f"{locale}: {len(template)} strings, {len(gaps)} untranslated")


def main() -> int:
    if "--check" in sys.argv:
        template = extract()
        gaps = {locale: missing(load(locale), template) for locale in LOCALES}
        for locale, ids in gaps.items():
            for message_id in ids:
                print(f"{locale}: untranslated: {message_id!r}")
        return 1 if any(gaps.values()) else 0
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main())
