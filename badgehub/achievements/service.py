"""Achievements: what organisations recognise, how it is edited, and the OB 3.0 documents describing it.

Rules (written here and nowhere else; views, API and CLI call these functions):

* **Issuers define.** The owners and issuers of an organisation (``BADGE_ISSUERS``) create, edit, archive and
  restore its achievements; every staff member reads them. To anyone else the management side of another
  organisation's achievements does not exist (NotFound), as for the rest of its management pages.
* **Standing.** A suspended organisation publishes nothing: creating, editing and restoring wait until a
  coordinator reinstates it (``require_good_standing``). Archiving only reduces what it does, so it is allowed.
* **Versions.** A version is locked when the first credential is issued from it (:func:`lock_version`, called
  by the issuing work). Editing an achievement whose current version is locked makes a new version, which
  becomes current; an unlocked version is edited in place. Issued credentials keep their version forever.
* **Archive, never delete.** An archived achievement cannot be issued (:func:`require_issuable`) or edited,
  and still answers at its public URL.
* **Alignments.** An achievement aligns only to competencies of the frameworks of the territories its
  organisation belongs to (approved, pending or suspended membership); one already aligned stays allowed even
  if it was archived since.
* Every change is an audit event. Services flush; the caller commits.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from babel import Locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from badgehub.achievements import images
from badgehub.achievements.errors import AchievementArchived, ImageRejected
from badgehub.achievements.models import Achievement, AchievementCompetency, AchievementVersion
from badgehub.audit.service import record
from badgehub.competencies.models import Competency
from badgehub.competencies.service import alignment_for, competencies_of
from badgehub.credentials.documents import (
    ACHIEVEMENT_TYPES,
    AchievementDefinition,
    Image,
    IssuerProfile,
    forbidden_characters,
)
from badgehub.credentials.values import SELF_DECLARED_TYPE
from badgehub.db import utcnow
from badgehub.errors import NotFound, ValidationError
from badgehub.extensions import db
from badgehub.fields import FieldError, block, check, line, web_address
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import BADGE_ISSUERS, READERS, require_good_standing, require_member
from badgehub.territory.models import MembershipStatus, Territory, TerritoryMembership

PUBLIC_ID_LENGTH: Final = 10
PUBLIC_ID_RE: Final = re.compile(r"[a-z2-7]{10}")
MAX_NAME: Final = 200
MAX_TEXT: Final = 5000
MAX_CRITERIA: Final = 20_000
MAX_TAGS: Final = 20
MAX_TAG: Final = 50
MAX_COMPETENCIES: Final = 30
MAX_VALID_FOR_DAYS: Final = 36_500
DEFAULT_TYPE: Final = "Badge"
# Territory memberships whose framework an organisation may align to.
ALIGNING_STATUSES: Final = (MembershipStatus.APPROVED, MembershipStatus.PENDING, MembershipStatus.SUSPENDED)
# The badge drawn when nobody chose an image.
DEFAULT_DESIGN: Final = images.Design(shape="circle", background="#1d4ed8", foreground="#ffffff",
                                      pictogram="star", text="")
_LANGUAGE_RE: Final = re.compile(r"([a-z]{2,3})(-[A-Z]{2})?")


@dataclass(frozen=True)
class AchievementFields:
    """What an achievement says, as typed by a person or a script; the service validates it.

    ``tags`` is a list or one comma-separated string; ``valid_for_days`` an int, a digit string or empty
    (no expiry); ``competency_ids`` the aligned competencies in the chosen order.
    """

    name: str
    description: str
    criteria_md: str = ""
    criteria_url: str = ""
    achievement_type: str = DEFAULT_TYPE
    tags: Sequence[str] | str = ()
    in_language: str = "fr"
    valid_for_days: int | str | None = None
    evidence_expected: str = ""
    competency_ids: Sequence[int] = ()


@dataclass(frozen=True)
class UploadedImage:
    """The bytes of an uploaded file, checked by :func:`badgehub.achievements.images.read_upload`."""

    data: bytes


# What an image field may hold: an upload, a design to draw (its text is always the badge's name), or None
# (keep the current image; for a new achievement, draw the default design).
ImageChoice = UploadedImage | images.Design | None


def _actor_id(actor: Any) -> int | None:
    value = getattr(actor, "id", None)
    return value if isinstance(value, int) else None


def _base_url(config: Mapping[str, Any]) -> str:
    return str(config["BASE_URL"]).rstrip("/")


def achievement_url(achievement: Achievement, config: Mapping[str, Any]) -> str:
    """The achievement's absolute public URL and OB ``id``: ``<BASE_URL>/achievements/<public_id>`` (``config``:
    the app's)."""
    return f"{_base_url(config)}/achievements/{achievement.public_id}"


