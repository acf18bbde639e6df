"""The learner's wallet pages, share links, import, export and account erasure.

Signed-in pages (``login_required``; everything is looked up through the signed-in user, so another person's
credential, address, share or import is a 404):

* ``/wallet``: a card per credential, ours and imported, with its status **from the verification pipeline**
  (:func:`badgehub.issuing.live.verify_issued` for ours, :func:`badgehub.wallet.status.imported_report`);
  no page of the wallet writes when it is read;
* ``/wallet/c/<public_id>``: one of ours, with its downloads (``.json``, ``.jwt``, ``.png``, ``.svg``, ``.pdf``),
  "Add to LinkedIn profile" and the public page ``/c/<public_id>``;
* ``/wallet/imported/<id>``: one imported badge with its full report; its original file; remove;
* ``/wallet/import``: a file, pasted text or an address (rate limited with /verify's budget: it fetches);
* ``/wallet/settings``: extra e-mail addresses (confirmation link at ``/wallet/addresses/confirm/<token>``,
  which only works signed in to the account that asked), holder DID, export, erasure;
* ``/wallet/shares``: make, stop and delete share links; ``/wallet/shares/<id>/qr.svg`` the link's QR code;
* ``POST /wallet/export``: a zip of everything (audit event);
* ``/account/erase``: erase the account after typing its address (CSRF, fresh session).

Public: ``/w/<token>``, a shared wallet (noindex, rate limited with ``RATELIMIT_WALLET_SHARE``). A revoked or
expired link answers 410, an unknown one 404, both with a friendly page.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Final

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, format_date, get_locale, gettext
from flask_login import current_user, login_fresh, login_required, logout_user

from badgehub.accounts import addresses as wallet_addresses
from badgehub.accounts import holder as holders
from badgehub.accounts.errors import AddressTaken, InvalidAddressLink, InvalidEmail
from badgehub.accounts.models import User
from badgehub.achievements.images import SVG
from badgehub.db import utcnow
from badgehub.errors import BadgeHubError
from badgehub.extensions import db, limiter, verification_rate_limited
from badgehub.fields import email_key
from badgehub.issuing.live import verify_issued
from badgehub.issuing.models import IssuedCredential
from badgehub.mail import Mail, MailError
from badgehub.outbox.sender import send_now
from badgehub.pathways.service import wallet_progress
from badgehub.presenters.messages import submission_message
from badgehub.presenters.reports import ReportView, present
from badgehub.printing.qr import qr_svg
from badgehub.verification.platform import SubmissionRefused, max_submission_bytes
from badgehub.wallet import erasure
from badgehub.wallet import export as wallet_export
from badgehub.wallet import imports as wallet_imports
from badgehub.wallet import service as wallet
from badgehub.wallet import shares as wallet_shares
from badgehub.wallet import status as wallet_status
from badgehub.wallet.erasure import erase_account
from badgehub.wallet.errors import (
    InvalidShare,
    LastOwner,
    ShareGone,
    ShareNotFound,
)
from badgehub.wallet.models import ImportedCredential, WalletShare
from badgehub.web.verify import submission_of
from badgehub.web.wallet_forms import AddressForm, ButtonForm, EraseForm, HolderDidForm, ImportForm, ShareForm

log = logging.getLogger(__name__)

bp = Blueprint("wallet", __name__)

PDF_ENDPOINT: Final = "certificates.credential_pdf"
DEFAULT_SHARE_LIMIT: Final = "30 per minute"
_VALID: Final = frozenset({"valid", "valid_with_warnings"})


def _share_limit() -> str:
    return str(current_app.config.get("RATELIMIT_WALLET_SHARE") or DEFAULT_SHARE_LIMIT)


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _absolute(endpoint: str, **values: Any) -> str:
    # From BASE_URL: links sent by e-mail or printed must not depend on the request's Host header.
    return str(current_app.config["BASE_URL"]).rstrip("/") + url_for(endpoint, **values)


def _page(template: str, status: int = 200, *, private: bool = True, **context: Any) -> Response:
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    if private:
        response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------------------------- card views


@dataclass(frozen=True)
class Status:
    code: str
    title: str
    tone: str
    icon: str


@dataclass(frozen=True)
class Card:
    """One credential as a card: what it is, who issued it, when, and its live status."""

    kind: str  # ours / imported
    key: str  # public id, or the imported id
    title: str
    issuer: str
    date: str | None
    image: str | None
    status: Status
    detail_url: str
    public_url: str | None = None


def _status(view: ReportView | None) -> Status:
    if view is None:
        return Status("unverifiable", gettext("Could not be checked"), "neutral", "?")
    if view.verdict in _VALID:
        # "Valid" on a card; the points to note are on the detail page.
        return Status(view.verdict, gettext("Valid"), "ok" if view.verdict == "valid" else "warn", "✓")
    return Status(view.verdict, view.title, view.tone, view.icon)


def _our_view(credential: IssuedCredential) -> ReportView:
    return present(verify_issued(current_app, credential).report)


def _our_card(credential: IssuedCredential, *, detail_url: str) -> Card:
    view = _our_view(credential)
    version = credential.achievement_version
    return Card(
        kind="ours", key=credential.public_id,
        title=(view.achievement_name if view.genuine and view.achievement_name else version.name),
        issuer=credential.organisation.name,
        date=str(format_date(credential.awarded_date, "long")),
        image=url_for("achievements.version_image", public_id=credential.achievement.public_id,
                      number=version.number),
        status=_status(view), detail_url=detail_url,
        public_url=url_for("credential_page.page", public_id=credential.public_id))


def _raw_image(row: ImportedCredential) -> str | None:
    """The imported file itself as a data: URI when it is an image (an <img> never runs what an SVG holds)."""
    if row.format not in ("png", "svg") or len(row.raw) > 512 * 1024:
        return None
    media = "image/png" if row.format == "png" else "image/svg+xml"
    return f"data:{media};base64,{base64.b64encode(row.raw).decode('ascii')}"


def _imported_view(row: ImportedCredential) -> ReportView | None:
    report = wallet_status.imported_report(current_app, row)
    return present(report) if report is not None else None


def _imported_card(row: ImportedCredential, *, detail_url: str) -> Card:
    view = _imported_view(row)
    title = (view.achievement_name or view.credential_name) if view is not None else None
    issuer = view.issuer.text if view is not None and view.issuer is not None else None
    return Card(
        kind="imported", key=str(row.id),
        title=title or row.achievement_name or gettext("Imported badge"),
        issuer=issuer or row.issuer_name or gettext("Unknown issuer"),
        date=view.issued_on if view is not None and view.issued_on else str(format_date(row.imported_at, "long")),
        image=(view.achievement_image if view is not None and view.achievement_image else None) or _raw_image(row),
        status=_status(view), detail_url=detail_url)


# ------------------------------------------------------------------------------------------------- wallet


@bp.get("/wallet")
@login_required
def index() -> ResponseReturnValue:
    user = _user()
    cards = [_our_card(c, detail_url=url_for("wallet.credential", public_id=c.public_id))
             for c in wallet.wallet_credentials(user)]
    imported = [_imported_card(row, detail_url=url_for("wallet.imported", imported_id=row.id))
                for row in wallet.imported_of(user)]
    return _page("wallet/index.html", cards=cards, imported=imported,
                 unverified=user.verified_at is None, pathway_rows=wallet_progress(user))


def _links(credential: IssuedCredential) -> dict[str, str]:
    links = {suffix: url_for(f"credentials.credential_{suffix}", public_id=credential.public_id)
             for suffix in ("json", "jwt", "png", "svg")}
    if PDF_ENDPOINT in current_app.view_functions:
        locale = str(get_locale() or "en")
        links["pdf"] = url_for(PDF_ENDPOINT, public_id=credential.public_id, lang=locale)
    return links


@bp.get("/wallet/c/<public_id>")
@login_required
def credential(public_id: str) -> ResponseReturnValue:
    found = wallet.get_wallet_credential(_user(), public_id)
    view = _our_view(found)
    version = found.achievement_version
    public_url = _absolute("credential_page.page", public_id=found.public_id)
    linkedin = wallet.linkedin_url(
        name=version.name, organisation_name=found.organisation.name, issued=found.awarded_date,
        expires=found.valid_until, url=public_url, cert_id=found.public_id)
    links = _links(found)
    # A badge whose achievement image is an SVG cannot be baked into a PNG.
    if version.image_media_type == SVG:
        links.pop("png", None)
    return _page("wallet/credential.html", credential=found, view=view, badge_status=_status(view), links=links,
                 linkedin=linkedin, public_url=public_url, version=version,
                 issued_on=str(format_date(found.awarded_date, "long")))


@bp.get("/wallet/imported/<int:imported_id>")
@login_required
def imported(imported_id: int) -> ResponseReturnValue:
    row = wallet.get_imported(_user(), imported_id)
    view = _imported_view(row)
    return _page("wallet/imported.html", row=row, view=view, badge_status=_status(view), form=ButtonForm(formdata=None),
                 imported_on=str(format_date(row.imported_at, "long")),
                 image=(view.achievement_image if view is not None and view.achievement_image else None)
                 or _raw_image(row))


_MEDIA = {"json": "application/json", "jwt": "text/plain", "png": "image/png", "svg": "image/svg+xml"}


@bp.get("/wallet/imported/<int:imported_id>/file")
@login_required
def imported_file(imported_id: int) -> ResponseReturnValue:
    """The imported badge byte for byte, as a download (never rendered on our origin)."""
    row = wallet.get_imported(_user(), imported_id)
    response = Response(row.raw, mimetype=_MEDIA.get(row.format, "application/octet-stream"))
    response.headers["Content-Disposition"] = f'attachment; filename="imported-badge-{row.id}.{row.format}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/wallet/imported/<int:imported_id>/remove")
@login_required
def remove_imported(imported_id: int) -> ResponseReturnValue:
    form = ButtonForm()
    if form.validate_on_submit():
        wallet_imports.delete_imported(_user(), imported_id)
        db.session.commit()
        flash(gettext("The badge was removed from your wallet."), "success")
    return redirect(url_for("wallet.index"))


# ------------------------------------------------------------------------------------------------- import


@bp.route("/wallet/import", methods=["GET", "POST"])
@login_required
@verification_rate_limited
def import_page() -> ResponseReturnValue:
    form = ImportForm()
    megabytes = max(1, max_submission_bytes(current_app.config) // (1024 * 1024))
    if request.method == "GET":
        return _page("wallet/import.html", form=form, problem=None, max_megabytes=megabytes)
    if not form.validate_on_submit():
        return _page("wallet/import.html", 400, form=form, problem=None, max_megabytes=megabytes)
    try:
        kind, data = submission_of(form)
        row = wallet_imports.import_credential(current_app, _user(), kind=kind, data=data)
    except SubmissionRefused as refused:
        return _page("wallet/import.html", refused.status, form=form, max_megabytes=megabytes,
                     problem=submission_message(refused.code, refused.params))
    except BadgeHubError as error:
        return _page("wallet/import.html", error.http_status, form=form, max_megabytes=megabytes,
                     problem=str(error.message))
    db.session.commit()
    if row.last_verdict in _VALID:
        flash(gettext("The badge is in your wallet. Its status is checked again each time you look at it."),
              "success")
    else:
        # Kept (the person may want to show what they were given), but never announced as good news.
        flash(gettext("The badge is in your wallet, but it did not pass verification: see why below. Its "
                      "status is checked again each time you look at it."), "error")
    return redirect(url_for("wallet.imported", imported_id=row.id))


# ----------------------------------------------------------------------------------------------- settings


def _settings_page(status: int = 200, **forms: Any) -> Response:
    user = _user()
    context: dict[str, Any] = {
        "address_form": AddressForm(formdata=None),
        "did_form": HolderDidForm(formdata=None, holder_did=holders.holder_did_of(user) or ""),
        "button": ButtonForm(formdata=None),
    }
    context.update(forms)
    return _page("wallet/settings.html", status, user=user, addresses=wallet_addresses.addresses_of(user),
                 holder_did=holders.holder_did_of(user), **context)


@bp.get("/wallet/settings")
@login_required
def settings() -> ResponseReturnValue:
    return _settings_page()


def _send_address_link(address: str, token: str, user: User) -> bool:
    try:
        with force_locale(user.locale or str(get_locale() or "en")):
            text = render_template("email/wallet_confirm_address.txt", account=user.email,
                                   link=_absolute("wallet.confirm_address", token=token),
                                   hours=int(wallet_addresses.ADDRESS_LINK_LIFETIME.total_seconds() // 3600))
            mail = Mail(to=address, subject=gettext("Confirm this address for your wallet"), text=text)
        send_now(mail, config=current_app.config)
    except MailError:
        log.exception("could not send the wallet address confirmation")
        return False
    return True


@bp.post("/wallet/addresses")
@login_required
@limiter.limit(lambda: str(current_app.config["RATELIMIT_SIGNIN"]), scope="wallet-address")
def add_address() -> ResponseReturnValue:
    form = AddressForm()
    if not form.validate_on_submit():
        return _settings_page(400, address_form=form)
    user = _user()
    try:
        link = wallet_addresses.add_address(user, form.email.data or "")
    except InvalidEmail as error:
        form.email.errors = [str(error.message)]
        return _settings_page(400, address_form=form)
    except BadgeHubError as error:
        form.email.errors = [str(error.message)]
        return _settings_page(error.http_status, address_form=form)
    db.session.commit()
    if _send_address_link(link.address.email, link.token, user):
        flash(gettext("We have sent a link to %(address)s. Open it while signed in to this account to add the "
                      "address.", address=link.address.email), "success")
    else:
        flash(gettext("We could not send the e-mail just now. Please try again in a few minutes."), "error")
    return redirect(url_for("wallet.settings"))


@bp.route("/wallet/addresses/confirm/<token>", methods=["GET", "POST"])
@login_required
def confirm_address(token: str) -> ResponseReturnValue:
    form = ButtonForm()
    user = _user()
    try:
        if request.method == "POST" and form.validate_on_submit():
            row = wallet_addresses.confirm_address(user, token)
            db.session.commit()
            flash(gettext("%(address)s is now one of your addresses: the badges sent to it are in your wallet.",
                          address=row.email), "success")
            return redirect(url_for("wallet.index"))
        row = wallet_addresses.check_address_link(user, token)
    except (InvalidAddressLink, AddressTaken) as error:
        db.session.rollback()
        return _page("wallet/message.html", error.http_status, title=gettext("This link cannot be used"),
                     message=str(error.message), back=url_for("wallet.settings"))
    return _page("wallet/address_confirm.html", form=form, address=row.email)


@bp.post("/wallet/addresses/<int:address_id>/remove")
@login_required
def remove_address(address_id: int) -> ResponseReturnValue:
    form = ButtonForm()
    if form.validate_on_submit():
        wallet_addresses.remove_address(_user(), address_id)
        db.session.commit()
        flash(gettext("The address was removed; the badges sent to it left your wallet."), "success")
    return redirect(url_for("wallet.settings"))


@bp.post("/wallet/holder-did")
@login_required
def holder_did() -> ResponseReturnValue:
    form = HolderDidForm()
    if not form.validate_on_submit():
        return _settings_page(400, did_form=form)
    try:
        value = holders.set_holder_did(_user(), form.holder_did.data)
    except BadgeHubError as error:
        form.holder_did.errors = [str(error.message)]
        return _settings_page(400, did_form=form)
    db.session.commit()
    flash(gettext("Your DID is saved: badges issued to you from now on name you by it.") if value
          else gettext("Your DID was removed."), "success")
    return redirect(url_for("wallet.settings"))


# ------------------------------------------------------------------------------------------------- shares


def _share_url(token: str) -> str:
    return _absolute("wallet.shared", token=token)


@dataclass(frozen=True)
class ShareRow:
    share: WalletShare
    url: str
    state: str  # live / expired / revoked
    count: int


def _shares_page(status: int = 200, form: ShareForm | None = None, errors: dict[str, Any] | None = None,
                 chosen: tuple[set[str], set[str]] = (set(), set())) -> Response:
    user = _user()
    now = utcnow()
    rows = []
    for share in wallet_shares.shares_of(user):
        state = "revoked" if share.revoked_at else "live" if share.is_live(now) else "expired"
        rows.append(ShareRow(share, _share_url(share.token), state, len(share.items)))
    credentials = wallet.wallet_credentials(user)
    imported = wallet.imported_of(user)
    return _page("wallet/shares.html", status, form=form or ShareForm(formdata=None), rows=rows,
                 credentials=credentials, imported=imported, errors=errors or {}, chosen=chosen,
                 button=ButtonForm(formdata=None))


@bp.get("/wallet/shares")
@login_required
def shares() -> ResponseReturnValue:
    return _shares_page()


@bp.post("/wallet/shares")
@login_required
def create_share() -> ResponseReturnValue:
    form = ShareForm()
    ours = [value for value in request.form.getlist("credential") if value][:500]
    theirs = [value for value in request.form.getlist("imported") if value][:500]
    chosen = (set(ours), set(theirs))
    if not form.validate_on_submit():
        return _shares_page(400, form, chosen=chosen)
    expires_at = None
    if form.expires_on.data is not None:
        # The link works through the whole chosen day (UTC).
        expires_at = dt.datetime.combine(form.expires_on.data + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    try:
        imported_ids = [int(value) for value in theirs]
    except ValueError:
        return _shares_page(400, form, {"credentials": gettext("Only badges of your wallet can be shared.")},
                            chosen)
    try:
        share = wallet_shares.create_share(_user(), title=form.title.data or "", credential_ids=ours,
                                    imported_ids=imported_ids, expires_at=expires_at)
    except InvalidShare as error:
        fields = {name: str(message) for name, message in error.details.get("fields", {}).items()}
        return _shares_page(400, form, fields, chosen)
    db.session.commit()
    flash(gettext("Your link is ready: copy it, or show its QR code, below."), "success")
    return redirect(url_for("wallet.shares", _anchor=f"share-{share.id}"))


@bp.post("/wallet/shares/<int:share_id>/revoke")
@login_required
def revoke_share(share_id: int) -> ResponseReturnValue:
    form = ButtonForm()
    if form.validate_on_submit():
        wallet_shares.revoke_share(_user(), share_id)
        db.session.commit()
        flash(gettext("The link no longer works."), "success")
    return redirect(url_for("wallet.shares"))


@bp.post("/wallet/shares/<int:share_id>/delete")
@login_required
def delete_share(share_id: int) -> ResponseReturnValue:
    form = ButtonForm()
    if form.validate_on_submit():
        wallet_shares.delete_share(_user(), share_id)
        db.session.commit()
        flash(gettext("The link was deleted."), "success")
    return redirect(url_for("wallet.shares"))


@bp.get("/wallet/shares/<int:share_id>/qr.svg")
@login_required
def share_qr(share_id: int) -> ResponseReturnValue:
    share = wallet_shares.get_share_for(_user(), share_id)
    svg = qr_svg(_share_url(share.token), scale=6,
                 title=gettext("QR code of the link %(title)s", title=share.title))
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _public_page(template: str, status: int, **context: Any) -> Response:
    response = _page(template, status, private=False, **context)
    response.headers["X-Robots-Tag"] = "noindex"
    # The page shows live statuses and can be stopped at any moment: nobody may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/w/<token>")
@limiter.limit(_share_limit, scope="wallet-share")
def shared(token: str) -> ResponseReturnValue:
    try:
        share = wallet_shares.public_share(token)
    except ShareGone as error:
        return _public_page("wallet/share_gone.html", 410, message=str(error.message))
    except ShareNotFound as error:
        return _public_page("wallet/share_gone.html", 404, message=str(error.message))
    items = wallet_shares.shared_items(share)
    owner = db.session.get(User, share.user_id)
    # The badge's page, told which share it was opened from: it can then name the holder (and only while the share
    # is live and still shows the badge).
    cards = [_our_card(c, detail_url=url_for("credential_page.page", public_id=c.public_id, via=token))
             for c in items.credentials]
    cards += [_imported_card(row, detail_url="") for row in items.imported]
    return _public_page("wallet/share_public.html", 200, share=share, cards=cards,
                        owner_name=owner.name if owner is not None else "")


# ---------------------------------------------------------------------------------------- export and erase


@bp.post("/wallet/export")
@login_required
def export() -> ResponseReturnValue:
    form = ButtonForm()
    if not form.validate_on_submit():
        return redirect(url_for("wallet.settings"))
    user = _user()
    data = wallet_export.export_zip(user, share_url=_share_url)
    db.session.commit()
    response = Response(data, mimetype="application/zip")
    stamp = utcnow().strftime("%Y-%m-%d")
    response.headers["Content-Disposition"] = f'attachment; filename="badgehub-wallet-{stamp}.zip"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/account/erase", methods=["GET", "POST"])
@login_required
def erase() -> ResponseReturnValue:
    user = _user()
    form = EraseForm()
    alone = erasure.owned_alone(user)
    if request.method == "GET" or not form.validate_on_submit():
        return _page("wallet/erase.html", 400 if request.method == "POST" else 200, form=form, alone=alone)
    if not login_fresh():
        # A remembered session is not enough to erase an account.
        flash(gettext("Please sign in again to erase your account."), "info")
        return redirect(url_for("auth.sign_in", next=url_for("wallet.erase")))
    if email_key(form.email.data or "") != user.email_key:
        form.email.errors = [gettext("Type the e-mail address of your account exactly to confirm.")]
        return _page("wallet/erase.html", 400, form=form, alone=alone)
    try:
        erase_account(user, actor_id=user.id, config=current_app.config)
    except LastOwner as error:
        db.session.rollback()
        return _page("wallet/erase.html", 409, form=form, alone=alone, problem=str(error.message))
    db.session.commit()
    logout_user()
    return _page("wallet/erased.html", private=True)

