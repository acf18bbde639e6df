"""Territory themes: the priorities a territory reports on, and the tagging of achievements with them.

Rules (written here and nowhere else):

* **Coordinators name the themes.** Only a coordinator of the territory (or a platform admin) adds, renames,
  reorders or deletes its themes (:func:`~badgehub.territory.service.require_coordinator`).
* **UNESCO's six building blocks are a preset.** They are added in one click with fixed codes
  (``unesco-…``) and are named through the translation catalogue, so a French page says « Apprendre en
  famille et dans la communauté » and an English one "Learning in families and communities" whatever language
  the coordinator used. Their ``name`` column keeps the English name, for exports. They cannot be renamed
  (they are UNESCO's words); they can be reordered and removed like the territory's own.
* **Local themes are the territory's own words** (its action domains), stored as typed, in its language; their
  code is derived from the first name and never changes, so filter links (``?theme=<code>``) keep working
  after a rename.
* **Achievements carry the themes of their organisation's territories** (approved or pending membership).
  Tagging is not part of the signed achievement: it makes no new version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from badgehub.achievements.models import Achievement
from badgehub.audit.service import record
from badgehub.catalogue.models import Theme, ThemeKind, achievement_themes
from badgehub.errors import Conflict, NotFound, ValidationError
from badgehub.extensions import db
from badgehub.organisations.service import BADGE_ISSUERS, require_good_standing, require_member
from badgehub.territory.models import MembershipStatus, Territory, TerritoryMembership
from badgehub.territory.service import require_coordinator
from badgehub.territory.slugs import name_sort_key, slugify

NAME_LIMIT: Final = 200
DESCRIPTION_LIMIT: Final = 2000
MAX_THEMES_PER_TERRITORY: Final = 60
MAX_THEMES_PER_ACHIEVEMENT: Final = 12
# Territories whose themes an organisation's achievements may carry.
TAGGING_STATUSES: Final = (MembershipStatus.APPROVED, MembershipStatus.PENDING)


@dataclass(frozen=True)
class Preset:
    """One of UNESCO's building blocks of a learning city (UNESCO Global Network of Learning Cities)."""

    code: str
    name: Any
    description: Any


UNESCO_THEMES: Final[tuple[Preset, ...]] = (
    Preset("unesco-inclusive-learning", _l("Inclusive learning from basic to higher education"),
           _l("Everyone can learn, from basic education to higher education.")),
    Preset("unesco-families-communities", _l("Learning in families and communities"),
           _l("Learning at home, in neighbourhoods, associations, libraries and community centres.")),
    Preset("unesco-workplace", _l("Learning for and in the workplace"),
           _l("Skills learnt for a job and at work, by employees, job seekers and apprentices.")),
    Preset("unesco-learning-technologies", _l("Modern learning technologies"),
           _l("Digital tools used to learn, and the skills to use them.")),
    Preset("unesco-quality", _l("Quality in learning"),
           _l("Learning that is well designed, relevant and recognised.")),
    Preset("unesco-culture-of-learning", _l("A culture of learning throughout life"),
           _l("Learning celebrated and encouraged at every age, in every place.")),
)
UNESCO_BY_CODE: Final = {preset.code: preset for preset in UNESCO_THEMES}
# English names as stored (and exported) whatever the page's language.
UNESCO_ENGLISH: Final = {
    "unesco-inclusive-learning": "Inclusive learning from basic to higher education",
    "unesco-families-communities": "Learning in families and communities",
    "unesco-workplace": "Learning for and in the workplace",
    "unesco-learning-technologies": "Modern learning technologies",
    "unesco-quality": "Quality in learning",
    "unesco-culture-of-learning": "A culture of learning throughout life",
}


def theme_name(theme: Theme) -> str:
    """A theme's name for people: the translated preset name for a UNESCO theme, the stored one otherwise."""
    preset = UNESCO_BY_CODE.get(theme.code) if theme.kind == ThemeKind.UNESCO else None
    return str(preset.name) if preset is not None else theme.name