def version_image_url(version: AchievementVersion, config: Mapping[str, Any]) -> str:
    """The absolute URL of one version's image, ``…/achievements/<public_id>/v/<n>/image`` (never reused)."""
    return f"{achievement_url(version.achievement, config)}/v/{version.number}/image"


def creator_profile(organisation: Organisation, config: Mapping[str, Any]) -> IssuerProfile:
    """The organisation as the ``creator`` Profile of its achievements (id: its public page's URL)."""
    return IssuerProfile(id=f"{_base_url(config)}/issuers/{organisation.slug}", name=organisation.name,
                         url=organisation.url or None, email=organisation.email or None,
                         image=Image(organisation.image_url) if organisation.image_url else None)


def achievement_definition(version: AchievementVersion, config: Mapping[str, Any], *,
                           creator: IssuerProfile | None = None) -> AchievementDefinition:
    """The OB 3.0 ``Achievement`` of ``version``, for :func:`~badgehub.credentials.documents.build_credential`
    and the public JSON-LD.

    ``id`` is the achievement's URL (the same for every version), ``version`` the version number, ``image`` the
    URL of this version's image, ``alignment`` one entry per aligned competency in the chosen order.
    ``creator`` defaults to :func:`creator_profile`; issuing passes the issuer Profile it signs with so that
    both agree. ``config`` is the app's (``BASE_URL``). Call :func:`lock_version` first when the definition goes
    into a credential.
    """
    achievement = version.achievement
    return AchievementDefinition(
        id=achievement_url(achievement, config), name=version.name, description=version.description,
        criteria_narrative=version.criteria_md or None, criteria_id=version.criteria_url or None,
        image=Image(version_image_url(version, config)), achievement_type=version.achievement_type,
        alignments=tuple(alignment_for(competency, config) for competency in version.competencies),
        tags=tuple(version.tags or ()), in_language=version.in_language,
        creator=creator or creator_profile(achievement.organisation, config), version=str(version.number))


def _new_public_id() -> str:
    # 50 random bits in base32 (lower case, no padding): short enough for a QR code, long enough not to guess.
    for _ in range(20):
        candidate = base64.b32encode(secrets.token_bytes(7)).decode("ascii").lower()[:PUBLIC_ID_LENGTH]
        if db.session.scalar(select(Achievement.id).where(Achievement.public_id == candidate)) is None:
            return candidate
    raise RuntimeError("no free achievement id after 20 draws")  # pragma: no cover - 2**50 ids


def _clean_tags(value: Sequence[str] | str, errors: dict[str, Any]) -> list[str]:
    raw = value.split(",") if isinstance(value, str) else list(value)
    tags: list[str] = []
    for item in raw:
        tag = " ".join(str(item).split())
        if not tag or tag.casefold() in (t.casefold() for t in tags):
            continue
        try:
            line(tag, MAX_TAG)  # a keyword is a line (fields' rule); a long one gets a message of its own
        except FieldError as error:
            errors["tags"] = (error.message if forbidden_characters(tag) or len(tag) <= MAX_TAG
                              else _l("Each keyword may have at most %(limit)s characters.", limit=MAX_TAG))
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        errors["tags"] = _l("Give at most %(limit)s keywords.", limit=MAX_TAGS)
    return tags


