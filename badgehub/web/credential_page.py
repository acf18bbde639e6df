"""``/c/<public_id>``: the credential page, the QR code's target. An employer reads a verdict in plain words.

The verdict is the verification pipeline's, run over the stored ``document_json`` exactly as for a stranger's
badge (DESIGN §4), never the database's own flags: :func:`badgehub.issuing.live.verify_issued`, which keeps it
under a key of everything it depends on, so a view costs a few reads unless something changed (then it verifies
again at once). Only what the pipeline cannot know comes from the database, and only once the pipeline has
spoken: *when and why* a credential it finds revoked was revoked, and the issuer's standing in the territories
(:mod:`badgehub.territory.registry`). A view never writes.

**The page verdict** is the presenter's (:func:`badgehub.presenters.reports.present`: valid, revoked, expired, not
genuine…), then, for a badge that verifies, the registry's word on its issuer:

* suspended from a territory → ``issuer_suspended`` (the badge is genuine, but a coordinator paused its issuer);
* an approved member of no territory → ``issuer_not_member`` (still valid; the page says so plainly).

**Check the holder** (``POST /c/<public_id>/holder``): the e-mail the holder gave is checked against the salted
hash in the credential by the pipeline's ``recipient`` step. CSRF-protected; the address is neither stored nor
logged, and the answer is not cached (``Cache-Control: no-store``). It is rate limited per client address
(``RATELIMIT_HOLDER_CHECK``) to spare the server, not as a protection of the address: the salted hash is in the
public credential (Open Badges requires it), so a guessable address can be tested offline. The page says so and
points holders to a holder DID.

The page is unlisted (``<meta name="robots" content="noindex">``) and uses nothing from another origin.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from cachetools import LRUCache
from flask import Blueprint, Response, current_app, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import TooManyRequests
from wtforms import EmailField, SubmitField
from wtforms.validators import InputRequired, Length

from badgehub.competencies.models import Competency
from badgehub.competencies.service import get_competency
from badgehub.endorsements.service import public_endorsements
from badgehub.errors import NotFound
from badgehub.extensions import limiter
from badgehub.fields import MAX_EMAIL
from badgehub.issuing import service as issuing
from badgehub.issuing.errors import CredentialNotFound
from badgehub.issuing.live import LiveVerdict, verify_issued
from badgehub.issuing.models import IssuedCredential
from badgehub.keys.identity import base_url_of, local_path
from badgehub.moments import moment
from badgehub.presenters.messages import check_message, submission_message
from badgehub.presenters.reports import ReportView, present, safe_web_url, shown_text
from badgehub.territory.registry import IssuerStanding, StandingStatus
from badgehub.verification.platform import SubmissionRefused, recipient_address
from badgehub.verification.report import VerificationReport
from badgehub.wallet.shares import shared_holder_name
from badgehub.web.caching import private_page
from badgehub.web.endorsement_views import EndorsementList, endorsement_list
from badgehub.web.labels import label

bp = Blueprint("credential_page", __name__)

DEFAULT_HOLDER_CHECK_LIMIT: Final = "10 per minute"
PDF_ENDPOINT: Final = "certificates.credential_pdf"
PAGE_CACHE_EXTENSION: Final = "badgehub.web.credential_pages"
DEFAULT_PAGE_ENTRIES: Final = 4096
_VALID: Final = frozenset({"valid", "valid_with_warnings"})
_NO_AUTOCORRECT: Final = {"autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}
_COMPETENCY_PATH: Final = re.compile(r"/competencies/(?P<territory>[a-z0-9]+(?:-[a-z0-9]+)*)/(?P<code>[^/]{1,64})")


def holder_check_limit() -> str:
    """The rate limit of holder checks per client address (``RATELIMIT_HOLDER_CHECK``)."""
    return str(current_app.config.get("RATELIMIT_HOLDER_CHECK") or DEFAULT_HOLDER_CHECK_LIMIT)


class HolderCheckForm(FlaskForm):
    """The e-mail address the holder gave; checked, never kept."""

    email = EmailField(
        _l("E-mail address the holder gave you"),
        validators=[InputRequired(message=_l("Type the e-mail address the holder gave you.")),
                    Length(max=MAX_EMAIL, message=_l("This is too long: at most %(max)s characters."))],
        render_kw={**_NO_AUTOCORRECT, "inputmode": "email", "autocomplete": "off"},
    )
    submit = SubmitField(_l("Check the holder"))


# -- what the page shows, decided here so that the template only prints


@dataclass(frozen=True)
class PageVerdict:
    code: str
    title: str
    summary: str
    tone: str
    icon: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reference:
    label: str
    value: str
    url: str | None


@dataclass(frozen=True)
class CompetencyView:
    name: str
    code: str | None
    framework: str | None
    description: str | None
    url: str | None
    references: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class HolderAnswer:
    outcome: str  # match / mismatch / unknown
    message: str


@dataclass(frozen=True)
class CredentialPage:
    credential: IssuedCredential
    view: ReportView
    verdict: PageVerdict
    standing: IssuerStanding | None
    revoked_on: str | None = None
    revocation_reason: str | None = None
    competencies: tuple[CompetencyView, ...] = ()
    results: tuple[str, ...] = ()
    narrative: str | None = None
    recipient_name: str | None = None
    # The holder's name from the share link the page was opened from, when the signed document names nobody.
    shared_by: str | None = None
    links: Mapping[str, str] = field(default_factory=dict)
    holder: HolderAnswer | None = None
    # Our own badge's image (the document only carries an address, which the pipeline does not fetch).
    image_url: str | None = None
    # Link previews (og:) of the page: only for a badge that verifies.
    preview: Mapping[str, str] = field(default_factory=dict)


def page_verdict(view: ReportView, standing: IssuerStanding | None) -> PageVerdict:
    """The presenter's verdict, then, for a badge that verifies, what the registry says of its issuer."""
    if view.verdict in _VALID and standing is not None and standing.status is StandingStatus.SUSPENDED:
        names = ", ".join(fact.territory_name for fact in standing.suspended)
        return PageVerdict(
            "issuer_suspended", gettext("Issuer suspended"),
            gettext("This badge is genuine and has not been withdrawn, but its issuer is suspended from "
                    "%(territories)s by the territory's coordinators. Ask the issuer or the territory before "
                    "relying on it.", territories=names),
            "warn", "!", view.notes)
    if view.verdict in _VALID and standing is not None and standing.status is StandingStatus.NOT_MEMBER:
        return PageVerdict(
            "issuer_not_member", gettext("Valid, issuer not vetted"),
            gettext("This badge is genuine and valid. Its issuer, however, is not an approved member of any "
                    "learning territory on this platform: no territory coordinator vouches for it."),
            "warn", "✓", view.notes)
    return PageVerdict(view.verdict, view.title, view.summary, view.tone, view.icon, view.notes)


