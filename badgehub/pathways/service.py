"""Defining pathways, who may see and change them, and the holders' progress; the rules, written here only.

* **Who defines.** Whoever may sign for the owner organisation (:func:`~badgehub.endorsements.territory_issuers.
  acts_for`): its owners and issuers, its API tokens, and for a territory's issuer, the territory's
  coordinators (the pathway is then the territory's: ``territory_id`` is set). Viewers of the organisation see
  its drafts; anyone else sees a pathway once it is published, and a draft or an archived one is "not found".
* **What a definition holds** (:func:`clean_definition`): a name (a line, required), a description (a block), the
  language they are written in (like an achievement's), one to :data:`MAX_GROUPS` groups of one to
  :data:`MAX_STEPS` achievements each (any organisation's, not archived, each at most once in the pathway), each
  with a minimum count between 1 and its number of steps (all of them when not given) and ordered or not; and
  what it leads to, at least one of: a pathway badge (one of the owner's own achievements, not archived, not one
  of the steps) and a qualification (an RNCP / ESCO reference address, its name, a job profile).
* **Life.** Drafts are edited freely; publishing makes the pathway public and lets it award its badge
  (:mod:`badgehub.pathways.award`); a published pathway may still be edited (completions stand); archiving ends
  it and it cannot be changed any more.
* **Progress** (:func:`held_by`, :func:`wallet_progress`): a holder is every verified address of one account;
  revoked and expired credentials do not count; the computation itself is :mod:`badgehub.pathways.progress`.

Services flush; the caller commits.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from badgehub.accounts.addresses import verified_keys
from badgehub.accounts.models import User, WalletEmail
from badgehub.achievements.models import Achievement
from badgehub.achievements.service import PUBLIC_ID_RE as ACHIEVEMENT_ID_RE
from badgehub.achievements.service import active_badges, language_known
from badgehub.audit.service import record
from badgehub.db import utcnow
from badgehub.endorsements.territory_issuers import actor_id_of, acts_for, territory_of_issuer
from badgehub.errors import Forbidden, ValidationError
from badgehub.extensions import db
from badgehub.fields import block, check, line, web_address
from badgehub.issuing.models import IssuedCredential
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import membership_of
from badgehub.pathways.errors import PathwayNotEditable, PathwayNotFound
from badgehub.pathways.models import Pathway, PathwayCompletion, PathwayGroup, PathwayStatus, PathwayStep
from badgehub.pathways.progress import PathwayProgress, pathway_progress

MAX_NAME: Final = 200
MAX_DESCRIPTION: Final = 5000
MAX_JOB_PROFILE: Final = 5000
MAX_GROUPS: Final = 10
MAX_STEPS: Final = 20
PUBLIC_ID_RE: Final = re.compile(r"[a-z2-7]{12}")


class CannotManagePathways(Forbidden):
    code = "cannot_manage_pathways"
    default_message = _l("You cannot define pathways in this organisation's name.")


@dataclass(frozen=True)
class GroupInput:
    """One group as typed: its title, whether ordered, its minimum (empty: all steps) and its achievements'
    public ids in order (empty entries are ignored)."""

    title: str = ""
    ordered: bool = False
    min_count: int | str | None = None
    achievements: tuple[str, ...] = ()


@dataclass(frozen=True)
class PathwayFields:
    """A pathway's definition as typed (web form or API)."""

    name: str = ""
    description: str = ""
    in_language: str = "fr"
    achievement: str | None = None
    qualification_uri: str | None = None
    qualification_name: str = ""
    job_profile: str = ""
    groups: tuple[GroupInput, ...] = ()


@dataclass(frozen=True)
class _CleanGroup:
    title: str
    ordered: bool
    min_count: int
    achievements: tuple[Achievement, ...]


def new_public_id() -> str:
    return base64.b32encode(secrets.token_bytes(8)).decode("ascii").lower()[:12]