def language_known(code: str) -> bool:
    """True for a language code like ``fr`` or ``pt-BR`` whose language CLDR knows."""
    match = _LANGUAGE_RE.fullmatch(code or "")
    return match is not None and match.group(1) in Locale("en").languages


def _clean_days(value: int | str | None, errors: dict[str, Any]) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        days = int(str(value).strip())
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_VALID_FOR_DAYS:
        errors["valid_for_days"] = _l("Give a whole number of days between 1 and %(limit)s, or leave it empty.",
                                      limit=MAX_VALID_FOR_DAYS)
        return None
    return days


def territories_for_alignment(organisation: Organisation) -> list[Territory]:
    """The territories whose frameworks the organisation may align its achievements to, by name."""
    return list(db.session.scalars(
        select(Territory).join(TerritoryMembership, TerritoryMembership.territory_id == Territory.id)
        .where(TerritoryMembership.organisation_id == organisation.id,
               TerritoryMembership.status.in_(ALIGNING_STATUSES))
        .order_by(Territory.name)))


def alignment_choices(organisation: Organisation) -> list[tuple[Territory, list[Competency]]]:
    """The competencies offered for alignment, grouped by territory (territories without any are left out)."""
    choices = [(territory, competencies_of(territory)) for territory in territories_for_alignment(organisation)]
    return [(territory, competencies) for territory, competencies in choices if competencies]


def _clean_competencies(organisation: Organisation, ids: Sequence[int], already: Iterable[int],
                        errors: dict[str, Any]) -> list[Competency]:
    wanted: list[int] = []
    for raw in ids:
        try:
            competency_id = int(raw)
        except (TypeError, ValueError):
            errors["competency_ids"] = _l("Choose competencies from the list.")
            return []
        if competency_id not in wanted:
            wanted.append(competency_id)
    if len(wanted) > MAX_COMPETENCIES:
        errors["competency_ids"] = _l("Choose at most %(limit)s competencies.", limit=MAX_COMPETENCIES)
        return []
    if not wanted:
        return []
    offered = {c.id: c for _, competencies in alignment_choices(organisation) for c in competencies}
    kept = set(already)
    for competency_id in kept - offered.keys():
        if competency_id in wanted:
            competency = db.session.get(Competency, competency_id)
            if competency is not None:
                offered[competency_id] = competency
    if any(competency_id not in offered for competency_id in wanted):
        errors["competency_ids"] = _l("Choose competencies from the frameworks of your organisation's territories.")
        return []
    return [offered[competency_id] for competency_id in wanted]


def clean_fields(organisation: Organisation, fields: AchievementFields, *,
                 already_aligned: Iterable[int] = ()) -> tuple[dict[str, Any], list[Competency], dict[str, Any]]:
    """Validate ``fields``: ``(column values, competencies, field errors)`` — errors empty when all is well."""
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {
        "name": check(errors, "name", line, fields.name, MAX_NAME, required=True),
        "description": check(errors, "description", block, fields.description, MAX_TEXT, required=True),
        "criteria_md": check(errors, "criteria_md", block, fields.criteria_md, MAX_CRITERIA),
        "criteria_url": check(errors, "criteria_url", web_address, fields.criteria_url),
        "tags": _clean_tags(fields.tags, errors),
        "valid_for_days": _clean_days(fields.valid_for_days, errors),
        "evidence_expected": check(errors, "evidence_expected", block, fields.evidence_expected, MAX_TEXT),
    }
    if (not values["criteria_md"] and not values["criteria_url"]
            and "criteria_md" not in errors and "criteria_url" not in errors):
        errors["criteria_md"] = _l("Say what someone must do to earn this badge, or give the address of a page "
                                   "that says it.")
    achievement_type = (fields.achievement_type or DEFAULT_TYPE).strip()
    if achievement_type not in ACHIEVEMENT_TYPES and achievement_type != SELF_DECLARED_TYPE:
        errors["achievement_type"] = _l("Choose one of the values offered.")
    values["achievement_type"] = achievement_type
    language = (fields.in_language or "").strip()
    if not language_known(language):
        errors["in_language"] = _l("Choose one of the values offered.")
    values["in_language"] = language
    competencies = _clean_competencies(organisation, fields.competency_ids, already_aligned, errors)
    return values, competencies, errors