def _own_competency(url: str | None) -> Competency | None:
    """The competency of this platform an alignment points at (its ``targetUrl`` is our competency page)."""
    if url is None:
        return None
    path = local_path(url, base_url_of(current_app.config))
    match = _COMPETENCY_PATH.fullmatch(path) if path is not None else None
    if match is None:
        return None
    try:
        return get_competency(match["territory"], match["code"])
    except NotFound:
        return None


def _references(competency: Competency | None) -> tuple[Reference, ...]:
    if competency is None:
        return ()
    found = []
    if competency.esco_uri:
        found.append(Reference("ESCO", competency.esco_uri, safe_web_url(competency.esco_uri)))
    if competency.rncp_code:
        found.append(Reference("RNCP / RS", competency.rncp_code, None))
    if competency.case_item_uri:
        found.append(Reference("CASE", competency.case_item_uri, safe_web_url(competency.case_item_uri)))
    if competency.other_url:
        found.append(Reference(gettext("Other reference"), competency.other_url, safe_web_url(competency.other_url)))
    return tuple(found)


def _competencies(achievement: Mapping[str, Any]) -> tuple[CompetencyView, ...]:
    alignments = achievement.get("alignment")
    views = []
    for alignment in alignments if isinstance(alignments, list) else []:
        if not isinstance(alignment, Mapping) or shown_text(alignment.get("targetName"), 300) is None:
            continue
        url = safe_web_url(alignment.get("targetUrl"))
        views.append(CompetencyView(
            name=str(shown_text(alignment.get("targetName"), 300)), code=shown_text(alignment.get("targetCode"), 100),
            framework=shown_text(alignment.get("targetFramework"), 300),
            description=shown_text(alignment.get("targetDescription"), 2000), url=url,
            references=_references(_own_competency(url))))
    return tuple(views[:30])


