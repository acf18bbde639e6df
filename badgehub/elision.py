"""French elision around names filled into sentences: "les badges d'Atelier Vélo", not "de Atelier Vélo".

A translation such as ``"Badges de %(name)s"`` cannot know the name. Before the values are filled in, each
``de %(x)s`` / ``que %(x)s`` of a French sentence whose value starts with a vowel becomes ``d'%(x)s`` /
``qu'%(x)s``. Only those two words, and only in French: they are the ones our sentences put before names, and
the rule for them has no exceptions a name would hit (an initial "h" is left alone: aspirated or not, it cannot
be told from the spelling). The app wires it into Flask-Babel's domain (Python code, lazy strings) and into the
templates' ``_``/``gettext``/``ngettext``/``pgettext``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from flask import Flask
from flask_babel import Domain, get_locale
from jinja2 import pass_context
from markupsafe import Markup

_ELIDED: Final = {"de": "d'", "De": "D'", "que": "qu'", "Que": "Qu'"}
_BEFORE_VALUE: Final = re.compile(r"\b(de|De|que|Que) (%\((\w+)\)s)")
_VOWEL: Final = re.compile(r"[AEIOUYÀÂÄÆÉÈÊËÎÏÔÖŒÙÛÜaeiouyàâäæéèêëîïôöœùûü]")


def elide(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with "de"/"que" elided before each ``%(x)s`` whose value (as text) starts with a vowel."""

    def fix(match: re.Match[str]) -> str:
        value = values.get(match.group(3))
        if value is not None and not isinstance(value, (int, float)) and _VOWEL.match(str(value)):
            return _ELIDED[match.group(1)] + match.group(2)
        return match.group(0)

    return _BEFORE_VALUE.sub(fix, template)


_SPACE_BEFORE: Final = re.compile(r" ([:;!?»]|%(?!\())")
_SPACE_AFTER: Final = re.compile(r"« ")


def french_spaces(text: str) -> str:
    """French typography's spaces made unbreakable: before ``: ; ! ? » %`` and after ``«``, so that a line never
    starts with the sign (issue 16: "Motif indiqué" at the end of a line, ": Badges…" on the next)."""
    return _SPACE_AFTER.sub("«\u00a0", _SPACE_BEFORE.sub("\u00a0\\1", text))


def _french() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "fr"


class ElidingDomain(Domain):  # type: ignore[misc]
    """Flask-Babel's domain, eliding French sentences before filling them."""

    def gettext(self, string: str, **variables: Any) -> str:
        if not _french():
            return str(super().gettext(string, **variables))
        text = french_spaces(self.get_translations().ugettext(string))
        return elide(text, variables) % variables if variables else text

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        if not _french():
            return str(super().ngettext(singular, plural, num, **variables))
        variables.setdefault("num", num)
        return elide(french_spaces(self.get_translations().ungettext(singular, plural, num)), variables) % variables

    def pgettext(self, context: str, string: str, **variables: Any) -> str:
        if not _french():
            return str(super().pgettext(context, string, **variables))
        text = french_spaces(self.get_translations().upgettext(context, string))
        return elide(text, variables) % variables if variables else text


def _template_call(lookup: Callable[..., str], *, plural: bool = False) -> Any:
    # What Jinja's "newstyle" gettext does (look up, mark safe under autoescape, fill in), with the elision.
    @pass_context
    def call(context: Any, *args: Any, **variables: Any) -> str:
        text = context.call(lookup, *args)
        if plural:
            variables.setdefault("num", args[-1])
        if _french():
            text = french_spaces(text)
            if variables:
                text = elide(text, variables)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - a sentence of our catalogue; the values are escaped by %
        # Always formatted, as Jinja does, so that "%%" means "%" in every template string.
        return text % variables  # type: ignore[no-any-return]

    return call


def init_app(app: Flask, babel: Any) -> None:
    """Make ``babel`` (already initialised on ``app``) and ``app``'s templates elide French sentences."""
    from flask_babel import get_translations

    babel.domain_instance = ElidingDomain(domain=app.extensions["babel"].default_domain)
    # ``_`` in templates resolves ``gettext``: replacing it covers both.
    app.jinja_env.globals.update(
        gettext=_template_call(lambda s: get_translations().ugettext(s)),
        ngettext=_template_call(lambda s, p, n: get_translations().ungettext(s, p, n), plural=True),
        pgettext=_template_call(lambda c, s: get_translations().upgettext(c, s)),
    )