def theme_description(theme: Theme) -> str:
    """A theme's description for people (translated for UNESCO themes that kept the preset's text)."""
    preset = UNESCO_BY_CODE.get(theme.code) if theme.kind == ThemeKind.UNESCO else None
    if preset is not None and not theme.description:
        return str(preset.description)
    return theme.description


def themes_of(territory: Territory) -> list[Theme]:
    """The territory's themes in the coordinators' order."""
    return list(db.session.scalars(
        select(Theme).where(Theme.territory_id == territory.id).order_by(Theme.position, Theme.id)))


def get_theme_in(territory: Territory, theme_id: int) -> Theme:
    """The theme ``theme_id`` of ``territory``; raises NotFound (also for another territory's theme)."""
    theme = db.session.scalar(select(Theme).where(Theme.id == theme_id, Theme.territory_id == territory.id))
    if theme is None:
        raise NotFound()
    return theme


def _clean(value: str, field: str, limit: int, *, required: bool = False) -> str:
    text = " ".join((value or "").split()) if field == "name" else (value or "").strip()
    if any((ord(char) < 32 and char not in "\n\r\t") or ord(char) == 127 for char in text):
        message = _l("Remove the invisible control characters from this field.")
        raise ValidationError(message, details={"fields": {field: message}})
    if required and not text:
        message = _l("Give the theme a name.")
        raise ValidationError(message, details={"fields": {field: message}})
    if len(text) > limit:
        message = _l("Use at most %(limit)s characters.", limit=limit)
        raise ValidationError(message, details={"fields": {field: message}})
    return text


def _next_position(territory: Territory) -> int:
    highest = db.session.scalar(select(func.max(Theme.position)).where(Theme.territory_id == territory.id))
    return 0 if highest is None else highest + 1


def _count(territory: Territory) -> int:
    return db.session.scalar(select(func.count()).select_from(Theme).where(Theme.territory_id == territory.id)) or 0


def _check_room(territory: Territory, adding: int) -> None:
    if _count(territory) + adding > MAX_THEMES_PER_TERRITORY:
        raise Conflict(_l("A territory can have at most %(limit)s themes.", limit=MAX_THEMES_PER_TERRITORY))


def add_unesco_themes(territory: Territory, actor: Any) -> list[Theme]:
    """Add the UNESCO building blocks the territory does not have yet, after its other themes; return the
    added ones (none when all six are there). Raises NotCoordinator, Conflict (too many themes)."""
    require_coordinator(territory, actor)
    present = set(db.session.scalars(select(Theme.code).where(
        Theme.territory_id == territory.id, Theme.code.in_(list(UNESCO_BY_CODE)))))
    missing = [preset for preset in UNESCO_THEMES if preset.code not in present]
    _check_room(territory, len(missing))
    position = _next_position(territory)
    added = []
    for offset, preset in enumerate(missing):
        theme = Theme(territory_id=territory.id, kind=ThemeKind.UNESCO, code=preset.code,
                      name=UNESCO_ENGLISH[preset.code], description="", position=position + offset)
        db.session.add(theme)
        added.append(theme)
    db.session.flush()
    if added:
        record("territory.themes_added", actor_id=getattr(actor, "id", None), territory_id=territory.id,
               subject_type="territory", subject_id=territory.id, details={"codes": [t.code for t in added]})
    return added


def _unique_code(territory: Territory, name: str) -> str:
    base = slugify(name, fallback="theme")
    taken = set(db.session.scalars(select(Theme.code).where(
        Theme.territory_id == territory.id, Theme.code.like(f"{base}%"))))
    code, number = base, 2
    # "unesco-…" codes are the presets': a local theme never takes one.
    while code in taken or code.startswith("unesco-") or code == "unesco":
        code = f"{base}-{number}"
        number += 1
    return code