def _subject_parts(credential: Mapping[str, Any]) -> dict[str, Any]:
    """Result, narrative, recipient name and competencies: what the signed document says of the award."""
    subject = credential.get("credentialSubject")
    subject = subject if isinstance(subject, Mapping) else {}
    achievement = subject.get("achievement")
    results = subject.get("result")
    values = []
    for item in results if isinstance(results, list) else []:
        if isinstance(item, Mapping) and shown_text(item.get("value"), 500):
            values.append(str(shown_text(item.get("value"), 500)))
    name = shown_text(subject.get("name"), 200)
    identifiers = subject.get("identifier")
    for identifier in identifiers if isinstance(identifiers, list) else []:
        if (name is None and isinstance(identifier, Mapping) and identifier.get("identityType") == "name"
                and identifier.get("hashed") is False):
            name = shown_text(identifier.get("identityHash"), 200)
    return {"results": tuple(values[:10]), "narrative": shown_text(subject.get("narrative"), 5000),
            "recipient_name": name,
            "competencies": _competencies(achievement) if isinstance(achievement, Mapping) else ()}


def _image_url(document: Mapping[str, Any]) -> str | None:
    """The path of the badge image our own document names (``…/achievements/<id>/v/<n>/image``), read from the
    document rather than the database: the page's queries stay as they are."""
    subject = document.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
    image = achievement.get("image") if isinstance(achievement, Mapping) else None
    address = image.get("id") if isinstance(image, Mapping) else image
    path = local_path(address, base_url_of(current_app.config))
    return path if path is not None and path.startswith("/achievements/") else None


def _preview(credential: IssuedCredential, view: ReportView, image: str | None) -> dict[str, str]:
    """The ``og:`` tags of a link to the page: the badge's name, who awarded it, its image."""
    base = base_url_of(current_app.config)
    name = str(view.achievement_name or view.credential_name or credential.achievement_version.name)
    preview = {"og:type": "website", "og:title": name,
            "og:description": gettext("A badge awarded by %(organisation)s, checked by %(site)s.",
                                      organisation=credential.organisation.name, site=gettext("BadgeHub")),
            "og:url": f"{base}/c/{credential.public_id}"}
    if image:
        preview.update({"og:image": base + image, "og:image:alt": gettext("Badge image: %(badge)s", badge=name)})
    return preview


def _links(credential: IssuedCredential) -> dict[str, str]:
    links = {suffix: url_for(f"credentials.credential_{suffix}", public_id=credential.public_id)
             for suffix in ("json", "jwt", "png", "svg")}
    if PDF_ENDPOINT in current_app.view_functions:
        links["pdf"] = url_for(PDF_ENDPOINT, public_id=credential.public_id)
    return links