def _image_for(choice: ImageChoice, name: str) -> images.BadgeImage | None:
    if isinstance(choice, UploadedImage):
        return images.read_upload(choice.data)
    if isinstance(choice, images.Design):
        return images.generate(replace(choice, text=name))
    return None


def _checked(organisation: Organisation, fields: AchievementFields, image: ImageChoice, *,
             already_aligned: Iterable[int] = ()) -> tuple[dict[str, Any], list[Competency], images.BadgeImage | None]:
    """Validate everything at once: the fields, then the image. Raises ValidationError with
    ``details["fields"]`` (every problem), or the ImageRejected itself when only the image is wrong."""
    values, competencies, errors = clean_fields(organisation, fields, already_aligned=already_aligned)
    try:
        badge_image = _image_for(image, values["name"] or "")
    except ImageRejected as rejected:
        if not errors:
            raise
        errors[rejected.details["field"]] = rejected.message
        badge_image = None
    if errors:
        raise ValidationError(details={"fields": errors})
    return values, competencies, badge_image


def _set_image(version: AchievementVersion, image: images.BadgeImage) -> None:
    version.image = image.data
    version.image_media_type = image.media_type
    version.image_sha256 = image.sha256
    version.image_source = image.source
    version.image_params = dict(image.params) if image.params is not None else None


def _set_competencies(version: AchievementVersion, competencies: Sequence[Competency]) -> None:
    version.alignments = [AchievementCompetency(competency_id=c.id, competency=c, position=index)
                          for index, c in enumerate(competencies)]


def create_achievement(organisation: Organisation, actor: Any, fields: AchievementFields,
                       image: ImageChoice = None) -> Achievement:
    """Create an achievement with its first version and return it; owners and issuers only.

    ``image`` is an upload, a design (drawn with the badge's name) or None (the default design). Raises
    NotFound / Forbidden (see ``require_member``), OrganisationSuspended, ValidationError with
    ``details["fields"]``, ImageRejected when only the image is wrong.
    """
    require_member(organisation, actor, *BADGE_ISSUERS)
    require_good_standing(organisation)
    values, competencies, badge_image = _checked(organisation, fields, image if image is not None else DEFAULT_DESIGN)
    assert badge_image is not None
    achievement = Achievement(organisation_id=organisation.id, organisation=organisation, public_id=_new_public_id())
    version = AchievementVersion(number=1, created_by_id=_actor_id(actor), **values)
    _set_image(version, badge_image)
    _set_competencies(version, competencies)
    achievement.versions = [version]
    db.session.add(achievement)
    db.session.flush()
    achievement.current_version = version
    record("achievement.created", actor_id=_actor_id(actor), organisation_id=organisation.id,
           subject_type="achievement", subject_id=achievement.id,
           details={"public_id": achievement.public_id, "version": 1})
    db.session.flush()
    return achievement


_COMPARED: Final = ("name", "description", "criteria_md", "criteria_url", "achievement_type", "tags", "in_language",
                    "valid_for_days", "evidence_expected")


def _current(achievement: Achievement) -> AchievementVersion:
    # Re-read under a row lock: an issuer locking this version at the same moment either finishes first (and
    # the edit makes a new version) or waits until the edit is committed (and signs the edited text).
    version = db.session.scalar(
        select(AchievementVersion).where(AchievementVersion.id == achievement.current_version_id)
        .with_for_update().execution_options(populate_existing=True))
    if version is None:  # pragma: no cover - every achievement is created with a version
        raise NotFound()
    return version