def holder_digest(key: str) -> str:
    """What :class:`~badgehub.pathways.models.PathwayCompletion` keeps of a holder's e-mail key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------------- definition


def _achievement_by_public_id(public_id: str) -> Achievement | None:
    if not ACHIEVEMENT_ID_RE.fullmatch(public_id):
        return None
    found: Achievement | None = db.session.scalar(select(Achievement).where(Achievement.public_id == public_id))
    return found


def _min_count(value: int | str | None, steps: int, errors: dict[str, Any], key: str) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return steps
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= max(steps, 1):
        errors[key] = _l("Give a number between 1 and %(max)s (the number of badges in the group).", max=max(steps, 1))
    return number


def _clean_groups(groups: Sequence[GroupInput], errors: dict[str, Any]) -> list[_CleanGroup]:
    cleaned: list[_CleanGroup] = []
    seen: set[int] = set()
    typed = [group for group in groups if any(a.strip() for a in group.achievements) or group.title.strip()]
    if not typed:
        errors["groups"] = _l("Add at least one group of badges.")
    elif len(typed) > MAX_GROUPS:
        errors["groups"] = _l("A pathway has at most %(max)s groups.", max=MAX_GROUPS)
    for index, group in enumerate(typed[:MAX_GROUPS]):
        title = check(errors, f"groups-{index}-title", line, group.title, MAX_NAME) or ""
        ids = [a.strip() for a in group.achievements if a and a.strip()]
        found: list[Achievement] = []
        if not ids:
            errors[f"groups-{index}-achievements"] = _l("Choose at least one badge for this group.")
        elif len(ids) > MAX_STEPS:
            errors[f"groups-{index}-achievements"] = _l("A group has at most %(max)s badges.", max=MAX_STEPS)
        for public_id in ids[:MAX_STEPS]:
            achievement = _achievement_by_public_id(public_id)
            if achievement is None or achievement.current_version is None:
                errors[f"groups-{index}-achievements"] = _l("There is no badge “%(id)s”.", id=public_id[:40])
            elif achievement.is_archived:
                errors[f"groups-{index}-achievements"] = _l("The badge “%(name)s” is no longer awarded.",
                                                            name=achievement.current_version.name)
            elif achievement.id in seen:
                errors[f"groups-{index}-achievements"] = _l("The badge “%(name)s” is already a step of this pathway.",
                                                            name=achievement.current_version.name)
            else:
                seen.add(achievement.id)
                found.append(achievement)
        minimum = _min_count(group.min_count, len(ids), errors, f"groups-{index}-min_count")
        cleaned.append(_CleanGroup(title, bool(group.ordered), minimum, tuple(found)))
    return cleaned


def _clean_badge(organisation: Organisation, public_id: str | None, steps: Iterable[Achievement],
                 errors: dict[str, Any]) -> Achievement | None:
    wanted = (public_id or "").strip()
    if not wanted:
        return None
    achievement = _achievement_by_public_id(wanted)
    if achievement is None or achievement.organisation_id != organisation.id:
        errors["achievement"] = _l("Choose one of your organisation's badges.")
    elif achievement.is_archived:
        errors["achievement"] = _l("This badge is no longer awarded: choose another one.")
    elif any(step.id == achievement.id for step in steps):
        errors["achievement"] = _l("The pathway's badge cannot be one of its steps.")
    else:
        return achievement
    return None


def clean_definition(organisation: Organisation, fields: PathwayFields) -> dict[str, Any]:
    """The checked values of a definition (see the module docstring). Raises ``ValidationError`` whose
    ``details["fields"]`` maps each wrong field (``name``, ``description``, ``in_language``, ``achievement``,
    ``qualification_uri``, ``qualification_name``, ``job_profile``, ``groups``, ``groups-<n>-title``,
    ``groups-<n>-achievements``, ``groups-<n>-min_count``) to its message."""
    errors: dict[str, Any] = {}
    name = check(errors, "name", line, fields.name, MAX_NAME, required=True) or ""
    description = check(errors, "description", block, fields.description, MAX_DESCRIPTION) or ""
    language = (fields.in_language or "").strip()
    if not language_known(language):
        errors["in_language"] = _l("Choose one of the values offered.")
    groups = _clean_groups(fields.groups, errors)
    steps = [achievement for group in groups for achievement in group.achievements]
    badge = _clean_badge(organisation, fields.achievement, steps, errors)
    uri = check(errors, "qualification_uri", web_address, fields.qualification_uri)
    qualification_name = check(errors, "qualification_name", line, fields.qualification_name, MAX_NAME) or ""
    job_profile = check(errors, "job_profile", block, fields.job_profile, MAX_JOB_PROFILE) or ""
    if (badge is None and uri is None and "achievement" not in errors and "qualification_uri" not in errors):
        errors["achievement"] = _l("Choose the badge the pathway leads to, or give a qualification's reference.")
    if errors:
        raise ValidationError(details={"fields": errors})
    return {"name": name, "description": description, "in_language": language, "achievement": badge,
            "qualification_uri": uri, "qualification_name": qualification_name, "job_profile": job_profile,
            "groups": groups}


def _apply(pathway: Pathway, values: dict[str, Any]) -> None:
    pathway.name, pathway.description = values["name"], values["description"]
    pathway.in_language = values["in_language"]
    pathway.achievement = values["achievement"]
    pathway.qualification_uri = values["qualification_uri"]
    pathway.qualification_name, pathway.job_profile = values["qualification_name"], values["job_profile"]
    pathway.groups.clear()
    db.session.flush()  # the old groups go before the new ones take their steps
    for position, group in enumerate(values["groups"]):
        pathway.groups.append(PathwayGroup(
            position=position, title=group.title, ordered=group.ordered, min_count=group.min_count,
            steps=[PathwayStep(achievement_id=a.id, position=n) for n, a in enumerate(group.achievements)]))


def require_manager(organisation: Organisation, actor: Any) -> None:
    """Raise :class:`CannotManagePathways` (403) unless ``actor`` may define ``organisation``'s pathways."""
    if not acts_for(organisation, actor):
        raise CannotManagePathways()