def create_theme(territory: Territory, actor: Any, name: str, description: str = "") -> Theme:
    """Add one of the territory's own action domains, after its other themes.

    Raises NotCoordinator, ValidationError (``details["fields"]`` name/description), Conflict when a theme of
    the territory already has this name (ignoring case and accents) or there are too many themes.
    """
    require_coordinator(territory, actor)
    clean_name = _clean(name, "name", NAME_LIMIT, required=True)
    clean_description = _clean(description, "description", DESCRIPTION_LIMIT)
    _refuse_duplicate(territory, clean_name)
    _check_room(territory, 1)
    theme = Theme(territory_id=territory.id, kind=ThemeKind.LOCAL, code=_unique_code(territory, clean_name),
                  name=clean_name, description=clean_description, position=_next_position(territory))
    try:
        # Two coordinators adding the same name at the same moment: the second gets the duplicate message.
        with db.session.begin_nested():
            db.session.add(theme)
            db.session.flush()
    except IntegrityError:
        message = _l("The territory already has a theme with this name.")
        raise Conflict(message, details={"fields": {"name": message}}) from None
    record("territory.theme_created", actor_id=getattr(actor, "id", None), territory_id=territory.id,
           subject_type="theme", subject_id=theme.id, details={"code": theme.code})
    return theme


def _refuse_duplicate(territory: Territory, name: str, *, other_than: int | None = None) -> None:
    wanted = name_sort_key(name)
    for theme in themes_of(territory):
        if theme.id != other_than and name_sort_key(theme_name(theme)) == wanted:
            message = _l("The territory already has a theme with this name.")
            raise Conflict(message, details={"fields": {"name": message}})


def update_theme(theme: Theme, actor: Any, name: str, description: str = "") -> Theme:
    """Rename a local theme and change its description (a UNESCO theme keeps its name; only its description
    changes). Raises NotCoordinator, ValidationError, Conflict (duplicate name)."""
    territory = theme.territory
    require_coordinator(territory, actor)
    clean_description = _clean(description, "description", DESCRIPTION_LIMIT)
    if theme.kind == ThemeKind.LOCAL:
        clean_name = _clean(name, "name", NAME_LIMIT, required=True)
        _refuse_duplicate(territory, clean_name, other_than=theme.id)
        theme.name = clean_name
    theme.description = clean_description
    db.session.flush()
    record("territory.theme_updated", actor_id=getattr(actor, "id", None), territory_id=territory.id,
           subject_type="theme", subject_id=theme.id, details={"code": theme.code})
    return theme


def move_theme(theme: Theme, actor: Any, step: int) -> None:
    """Move a theme one place up (``step`` -1) or down (+1) in the territory's list; nothing at either end.
    Raises NotCoordinator, ValidationError for another step."""
    territory = theme.territory
    require_coordinator(territory, actor)
    if step not in (-1, 1):
        raise ValidationError(_l("Move a theme one place up or down."))
    ordered = themes_of(territory)
    index = next(i for i, t in enumerate(ordered) if t.id == theme.id)
    target = index + step
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    # Renumber the whole list: positions stay dense and unique whatever happened before.
    for position, item in enumerate(ordered):
        item.position = position
    db.session.flush()


def delete_theme(theme: Theme, actor: Any) -> None:
    """Delete a theme; the achievements tagged with it lose that tag (nothing signed changes).
    Raises NotCoordinator."""
    territory = theme.territory
    require_coordinator(territory, actor)
    theme_id, code = theme.id, theme.code
    db.session.delete(theme)
    db.session.flush()
    record("territory.theme_deleted", actor_id=getattr(actor, "id", None), territory_id=territory.id,
           subject_type="theme", subject_id=theme_id, details={"code": code})


def tagging_territories(organisation_id: int) -> list[Territory]:
    """The territories whose themes the organisation's achievements may carry (approved or pending), by name."""
    return list(db.session.scalars(
        select(Territory).join(TerritoryMembership, TerritoryMembership.territory_id == Territory.id)
        .where(TerritoryMembership.organisation_id == organisation_id,
               TerritoryMembership.status.in_(TAGGING_STATUSES))
        .order_by(Territory.name)))