def _holder_answer(report: VerificationReport, email: str) -> HolderAnswer:
    check = report.check("recipient")
    code = check.code if check is not None else ""
    if code == "recipient_match":
        return HolderAnswer("match", gettext("Yes: this badge was issued to %(email)s.", email=email))
    if code == "recipient_mismatch":
        return HolderAnswer("mismatch", gettext(
            "No: this badge was not issued to %(email)s. Ask the holder for the address the badge was sent to "
            "(capital letters do not matter).", email=email))
    return HolderAnswer("unknown", gettext(
        "This badge does not name its holder by e-mail address, so the address cannot be checked."))


def build_page(credential: IssuedCredential, *, known_email: str | None = None,
               verdict: LiveVerdict | None = None, shared_by: str | None = None) -> CredentialPage:
    """Decide everything the page shows from :func:`badgehub.issuing.live.verify_issued`'s verdict on the stored
    document (``verdict``, when the caller already has it; needs a request context; reads only). ``shared_by`` is
    the holder's name from the share link the page was opened from (:func:`shared_holder_name`)."""
    if verdict is None or known_email is not None:
        verdict = verify_issued(current_app, credential, known_email=known_email)
    report, standing = verdict.report, verdict.standing
    view = present(report)
    revoked_on = reason = None
    if view.verdict == "revoked" and credential.revoked_at is not None:
        # The pipeline found the bit set in the signed list; the database knows when and why.
        revoked_on = moment(credential.revoked_at)
        # Only the reason from the public list: the issuer's own words (the note) may name people.
        reason = str(label(credential.revocation_reason)) if credential.revocation_reason is not None else None
    parts = _subject_parts(report.credential or {}) if view.genuine else {}
    image = _image_url(report.credential or {})
    shown = page_verdict(view, standing)
    if view.verdict == "revoked":
        # The summary says it is withdrawn and the page when and why: the status step's own words would say it
        # a third time.
        repeated = {check_message(check.code, check.params) for check in report.checks if check.code == "revoked"}
        shown = replace(shown, notes=tuple(note for note in shown.notes if note not in repeated))
    return CredentialPage(
        credential=credential, view=view, verdict=shown, standing=standing,
        revoked_on=revoked_on, revocation_reason=reason, links=_links(credential),
        shared_by=shared_by if view.genuine and not parts.get("recipient_name") else None,
        image_url=image, preview=_preview(credential, view, image) if view.genuine else {},
        holder=_holder_answer(report, known_email) if known_email is not None else None, **parts)


def _endorsements(credential: IssuedCredential) -> EndorsementList:
    """The endorsements the holder chose to show, each with its own verdict (linked, not embedded: the credential
    was signed before them)."""
    return endorsement_list(public_endorsements(credential=credential))


def _render(page: CredentialPage | None, form: HolderCheckForm, status: int = 200, **context: Any) -> Response:
    if page is not None:
        context.setdefault("endorsements", _endorsements(page.credential))
    response = Response(render_template("credential/page.html", page=page, form=form, **context),
                        status=status, mimetype="text/html")
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _credential(public_id: str) -> IssuedCredential | None:
    try:
        return issuing.get_credential(public_id, with_context=True)
    except CredentialNotFound:
        return None


def _not_found() -> Response:
    response = Response(render_template("credential/not_found.html"), status=404, mimetype="text/html")
    response.headers["X-Robots-Tag"] = "noindex"
    return response


class _PageCache:
    """Rendered pages by key, in this process (thread-safe)."""

    def __init__(self, entries: int) -> None:
        self._pages: LRUCache[str, str] = LRUCache(maxsize=max(1, entries))
        self._lock = threading.Lock()
        # Stands for the CSRF token while the shared page is rendered; unguessable, so no badge can contain it.
        self.placeholder = "csrf-" + secrets.token_hex(16)

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._pages.get(key)

    def put(self, key: str, html: str) -> None:
        with self._lock:
            self._pages[key] = html