def create_pathway(organisation: Organisation, actor: Any, fields: PathwayFields, *,
                   now: dt.datetime | None = None) -> Pathway:
    """A new draft pathway of ``organisation`` (the territory's, when it is a territory's issuer). Raises
    :class:`CannotManagePathways` and what :func:`clean_definition` raises. Flushes."""
    require_manager(organisation, actor)
    values = clean_definition(organisation, fields)
    moment = now or utcnow()
    territory = territory_of_issuer(organisation)
    pathway = Pathway(public_id=new_public_id(), organisation_id=organisation.id,
                      territory_id=territory.id if territory is not None else None, status=PathwayStatus.DRAFT,
                      created_at=moment, updated_at=moment, created_by_id=actor_id_of(actor), groups=[])
    db.session.add(pathway)
    _apply(pathway, values)
    db.session.flush()
    record("pathway.created", actor_id=actor_id_of(actor), organisation_id=organisation.id,
           subject_type="pathway", subject_id=pathway.id, details={"public_id": pathway.public_id})
    return pathway


def update_pathway(pathway: Pathway, actor: Any, fields: PathwayFields, *, now: dt.datetime | None = None) -> Pathway:
    """Change a pathway's definition. Raises :class:`PathwayNotFound` for someone who may not manage it,
    :class:`PathwayNotEditable` for an archived one, and what :func:`clean_definition` raises. Flushes."""
    if not acts_for(pathway.organisation, actor):
        raise PathwayNotFound()
    if pathway.status is PathwayStatus.ARCHIVED:
        raise PathwayNotEditable()
    values = clean_definition(pathway.organisation, fields)
    _apply(pathway, values)
    pathway.updated_at = now or utcnow()
    db.session.flush()
    record("pathway.updated", actor_id=actor_id_of(actor), organisation_id=pathway.organisation_id,
           subject_type="pathway", subject_id=pathway.id, details={"public_id": pathway.public_id})
    return pathway


