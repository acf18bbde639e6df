"""Following issuing: progress on pathways, and the pathway badge awarded on completion, exactly once.

Issuing announces every credential (:data:`badgehub.events.credentials_issued`, in the issuing transaction) and
:func:`badgehub.pathways.init_app` routes it here. For each holder of the new credentials and each published
pathway that one of them is a step of:

* progress is computed over the holder's counting credentials (every verified address of their account;
  revoked and expired ones do not count); when the new credentials add to it, ``pathway_progressed`` is sent
  with ``completed=False``;
* when the pathway is complete for a holder who has not completed it before, a :class:`PathwayCompletion` row is
  inserted **first** (unique per pathway and holder: of two transactions racing, the second fails on it and
  awards nothing), then the pathway badge is issued by the pathway's owner (the organisation, or the
  territory's issuer) with the contributing credentials' pages as evidence and an idempotency key of the
  pathway and holder (a second guard, in issuing itself), its e-mail queued in the outbox like every award, and
  ``pathway_progressed`` is sent with ``completed=True``. The award e-mail is queued by ``notify`` (the
  subscriber passes :func:`badgehub.mails.awards.queue_notification`: mails sit above the domains).

All of it runs in a SAVEPOINT of the issuing transaction: if the award cannot be made (the owner suspended, no
active key), none of it remains and the credential that triggered it is issued all the same; the completion is
then recorded without its badge, the failure goes into the owner's audit trail (``pathway.award_failed``), the
owner's pathways page counts the badges owed (:func:`badgehub.pathways.service.owed_badges`), and the badge is
awarded again with the holder's next step credential or when the pathway is published again
(:func:`award_completed`). A pathway whose badge was archived owes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from badgehub import events
from badgehub.audit.service import record
from badgehub.db import utcnow
from badgehub.errors import BadgeHubError
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.issuing.models import ERASED_RECIPIENT_PREFIX, CredentialSource, IssuedCredential
from badgehub.issuing.queries import credential_url
from badgehub.pathways.models import Pathway, PathwayCompletion
from badgehub.pathways.progress import PathwayProgress, pathway_progress
from badgehub.pathways.service import (
    completions_of_each,
    held_by_each,
    holder_digest,
    holders_keys,
    owes_badge,
    pathways_with_steps,
)

log = logging.getLogger(__name__)


def _announce(pathway: Pathway, key: str, *, completed: bool) -> None:
    events.pathway_progressed.send(None, pathway_id=pathway.id, owner_organisation_id=pathway.organisation_id,
                                   territory_id=pathway.territory_id, holder_key=key, completed=completed)


Notify = Callable[[IssuedCredential], Any]
HOLDERS_PER_READ: Final = 200
"""How many holders :func:`award_completed` reads at once (their accounts, credentials and completions)."""


def credentials_issued(credentials: Iterable[IssuedCredential], *, config: Mapping[str, Any],
                       notify: Notify | None = None, now: dt.datetime | None = None) -> list[PathwayCompletion]:
    """Follow the credentials just issued (flushed, in the caller's transaction): announce progress and complete
    the pathways they complete (see the module docstring); ``notify`` queues the e-mail of each badge awarded.
    Returns the completions made. Flushes."""
    by_holder: dict[str, list[IssuedCredential]] = defaultdict(list)
    for credential in credentials:
        key = credential.recipient_email_key
        if key and not key.startswith(ERASED_RECIPIENT_PREFIX):
            by_holder[key].append(credential)
    if not by_holder:
        return []
    touched = pathways_with_steps({c.achievement_id for group in by_holder.values() for c in group},
                                  for_pages=False)
    if not touched:
        return []
    steps_of = {pathway.id: {s.achievement_id for g in pathway.groups for s in g.steps} for pathway in touched}
    keys_of = holders_keys(key for key, fresh in by_holder.items()
                           if any(c.achievement_id in steps for c in fresh for steps in steps_of.values()))
    people: dict[frozenset[str], tuple[str, list[IssuedCredential]]] = {}
    for key, keys in keys_of.items():  # one person's addresses in one chunk are one holder
        entry = people.setdefault(frozenset(keys), (key, []))
        entry[1].extend(by_holder[key])
    holders = {key: set(keys) for keys, (key, _fresh) in people.items()}
    held_of = held_by_each(holders, now=now, achievement_ids={a for steps in steps_of.values() for a in steps})
    done_of = completions_of_each(steps_of, holders)
    made: list[PathwayCompletion] = []
    for key, fresh in people.values():
        achievements = {credential.achievement_id for credential in fresh}
        held = held_of[key]
        fresh_ids = {credential.id for credential in fresh}
        before = {achievement: c for achievement, c in held.items() if c.id not in fresh_ids}
        for pathway in touched:
            if not achievements & steps_of[pathway.id]:
                continue
            done = done_of.get((pathway.id, key))
            if done is not None and not owes_badge(done):
                continue
            progress = pathway_progress(pathway, held)
            if progress.complete:
                completion = _complete(pathway, key, progress, config=config, notify=notify, now=now, owed=done)
                if completion is not None:
                    made.append(completion)
            elif done is None and progress.counted != pathway_progress(pathway, before).counted:
                _announce(pathway, key, completed=False)
    return made


def _recipient(progress: PathwayProgress, key: str) -> IssuedCredential:
    """The contributing credential whose address and name the pathway badge goes to: one sent to ``key``."""
    contributing: list[IssuedCredential] = list(progress.contributing)
    mine = [c for c in contributing if c.recipient_email_key == key]
    return (mine or contributing)[-1]


def _complete(pathway: Pathway, key: str, progress: PathwayProgress, *, config: Mapping[str, Any],
              notify: Notify | None, now: dt.datetime | None,
              owed: PathwayCompletion | None = None) -> PathwayCompletion | None:
    """Complete ``pathway`` for the holder (or, given ``owed``, award the badge that completion waits for)."""
    digest = holder_digest(key)
    moment = now or utcnow()
    try:
        with db.session.begin_nested():
            completion = owed or PathwayCompletion(pathway_id=pathway.id, holder_digest=digest, completed_at=moment)
            db.session.add(completion)
            db.session.flush()  # first: a concurrent completion of the same holder fails here (unique)
            if pathway.achievement is not None and pathway.achievement.archived_at is None:
                completion.issued_credential_id = _award(pathway, key, progress, config=config, notify=notify).id
            record("pathway.completed" if owed is None else "pathway.awarded", actor_id=None,
                   organisation_id=pathway.organisation_id, territory_id=pathway.territory_id,
                   subject_type="pathway", subject_id=pathway.id,
                   details={"public_id": pathway.public_id, "credential": completion.issued_credential_id})
            db.session.flush()
    except IntegrityError:
        log.info("pathway %s already completed by this holder in another transaction", pathway.public_id)
        return None
    except BadgeHubError as error:
        log.warning("pathway %s completed but its badge could not be awarded (%s)", pathway.public_id, error.code)
        failed = owed or _completed_without_badge(pathway, digest, moment)
        if failed is not None:
            record("pathway.award_failed", actor_id=None, organisation_id=pathway.organisation_id,
                   territory_id=pathway.territory_id, subject_type="pathway", subject_id=pathway.id,
                   details={"public_id": pathway.public_id, "error": error.code})
            db.session.flush()
        if owed is not None or failed is None:
            return None  # still owed, or completed by another transaction
        completion = failed
    if owed is None:
        _announce(pathway, key, completed=True)
    return completion


def _completed_without_badge(pathway: Pathway, digest: str, moment: dt.datetime) -> PathwayCompletion | None:
    """The completion of a holder whose badge could not be awarded, so that the badge is owed, not lost."""
    try:
        with db.session.begin_nested():
            completion = PathwayCompletion(pathway_id=pathway.id, holder_digest=digest, completed_at=moment)
            db.session.add(completion)
            db.session.flush()
    except IntegrityError:
        return None
    return completion


def _award(pathway: Pathway, key: str, progress: PathwayProgress, *, config: Mapping[str, Any],
           notify: Notify | None) -> IssuedCredential:
    achievement = pathway.achievement
    assert achievement is not None
    recipient = _recipient(progress, key)
    evidence = tuple((credential_url(c, config), c.achievement_version.name) for c in progress.contributing)
    issued = issuing.issue_or_replay(
        organisation=pathway.organisation, achievement=achievement, recipient_email=recipient.recipient_email,
        recipient_name=recipient.recipient_name, actor_id=None, source=CredentialSource.PATHWAY,
        idempotency_key=f"pathway:{pathway.public_id}:{holder_digest(key)[:40]}", more_evidence=evidence,
        config=config)
    if not issued.replayed and notify is not None:
        notify(issued.credential)
    return issued.credential


def award_completed(pathway: Pathway, *, config: Mapping[str, Any], notify: Notify | None = None,
                    now: dt.datetime | None = None) -> list[PathwayCompletion]:
    """Complete ``pathway`` for every holder who has completed it already (what publishing a pathway, or adding
    steps to it, owes those who hold the badges), and award the badges still owed: the same rule and the same
    award as :func:`credentials_issued`, for each holder of one of its steps' credentials. Nothing for a draft or
    an archived pathway. Returns the completions made or awarded. Flushes."""
    if not pathway.is_public:
        return []
    steps = {step.achievement_id for group in pathway.groups for step in group.steps}
    if not steps:
        return []
    found = db.session.scalars(select(IssuedCredential.recipient_email_key).where(
        IssuedCredential.achievement_id.in_(steps), IssuedCredential.revoked_at.is_(None)).distinct())
    keys = sorted(key for key in set(found) if not key.startswith(ERASED_RECIPIENT_PREFIX))
    made: list[PathwayCompletion] = []
    done: set[str] = set()
    for start in range(0, len(keys), HOLDERS_PER_READ):
        holders: dict[str, set[str]] = {}
        for key, mine in holders_keys(k for k in keys[start:start + HOLDERS_PER_READ] if k not in done).items():
            if key not in done:  # a person is followed once, under the first of their keys
                holders[key] = mine
                done |= mine
        held_of = held_by_each(holders, now=now, achievement_ids=steps)
        done_of = completions_of_each({pathway.id}, holders)
        for key in holders:
            owed = done_of.get((pathway.id, key))
            if owed is not None and not owes_badge(owed):
                continue
            progress = pathway_progress(pathway, held_of[key])
            if progress.complete:
                completion = _complete(pathway, key, progress, config=config, notify=notify, now=now, owed=owed)
                if completion is not None:
                    made.append(completion)
    return made
