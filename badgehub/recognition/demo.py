"""Demo recognition requests, so that a newcomer sees a queue at once: the bicycle workshop has three requests
waiting (the demo learner asks for one of its badges with a photo and a link; a volunteer describes what she did
in her own words; a neighbour's request waits for his answer to the workshop's question), and the library offers
the peer-recognition badge, already asked for.

Made through the real service, like every request (no e-mail is sent: the demo's people have no mailbox).
Idempotent: nothing is made when the workshop already has requests.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import func, select

from badgehub.accounts.models import User
from badgehub.accounts.service import create_user, get_user_by_email
from badgehub.achievements.models import Achievement
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.fields import email_key
from badgehub.issuing.models import IssuedCredential
from badgehub.organisations.models import Organisation, OrganisationMember, Role
from badgehub.recognition import badges, service
from badgehub.recognition.models import RecognitionRequest
from badgehub.recognition.service import RequestInput, Upload

WORKSHOP = "atelier-velo-solidaire"
LIBRARY = "mediatheque-des-tilleuls"
VOLUNTEER = ("emma.leroy@example.net", "Emma Leroy")
NEIGHBOUR = ("yanis.morin@example.net", "Yanis Morin")


def _organisation(slug: str) -> Organisation | None:
    found: Organisation | None = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    return found


def _owner(organisation: Organisation) -> Any:
    member = db.session.scalar(select(OrganisationMember).where(
        OrganisationMember.organisation_id == organisation.id, OrganisationMember.role == Role.OWNER)
        .order_by(OrganisationMember.id).limit(1))
    return member.user if member is not None else None


def _person(email: str, name: str) -> User:
    existing = get_user_by_email(email)
    user = existing or create_user(email, name=name, verified=True)
    user.locale = user.locale or "fr"
    return user


def _photo() -> bytes:
    """A small drawing standing for the photo of a repaired wheel."""
    image = Image.new("RGB", (480, 320), (236, 240, 244))
    draw = ImageDraw.Draw(image)
    for centre in ((140, 190), (340, 190)):
        draw.ellipse((centre[0] - 80, centre[1] - 80, centre[0] + 80, centre[1] + 80), outline=(30, 41, 59), width=8)
    draw.line((140, 190, 240, 110, 340, 190), fill=(29, 78, 216), width=8)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _not_held(organisation: Organisation, email: str) -> Achievement | None:
    held = set(db.session.scalars(select(IssuedCredential.achievement_id).where(
        IssuedCredential.recipient_email_key == email_key(email))))
    candidates = db.session.scalars(select(Achievement).where(
        Achievement.organisation_id == organisation.id, Achievement.archived_at.is_(None)).order_by(Achievement.id))
    return next((a for a in candidates if a.id not in held and not service.is_self_declared(a)), None)


def seed_demo_requests(learner_email: str, config: Mapping[str, Any]) -> None:
    """Create the demo requests (see the module docstring). Flushes; the caller commits."""
    workshop, library = _organisation(WORKSHOP), _organisation(LIBRARY)
    learner = get_user_by_email(learner_email)
    if workshop is None or library is None or learner is None:
        return
    if db.session.scalar(select(func.count(RecognitionRequest.id)).where(
            RecognitionRequest.organisation_id == workshop.id)):
        return
    now = utcnow()
    wanted = _not_held(workshop, learner_email)
    if wanted is not None:
        service.submit(learner, workshop, RequestInput(
            text="J'ai remis en état le vélo de ma sœur tout seul : dérailleur réglé, chaîne changée, freins "
                 "resserrés. Karim m'a vu faire samedi dernier à l'atelier.",
            links=["https://photos.example.net/lucas/velo-soeur"], files=[Upload("roue-reparee.png", _photo())]),
            achievement=wanted, locale="fr", settings=config, now=now - dt.timedelta(days=2))
    volunteer = _person(*VOLUNTEER)
    service.submit(volunteer, workshop, RequestInput(
        title="Bénévole à la bourse aux vélos",
        text="J'ai tenu le stand d'accueil de la bourse aux vélos de printemps pendant deux jours : inscription "
             "des vendeurs, étiquetage, conseils aux acheteurs.",
        links=["https://atelier-velo.example.org/bourse-printemps"]), locale="fr", settings=config,
        now=now - dt.timedelta(days=1))
    neighbour = _person(*NEIGHBOUR)
    other = next((a for a in db.session.scalars(select(Achievement).where(
        Achievement.organisation_id == workshop.id, Achievement.archived_at.is_(None)).order_by(Achievement.id.desc()))
        if a.id != (wanted.id if wanted else None) and not service.is_self_declared(a)), None)
    if other is not None:
        asked = service.submit(neighbour, workshop, RequestInput(
            text="Je répare les vélos des enfants de l'immeuble depuis un an."), achievement=other, locale="fr",
            settings=config, now=now - dt.timedelta(days=4)).request
        service.ask_more(asked, _owner(workshop), "Bonjour Yanis, pouvez-vous nous envoyer une photo d'une "
                         "réparation, ou le nom d'un voisin qui vous a vu faire ?", settings=config,
                         now=now - dt.timedelta(days=3))
    peer, _created = badges.create_peer_badge(library, _owner(library), "fr")
    service.submit(volunteer, library, RequestInput(
        text="J'anime le club de lecture des ados un mercredi sur deux depuis septembre. Nadia et Inès m'ont vue "
             "faire et peuvent en témoigner."), achievement=peer, locale="fr", settings=config,
        now=now - dt.timedelta(hours=5))