def set_status(pathway: Pathway, actor: Any, status: PathwayStatus | str, *,
               now: dt.datetime | None = None) -> Pathway:
    """Publish or archive ``pathway`` (an archived one stays archived). Raises :class:`PathwayNotFound` for
    someone who may not manage it, :class:`PathwayNotEditable` once archived, ``ValidationError`` for another
    status. Flushes."""
    if not acts_for(pathway.organisation, actor):
        raise PathwayNotFound()
    try:
        wanted = PathwayStatus(status)
    except ValueError:
        raise ValidationError(details={"fields": {"status": _l("Choose one of the values offered.")}}) from None
    if wanted is PathwayStatus.DRAFT:
        raise ValidationError(details={"fields": {"status": _l("Choose one of the values offered.")}})
    if pathway.status is PathwayStatus.ARCHIVED:
        raise PathwayNotEditable()
    if pathway.status is not wanted:
        moment = now or utcnow()
        pathway.status = wanted
        pathway.updated_at = moment
        if wanted is PathwayStatus.PUBLISHED:
            pathway.published_at = moment
        record(f"pathway.{wanted.value}", actor_id=actor_id_of(actor), organisation_id=pathway.organisation_id,
               subject_type="pathway", subject_id=pathway.id, details={"public_id": pathway.public_id})
        db.session.flush()
    return pathway


# --------------------------------------------------------------------------------------------- look-ups


def _with_steps(query: Any) -> Any:
    return query.options(
        selectinload(Pathway.groups).selectinload(PathwayGroup.steps).selectinload(PathwayStep.achievement)
        .selectinload(Achievement.current_version),
        selectinload(Pathway.groups).selectinload(PathwayGroup.steps).selectinload(PathwayStep.achievement)
        .selectinload(Achievement.organisation),
        selectinload(Pathway.organisation), selectinload(Pathway.territory),
        selectinload(Pathway.achievement).selectinload(Achievement.current_version))


def may_see_drafts(organisation: Organisation, actor: Any) -> bool:
    """Whether ``actor`` sees ``organisation``'s drafts and archived pathways: its staff (any role) and those
    who sign for it."""
    return acts_for(organisation, actor) or (getattr(actor, "is_authenticated", False)
                                             and membership_of(organisation, actor) is not None)


def _by_public_id(public_id: str) -> Pathway | None:
    if not isinstance(public_id, str) or not PUBLIC_ID_RE.fullmatch(public_id):
        return None
    found: Pathway | None = db.session.scalar(_with_steps(select(Pathway)).where(Pathway.public_id == public_id))
    return found


def visible_pathway(public_id: str, actor: Any) -> Pathway:
    """A published pathway, or a draft or archived one that ``actor`` may see. Raises :class:`PathwayNotFound`."""
    found = _by_public_id(public_id)
    if found is None or (not found.is_public and not may_see_drafts(found.organisation, actor)):
        raise PathwayNotFound()
    return found


def pathway_for(organisation: Organisation, public_id: str) -> Pathway:
    """One of ``organisation``'s pathways; another's is :class:`PathwayNotFound` (404)."""
    found = _by_public_id(public_id)
    if found is None or found.organisation_id != organisation.id:
        raise PathwayNotFound()
    return found


def pathways_of(organisation: Organisation) -> list[Pathway]:
    """Every pathway of ``organisation``, drafts and archived ones included, by name."""
    return list(db.session.scalars(_with_steps(select(Pathway)).where(Pathway.organisation_id == organisation.id)
                                   .order_by(Pathway.name, Pathway.id)))


def published_pathways(*, territory_id: int | None = None, organisation_id: int | None = None) -> list[Pathway]:
    """Published pathways, of one territory (those it owns and those of its member organisations are the
    caller's choice: this lists what ``territory_id`` / ``organisation_id`` own), by name."""
    query = _with_steps(select(Pathway)).where(Pathway.status == PathwayStatus.PUBLISHED)
    if territory_id is not None:
        query = query.where(Pathway.territory_id == territory_id)
    if organisation_id is not None:
        query = query.where(Pathway.organisation_id == organisation_id)
    return list(db.session.scalars(query.order_by(Pathway.name, Pathway.id)))