def update_achievement(achievement: Achievement, actor: Any, fields: AchievementFields,
                       image: ImageChoice = None) -> AchievementVersion:
    """Change what an achievement says and return its current version; owners and issuers only.

    A locked current version is left as it is and a new version (number + 1) becomes current; an unlocked one
    is changed in place. Nothing changes (and nothing is recorded) when the values are the same. ``image`` None
    keeps the image — a generated image is drawn again when the name changes. Raises NotFound / Forbidden,
    OrganisationSuspended, AchievementArchived, ValidationError, ImageRejected.
    """
    organisation = achievement.organisation
    require_member(organisation, actor, *BADGE_ISSUERS)
    require_good_standing(organisation)
    if achievement.is_archived:
        raise AchievementArchived()
    current = _current(achievement)
    old_competencies = [alignment.competency_id for alignment in current.alignments]
    values, competencies, badge_image = _checked(organisation, fields, image, already_aligned=old_competencies)
    if badge_image is None and current.image_source == "generated" and current.image_params \
            and values["name"] != current.name:
        badge_image = images.generate(images.Design.from_params(current.image_params, text=values["name"]))
    changed = [key for key in _COMPARED if getattr(current, key) != values[key]]
    if [c.id for c in competencies] != old_competencies:
        changed.append("competencies")
    if badge_image is not None and badge_image.sha256 != current.image_sha256:
        changed.append("image")
    if not changed:
        return current
    if current.is_locked:
        version = AchievementVersion(achievement_id=achievement.id, number=current.number + 1,
                                     created_by_id=_actor_id(actor), **values)
        _set_image(version, badge_image or images.BadgeImage(current.image, current.image_media_type,
                                                              current.image_source, current.image_params))
        _set_competencies(version, competencies)
        db.session.add(version)
        db.session.flush()
        achievement.current_version = version
    else:
        version = current
        for key, value in values.items():
            setattr(version, key, value)
        if badge_image is not None:
            _set_image(version, badge_image)
        if "competencies" in changed:
            _set_competencies(version, competencies)
    record("achievement.updated", actor_id=_actor_id(actor), organisation_id=organisation.id,
           subject_type="achievement", subject_id=achievement.id,
           details={"version": version.number, "new_version": version is not current, "fields": changed})
    db.session.flush()
    return version


def archive_achievement(achievement: Achievement, actor: Any, *, now: dt.datetime | None = None) -> Achievement:
    """Archive the achievement: it can no longer be issued or edited, and stays at its URL. Owners and issuers;
    allowed while suspended (it only takes away). Archiving an archived achievement changes nothing.
    Raises NotFound / Forbidden."""
    require_member(achievement.organisation, actor, *BADGE_ISSUERS)
    if achievement.archived_at is None:
        achievement.archived_at = now or utcnow()
        record("achievement.archived", actor_id=_actor_id(actor), organisation_id=achievement.organisation_id,
               subject_type="achievement", subject_id=achievement.id)
        db.session.flush()
    return achievement


def unarchive_achievement(achievement: Achievement, actor: Any) -> Achievement:
    """Restore an archived achievement so that it can be issued again; owners and issuers, in good standing.
    Raises NotFound / Forbidden, OrganisationSuspended."""
    require_member(achievement.organisation, actor, *BADGE_ISSUERS)
    require_good_standing(achievement.organisation)
    if achievement.archived_at is not None:
        achievement.archived_at = None
        record("achievement.unarchived", actor_id=_actor_id(actor), organisation_id=achievement.organisation_id,
               subject_type="achievement", subject_id=achievement.id)
        db.session.flush()
    return achievement


def _with_current() -> Any:
    return selectinload(Achievement.current_version)


