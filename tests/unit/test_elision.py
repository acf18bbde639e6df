"""French elision before names: "d'Atelier Vélo", "de Bibliothèque", in code and in templates."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale, gettext, lazy_gettext, ngettext

from badgehub.elision import elide


def test_de_and_que_elide_before_a_vowel_only() -> None:
    assert elide("Badges de %(name)s", {"name": "Atelier Vélo"}) == "Badges d'%(name)s"
    assert elide("Badges de %(name)s", {"name": "Bibliothèque"}) == "Badges de %(name)s"
    assert elide("De %(name)s et que %(other)s", {"name": "Évry", "other": "Ici"}) == "D'%(name)s et qu'%(other)s"
    assert elide("Plus de %(num)s", {"num": 8}) == "Plus de %(num)s"
    assert elide("Badges de %(name)s", {"name": "Halle"}) == "Badges de %(name)s"  # h: left alone
    assert elide("Monde %(name)s", {"name": "Atelier"}) == "Monde %(name)s"


def test_french_pages_and_code_say_d_atelier(ctx) -> None:
    with force_locale("fr"):
        assert gettext("Badges of %(name)s", name="Atelier Vélo") == "Badges d'Atelier Vélo"
        assert str(lazy_gettext("Badges of %(name)s", name="Atelier Vélo")) == "Badges d'Atelier Vélo"
        assert gettext("Badges of %(name)s", name="Bibliothèque") == "Badges de Bibliothèque"
        assert ngettext("%(num)d person", "%(num)d people", 2) == "2 personnes"
        page = render_template_string('{{ _("Badges of %(name)s", name=n) }}', n="Atelier <b>Vélo</b>")
        assert page == "Badges d'Atelier &lt;b&gt;Vélo&lt;/b&gt;"  # the value is escaped, never the sentence
    with force_locale("en"):
        assert gettext("Badges of %(name)s", name="Atelier Vélo") == "Badges of Atelier Vélo"


def test_moments_name_their_time_zone_and_are_never_ambiguous(ctx) -> None:
    import datetime as dt

    from badgehub.moments import moment

    when = dt.datetime(2026, 12, 7, 6, 16, tzinfo=dt.UTC)
    with force_locale("en"):
        assert moment(when, "short") == "Dec 7, 2026, 6:16\u202fAM UTC"
    with force_locale("fr"):
        assert moment(when) == "7 déc. 2026, 06:16 UTC"
        assert render_template_string("{{ w|datetimeformat('short') }}", w=when) == "7 déc. 2026, 06:16 UTC"


def test_french_punctuation_never_starts_a_line(ctx) -> None:
    # Issue 16: "Motif indiqué" ended a line and ": Badges sans rapport…" began the next.
    from badgehub.elision import french_spaces

    assert french_spaces("Motif : %(r)s ; « %(b)s » ? 83 %% de %(n)s !") == (
        "Motif\u00a0: %(r)s\u00a0; «\u00a0%(b)s\u00a0»\u00a0? 83\u00a0%% de %(n)s\u00a0!")
    with force_locale("fr"):
        assert gettext("Your wallet:") == "Votre portefeuille\u00a0:"
        page = render_template_string('{{ _("Hello %(name)s,", name="x") }} {{ _("Your wallet:") }}')
        assert " :" not in page and "\u00a0:" in page
        assert str(lazy_gettext("You already have the badge “%(badge)s”", badge="Lire")) == (
            "Vous avez déjà le badge «\u00a0Lire\u00a0»")
    with force_locale("en"):
        assert "\u00a0" not in gettext("Your wallet:")
