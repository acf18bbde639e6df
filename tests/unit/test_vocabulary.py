"""One vocabulary: the French catalogue keeps to the glossary's words (docs/glossary.md)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
# Words the glossary rules out, with the one to use instead.
RULED_OUT = {r"\bjustificatifs?\b": "attestation", r"\bse loguer\b": "se connecter",
             r"\d%": "a space before % (Babel's percent format)",
             # Issue 16: the lists of participants said "attribuer" where the glossary says "décerner".
             r"(?i)\battribu(?:er|e|é|ée|és|ées|tions?)\b": "décerner (award)"}


def test_the_glossary_exists_in_both_languages() -> None:
    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    for english, french in (("credential", "attestation"), ("certificate", "certificat"), ("wallet", "portefeuille")):
        assert re.search(rf"\| {english}\b[^|]*\| {french}\b", text), english


def test_the_french_catalogue_uses_the_glossary_s_words() -> None:
    with (ROOT / "badgehub" / "translations" / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    found = []
    for message in catalogue:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            found += [(text, instead) for pattern, instead in RULED_OUT.items() if re.search(pattern, text or "")]
    assert found == []