def theme_choices(organisation_id: int) -> list[tuple[Territory, list[Theme]]]:
    """The themes an organisation's achievements may carry, by territory (territories without any left out)."""
    territories = tagging_territories(organisation_id)
    if not territories:
        return []
    themes = db.session.scalars(select(Theme).where(Theme.territory_id.in_([t.id for t in territories]))
                                .order_by(Theme.position, Theme.id)).all()
    grouped = [(territory, [t for t in themes if t.territory_id == territory.id]) for territory in territories]
    return [(territory, items) for territory, items in grouped if items]


def theme_ids_of(achievement: Achievement) -> list[int]:
    """The ids of the themes the achievement is tagged with."""
    return list(db.session.scalars(select(achievement_themes.c.theme_id).where(
        achievement_themes.c.achievement_id == achievement.id).order_by(achievement_themes.c.theme_id)))


def themes_by_achievement(achievement_ids: Iterable[int]) -> dict[int, list[Theme]]:
    """The themes of many achievements at once (one query), each list in the territory's order."""
    ids = list(set(achievement_ids))
    result: dict[int, list[Theme]] = {achievement_id: [] for achievement_id in ids}
    if not ids:
        return result
    rows = db.session.execute(
        select(achievement_themes.c.achievement_id, Theme).join(Theme, Theme.id == achievement_themes.c.theme_id)
        .where(achievement_themes.c.achievement_id.in_(ids)).order_by(Theme.position, Theme.id)).tuples()
    for achievement_id, theme in rows:
        result[achievement_id].append(theme)
    return result


def set_achievement_themes(achievement: Achievement, theme_ids: Sequence[int | str], actor: Any) -> list[int]:
    """Tag the achievement with exactly these themes; return their ids. Owners and issuers only.

    A theme must belong to a territory where the organisation is an approved or pending member; a tag the
    achievement already carries may be given again even if the organisation left that territory since.
    Raises NotFound / Forbidden (see ``require_member``), OrganisationSuspended,
    ValidationError with ``details["fields"]["theme_ids"]``.
    """
    organisation = achievement.organisation
    require_member(organisation, actor, *BADGE_ISSUERS)
    require_good_standing(organisation)
    wanted: list[int] = []
    for raw in theme_ids:
        try:
            theme_id = int(raw)
        except (TypeError, ValueError):
            theme_id = -1
        if theme_id < 0:
            message = _l("Choose themes from the list.")
            raise ValidationError(message, details={"fields": {"theme_ids": message}})
        if theme_id not in wanted:
            wanted.append(theme_id)
    if len(wanted) > MAX_THEMES_PER_ACHIEVEMENT:
        message = _l("Choose at most %(limit)s themes.", limit=MAX_THEMES_PER_ACHIEVEMENT)
        raise ValidationError(message, details={"fields": {"theme_ids": message}})
    current = set(theme_ids_of(achievement))
    offered = {theme.id for _, themes in theme_choices(organisation.id) for theme in themes}
    if any(theme_id not in offered and theme_id not in current for theme_id in wanted):
        message = _l("Choose themes of your organisation's territories.")
        raise ValidationError(message, details={"fields": {"theme_ids": message}})
    if set(wanted) == current:
        return sorted(current)
    db.session.execute(delete(achievement_themes).where(achievement_themes.c.achievement_id == achievement.id))
    if wanted:
        db.session.execute(insert(achievement_themes), [
            {"achievement_id": achievement.id, "theme_id": theme_id} for theme_id in wanted])
    db.session.flush()
    record("achievement.themes_set", actor_id=getattr(actor, "id", None), organisation_id=organisation.id,
           subject_type="achievement", subject_id=achievement.id, details={"theme_ids": sorted(wanted)})
    return sorted(wanted)