def pathways_with_steps(achievement_ids: Iterable[int], *, for_pages: bool = True) -> list[Pathway]:
    """The published pathways one of whose steps is one of ``achievement_ids``; with what pages show of each
    step (its badge's name and organisation), or, ``for_pages=False``, only the groups and steps that progress
    needs (issuing calls this for every award)."""
    ids = set(achievement_ids)
    if not ids:
        return []
    touched = (select(PathwayGroup.pathway_id).join(PathwayStep, PathwayStep.group_id == PathwayGroup.id)
               .where(PathwayStep.achievement_id.in_(ids)))
    query = _with_steps(select(Pathway)) if for_pages else select(Pathway).options(
        selectinload(Pathway.groups).selectinload(PathwayGroup.steps))
    return list(db.session.scalars(query.where(
        Pathway.status == PathwayStatus.PUBLISHED, Pathway.id.in_(touched)).order_by(Pathway.name, Pathway.id)))


# --------------------------------------------------------------------------------------------- progress


def holder_keys(key: str) -> set[str]:
    """Every e-mail key of the person ``key`` belongs to: all the verified addresses of the account that proved
    it, or ``key`` alone when no account did."""
    return holders_keys({key})[key]


def holders_keys(keys: Iterable[str]) -> dict[str, set[str]]:
    """:func:`holder_keys` of each of ``keys``: two queries to find the accounts that proved them, and
    :func:`~badgehub.accounts.addresses.verified_keys` of each account found (what a batch chunk's awards
    need, without four queries per recipient)."""
    ordered = list(dict.fromkeys(keys))
    wanted = set(ordered)
    if not wanted:
        return {}
    owners: dict[str, User] = {user.email_key: user for user in db.session.scalars(
        select(User).where(User.email_key.in_(wanted), User.verified_at.is_not(None)))}
    rest = wanted - owners.keys()
    if rest:
        for user, key in db.session.execute(select(User, WalletEmail.verified_key).join(
                WalletEmail, WalletEmail.user_id == User.id).where(WalletEmail.verified_key.in_(rest))):
            owners.setdefault(key, user)
    of_user: dict[int, set[str]] = {}
    for user in owners.values():
        if user.id not in of_user:
            of_user[user.id] = verified_keys(user)
    return {key: of_user[owners[key].id] | {key} if key in owners else {key} for key in ordered}


def _counting(keys: set[str], moment: dt.datetime, achievement_ids: Iterable[int] | None) -> Any:
    query = select(IssuedCredential).where(
        IssuedCredential.recipient_email_key.in_(keys), IssuedCredential.revoked_at.is_(None),
        or_(IssuedCredential.valid_until.is_(None), IssuedCredential.valid_until > moment))
    if achievement_ids is not None:
        query = query.where(IssuedCredential.achievement_id.in_(set(achievement_ids)))
    return db.session.scalars(query.order_by(IssuedCredential.awarded_date, IssuedCredential.id))


def held_by(keys: Iterable[str], *, now: dt.datetime | None = None) -> dict[int, IssuedCredential]:
    """The credentials that count for a holder with these e-mail keys (not revoked, not expired), the earliest
    of each achievement, by achievement id."""
    return held_by_each({"": set(keys)}, now=now)[""]


def held_by_each(holders: Mapping[str, set[str]], *, now: dt.datetime | None = None,
                 achievement_ids: Iterable[int] | None = None) -> dict[str, dict[int, IssuedCredential]]:
    """:func:`held_by` of each holder (``holders`` maps a holder to their keys), in one query; only the
    credentials of ``achievement_ids`` when given."""
    held: dict[str, dict[int, IssuedCredential]] = {holder: {} for holder in holders}
    owner_of = {key: holder for holder, keys in holders.items() for key in keys}
    if not owner_of:
        return held
    for credential in _counting(set(owner_of), now or utcnow(), achievement_ids):
        held[owner_of[credential.recipient_email_key]].setdefault(credential.achievement_id, credential)
    return held


def completion_of(pathway: Pathway, keys: Iterable[str]) -> PathwayCompletion | None:
    """The holder's completion of ``pathway`` (under any of their keys), or None."""
    digests = [holder_digest(key) for key in keys]
    found: PathwayCompletion | None = db.session.scalar(select(PathwayCompletion).where(
        PathwayCompletion.pathway_id == pathway.id, PathwayCompletion.holder_digest.in_(digests)).limit(1))
    return found