def _page_cache() -> _PageCache:
    cache = current_app.extensions.get(PAGE_CACHE_EXTENSION)
    if not isinstance(cache, _PageCache):
        entries = int(current_app.config.get("VERDICT_CACHE_ENTRIES", DEFAULT_PAGE_ENTRIES)) // 8
        cache = current_app.extensions.setdefault(PAGE_CACHE_EXTENSION, _PageCache(entries or 1))
    assert isinstance(cache, _PageCache)
    return cache


def _shared_key(credential: IssuedCredential, verdict: LiveVerdict, endorsements: EndorsementList) -> str:
    # Everything the page shows: the verdict (by what it depends on), the language, the revocation's when and why,
    # and the platform's competencies the badge is aligned with (a coordinator may edit their references).
    subject = (verdict.report.credential or {}).get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
    competencies = _competencies(achievement) if isinstance(achievement, Mapping) else ()
    parts = (verdict.key, str(get_locale()), credential.public_id, str(credential.revoked_at),
             credential.revocation_reason, repr(competencies), PDF_ENDPOINT in current_app.view_functions,
             endorsements.key)
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def _page_response(credential: IssuedCredential, verdict: LiveVerdict) -> Response:
    """The page. A visitor without an account and without a message waiting gets the same HTML as any other, but
    for the CSRF token: it is rendered once per verdict and language in this process and kept (a change to what
    the verdict depends on changes the key, like the verdict's own)."""
    if current_user.is_authenticated or session.get("_flashes"):
        return _render(build_page(credential, verdict=verdict), HolderCheckForm(formdata=None))
    cache = _page_cache()
    endorsements = _endorsements(credential)
    key = _shared_key(credential, verdict, endorsements)
    html = cache.get(key)
    if html is None:
        placeholder = cache.placeholder
        html = render_template("credential/page.html", page=build_page(credential, verdict=verdict),
                               form=HolderCheckForm(formdata=None), csrf_token=lambda: placeholder,
                               endorsements=endorsements)
        cache.put(key, html)
    response = Response(html.replace(cache.placeholder, generate_csrf()), mimetype="text/html")
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/c/<public_id>")
def page(public_id: str) -> ResponseReturnValue:
    credential = _credential(public_id)
    if credential is None:
        return _not_found()
    via = request.args.get("via", "")[:100]
    shared_by = shared_holder_name(via, credential.public_id) if via else None
    if shared_by is not None:
        # Opened from a share link: the page names the holder, so it is this visitor's alone, and the token in its
        # address must not leave with a click on the evidence or the issuer's site.
        response = _render(build_page(credential, shared_by=shared_by), HolderCheckForm(formdata=None))
        response.headers["Referrer-Policy"] = "no-referrer"
        return private_page(response)
    # The page carries CSRF forms (the holder check, the language): no cache may keep it, but a client asking
    # again with its ETag gets a 304.
    return private_page(_page_response(credential, verify_issued(current_app, credential)))


@bp.post("/c/<public_id>/holder")
@limiter.limit(holder_check_limit, scope="holder-check")
def check_holder(public_id: str) -> ResponseReturnValue:
    credential = _credential(public_id)
    if credential is None:
        return _not_found()
    form = HolderCheckForm()
    known_email = None
    if form.validate_on_submit():
        try:
            known_email = recipient_address(form.email.data)
        except SubmissionRefused as refused:
            form.email.errors = [submission_message(refused.code)]
    if known_email is None:
        return _render(build_page(credential), form, 400)
    response = _render(build_page(credential, known_email=known_email), form)
    # The answer quotes the address: no cache anywhere may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(TooManyRequests)
def _too_many_checks(error: TooManyRequests) -> ResponseReturnValue:
    public_id = (request.view_args or {}).get("public_id")
    response = Response(render_template("credential/too_many.html", public_id=public_id), status=429,
                        mimetype="text/html")
    if error.response is not None and "Retry-After" in error.response.headers:
        response.headers["Retry-After"] = error.response.headers["Retry-After"]
    return response