def get_for_organisation(organisation: Organisation, actor: Any, public_id: str) -> Achievement:
    """The organisation's achievement ``public_id``, for its staff. Raises NotFound (unknown, another
    organisation's, or an actor who is not staff)."""
    require_member(organisation, actor, *READERS)
    achievement = db.session.scalar(select(Achievement).options(_with_current()).where(
        Achievement.public_id == public_id, Achievement.organisation_id == organisation.id))
    if achievement is None:
        raise NotFound()
    return achievement


def list_for_organisation(organisation: Organisation, actor: Any, *,
                          archived: bool | None = False) -> list[Achievement]:
    """The organisation's achievements by name, for its staff: active ones (``archived=False``), archived ones
    (``True``) or all (``None``). Raises NotFound for an actor who is not staff."""
    require_member(organisation, actor, *READERS)
    return _by_name(organisation, archived)


def active_badges(organisation: Organisation) -> list[Achievement]:
    """The organisation's badges that are not archived and have a version, by name, their current versions
    loaded: what can be awarded, chosen for a pathway or for a request. The caller has checked who asks."""
    return [achievement for achievement in _by_name(organisation, False) if achievement.current_version is not None]


def _by_name(organisation: Organisation, archived: bool | None) -> list[Achievement]:
    query = select(Achievement).options(_with_current()).where(Achievement.organisation_id == organisation.id)
    if archived is True:
        query = query.where(Achievement.archived_at.is_not(None))
    elif archived is False:
        query = query.where(Achievement.archived_at.is_(None))
    found = list(db.session.scalars(query))
    return sorted(found, key=lambda a: ((a.current_version.name if a.current_version else "").casefold(), a.id))


def public_achievement(public_id: str) -> Achievement:
    """Any achievement by its public id, archived or not (public pages). Raises NotFound."""
    if not PUBLIC_ID_RE.fullmatch(public_id or ""):
        raise NotFound()
    achievement = db.session.scalar(select(Achievement).options(_with_current(), selectinload(
        Achievement.organisation)).where(Achievement.public_id == public_id))
    if achievement is None or achievement.current_version is None:
        raise NotFound()
    return achievement


def version_of(achievement: Achievement, number: int) -> AchievementVersion:
    """The version ``number`` of the achievement. Raises NotFound."""
    version = db.session.scalar(select(AchievementVersion).where(
        AchievementVersion.achievement_id == achievement.id, AchievementVersion.number == number))
    if version is None:
        raise NotFound()
    return version


def versions_of(achievement: Achievement) -> list[AchievementVersion]:
    """Every version of the achievement, newest first."""
    return list(db.session.scalars(select(AchievementVersion).where(
        AchievementVersion.achievement_id == achievement.id).order_by(AchievementVersion.number.desc())))


def require_issuable(achievement: Achievement) -> AchievementVersion:
    """Return the version to issue from: the current one. Raises AchievementArchived for an archived achievement.

    Whether the *organisation* may issue (staff role, standing) is the issuing work's check.
    """
    if achievement.is_archived:
        raise AchievementArchived()
    if achievement.current_version is None:  # pragma: no cover - every achievement is created with a version
        raise NotFound()
    return achievement.current_version


def lock_version(version: AchievementVersion, *, now: dt.datetime | None = None) -> AchievementVersion:
    """Freeze ``version`` because a credential is being issued from it; from now on editing makes a new version.

    Idempotent. Done with a conditional UPDATE in the caller's transaction, then the row is read again: if an
    edit of this version was committed meanwhile, the caller signs what was committed. Call it before
    :func:`achievement_definition`.
    """
    if version.locked_at is not None:
        return version  # read locked in this transaction: a locked version never changes again
    db.session.execute(
        update(AchievementVersion).where(AchievementVersion.id == version.id, AchievementVersion.locked_at.is_(None))
        .values(locked_at=now or utcnow()).execution_options(synchronize_session=False))
    db.session.refresh(version)
    return version