def completions_of_each(pathway_ids: Iterable[int], holders: Mapping[str, set[str]]
                        ) -> dict[tuple[int, str], PathwayCompletion]:
    """:func:`completion_of` of each of ``pathway_ids`` for each holder (``holders`` maps a holder to their
    keys), by ``(pathway id, holder)``, in one query."""
    holder_of = {holder_digest(key): holder for holder, keys in holders.items() for key in keys}
    ids = set(pathway_ids)
    if not holder_of or not ids:
        return {}
    found: dict[tuple[int, str], PathwayCompletion] = {}
    for completion in db.session.scalars(select(PathwayCompletion).where(
            PathwayCompletion.pathway_id.in_(ids), PathwayCompletion.holder_digest.in_(holder_of))
            .order_by(PathwayCompletion.id)):
        found.setdefault((completion.pathway_id, holder_of[completion.holder_digest]), completion)
    return found


def owes_badge(completion: PathwayCompletion) -> bool:
    """Whether ``completion`` still waits for its pathway's badge: its award failed (see
    :mod:`badgehub.pathways.award`), and the badge is still awarded."""
    badge = completion.pathway.achievement
    return completion.issued_credential_id is None and badge is not None and badge.archived_at is None


def completion_counts(pathways: Iterable[Pathway]) -> dict[int, int]:
    """How many holders completed each of ``pathways``, by pathway id (those none completed are left out). One
    query."""
    ids = [pathway.id for pathway in pathways]
    if not ids:
        return {}
    rows = db.session.execute(select(PathwayCompletion.pathway_id, func.count(PathwayCompletion.id))
                              .where(PathwayCompletion.pathway_id.in_(ids)).group_by(PathwayCompletion.pathway_id))
    return {pathway_id: count for pathway_id, count in rows}


def owed_badges(pathways: Iterable[Pathway]) -> dict[int, int]:
    """How many holders of each of ``pathways`` completed it and wait for its badge (:func:`owes_badge`), by
    pathway id (pathways owing none are left out). One query."""
    ids = [p.id for p in pathways if p.achievement is not None and p.achievement.archived_at is None]
    if not ids:
        return {}
    rows = db.session.execute(select(PathwayCompletion.pathway_id, func.count(PathwayCompletion.id)).where(
        PathwayCompletion.pathway_id.in_(ids), PathwayCompletion.issued_credential_id.is_(None))
        .group_by(PathwayCompletion.pathway_id))
    return {pathway_id: count for pathway_id, count in rows}


@dataclass(frozen=True)
class HolderPathway:
    """A pathway as one holder sees it: the progress and, once completed, the completion."""

    progress: PathwayProgress
    completion: PathwayCompletion | None

    @property
    def pathway(self) -> Pathway:
        return self.progress.pathway  # type: ignore[no-any-return]


def progress_of_keys(keys: Iterable[str], *, now: dt.datetime | None = None) -> list[HolderPathway]:
    """Every published pathway that the holder's counting credentials touch, or that they completed, with their
    progress: those under way first, then the completed ones, by name."""
    key_set = set(keys)
    held = held_by(key_set, now=now)
    found = {pathway.id: pathway for pathway in pathways_with_steps(held)}
    digests = [holder_digest(key) for key in key_set]
    completions = {completion.pathway_id: completion for completion in db.session.scalars(
        select(PathwayCompletion).where(PathwayCompletion.holder_digest.in_(digests)))} if digests else {}
    missing = set(completions) - set(found)
    if missing:
        for pathway in db.session.scalars(_with_steps(select(Pathway)).where(
                Pathway.id.in_(missing), Pathway.status == PathwayStatus.PUBLISHED)):
            found[pathway.id] = pathway
    rows = [HolderPathway(pathway_progress(pathway, held), completions.get(pathway.id)) for pathway in found.values()]
    return sorted(rows, key=lambda row: (row.completion is not None, row.pathway.name.casefold(), row.pathway.id))


def wallet_progress(user: User, *, now: dt.datetime | None = None) -> list[HolderPathway]:
    """:func:`progress_of_keys` for ``user``'s verified addresses (the wallet's)."""
    return progress_of_keys(verified_keys(user), now=now)


# ------------------------------------------------------------------------------------------ for the pages


def _approved_member_ids(territory_ids: Iterable[int]) -> list[int]:
    from badgehub.territory.models import MembershipStatus, TerritoryMembership

    ids = list(territory_ids)
    if not ids:
        return []
    return list(db.session.scalars(select(TerritoryMembership.organisation_id).where(
        TerritoryMembership.territory_id.in_(ids), TerritoryMembership.status == MembershipStatus.APPROVED)))


def step_choices(organisation: Organisation) -> list[tuple[str, list[tuple[str, str]]]]:
    """The badges a pathway of ``organisation`` may have as steps, by organisation: its own, and those the
    catalogues of its territories offer (approved members', not archived). ``[(organisation name, [(public
    id, badge name)])]``, by name."""
    from badgehub.territory.models import MembershipStatus, TerritoryMembership

    territories = db.session.scalars(select(TerritoryMembership.territory_id).where(
        TerritoryMembership.organisation_id == organisation.id,
        TerritoryMembership.status == MembershipStatus.APPROVED))
    owners = set(_approved_member_ids(territories)) | {organisation.id}
    rows = db.session.scalars(select(Achievement).where(Achievement.organisation_id.in_(owners),
                                                        Achievement.archived_at.is_(None))
                              .options(selectinload(Achievement.current_version),
                                       selectinload(Achievement.organisation)))
    grouped: dict[int, tuple[str, list[tuple[str, str]]]] = {}
    for achievement in rows:
        if achievement.current_version is None:
            continue
        entry = grouped.setdefault(achievement.organisation_id, (achievement.organisation.name, []))
        entry[1].append((achievement.public_id, achievement.current_version.name))
    return sorted(((name, sorted(badges, key=lambda b: b[1].casefold())) for name, badges in grouped.values()),
                  key=lambda entry: entry[0].casefold())


def territory_pathways(territory_id: int) -> list[Pathway]:
    """The published pathways of a territory: its own, and those of its approved member organisations."""
    members = _approved_member_ids([territory_id])
    query = _with_steps(select(Pathway)).where(Pathway.status == PathwayStatus.PUBLISHED, or_(
        Pathway.territory_id == territory_id, Pathway.organisation_id.in_(members)))
    return list(db.session.scalars(query.order_by(Pathway.name, Pathway.id)))


def fields_of(pathway: Pathway) -> PathwayFields:
    """A pathway's definition as a form shows it."""
    return PathwayFields(
        name=pathway.name, description=pathway.description, in_language=pathway.in_language,
        achievement=pathway.achievement.public_id if pathway.achievement is not None else "",
        qualification_uri=pathway.qualification_uri or "", qualification_name=pathway.qualification_name,
        job_profile=pathway.job_profile,
        groups=tuple(GroupInput(title=g.title, ordered=g.ordered, min_count=g.min_count,
                                achievements=tuple(s.achievement.public_id for s in g.steps))
                     for g in pathway.groups))


def owner_badges(organisation: Organisation) -> list[Achievement]:
    """The badges a pathway of ``organisation`` may award: its own, not archived, by name."""
    return active_badges(organisation)


def forget_holders(email_keys: set[str]) -> int:
    """Unlink the completions of a person who erased their account (their keys): each keeps its pathway and date,
    so that completions are still counted, but its holder digest becomes a random tombstone that no address
    matches. Returns how many changed. Flushes. (Registered in ``wallet.erasure.PERSONAL_DATA_ERASERS``.)"""
    digests = [holder_digest(key) for key in email_keys if key]
    if not digests:
        return 0
    found = list(db.session.scalars(select(PathwayCompletion).where(PathwayCompletion.holder_digest.in_(digests))))
    for completion in found:
        completion.holder_digest = f"erased:{secrets.token_hex(16)}"
    db.session.flush()
    return len(found)
