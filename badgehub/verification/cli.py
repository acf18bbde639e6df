"""``badgehub verify FILE``: check an Open Badge from the command line, offline.

The command never touches the network: keys come from did:key or the verification method's URL
fragment, and any other document (a status list, a DID document, a JWK set, an OB 2.0 hosted
assertion) must be given with ``--document URL=PATH``. Exit status 0 exactly when the badge is
verified, 1 when it is not, 2 for a usage error.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import click

from badgehub.credentials.documents import parse_timestamp
from badgehub.verification.pipeline import MAX_INPUT_BYTES, verify
from badgehub.verification.report import CheckStatus, VerificationReport
from badgehub.verification.resolver import offline_resolver

_MARKS = {
    CheckStatus.PASSED: "ok  ",
    CheckStatus.FAILED: "FAIL",
    CheckStatus.WARNING: "warn",
    CheckStatus.SKIPPED: "--  ",
}


def _load_documents(specs: tuple[str, ...]) -> dict[str, object]:
    documents: dict[str, object] = {}
    for spec in specs:
        url, sep, path = spec.rpartition("=")
        if not sep or not url or not path:
            raise click.BadParameter(f"{spec!r} is not URL=PATH", param_hint="--document")
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise click.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="--document") from None
        try:
            documents[url] = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            documents[url] = raw  # not JSON (a JWT, say): served as it is
    return documents


def _moment(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    moment = parse_timestamp(value)
    if moment is None:
        raise click.BadParameter(f"{value!r} is not a date-time such as 2026-01-01T00:00:00Z", param_hint="--now")
    return moment


def render_text(report: VerificationReport) -> str:
    """A readable, line-oriented rendering of a report (what the command prints without ``--json``)."""
    if report.verified and not report.issuer_confirmed:
        # The 1EdTech reading says verified; a reader must still learn that nothing ties the key to the issuer.
        lines = ["VERIFIED, BUT NOTHING CONFIRMS THAT THE ISSUER SIGNED IT"]
    else:
        lines = ["VERIFIED" if report.verified else "NOT VERIFIED"]
    summary: list[tuple[str, Any]] = [
        ("Credential", report.credential_name or report.credential_id),
        ("Achievement", report.achievement_name),
        ("Issuer", report.issuer_name or report.issuer_id),
        ("Valid from", report.valid_from),
        ("Valid until", report.valid_until),
        ("Format", f"{report.format or '?'} (Open Badges {report.ob_version or '?'})"),
    ]
    lines += [f"  {label}: {value}" for label, value in summary if value]
    lines.append("")
    for check in report.checks:
        lines.append(f"[{_MARKS[check.status]}] {check.id:<12} {check.message}")
        lines += [f"         - {detail}" for detail in check.details[:5]]
    for index, endorsement in enumerate(report.endorsements, start=1):
        state = "verified" if endorsement.verified else "not verified"
        lines.append(f"  endorsement {index}: {endorsement.credential_id or '?'} ({state})")
    return "\n".join(lines)


@click.command("verify")
@click.argument("file", type=click.File("rb"))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--known-email", metavar="ADDRESS", help="Check that the badge was issued to this e-mail address.")
@click.option(
    "--document",
    "documents",
    multiple=True,
    metavar="URL=PATH",
    help="Answer a look-up of URL with the local file PATH (status list, DID document, JWK set …). Repeatable.",
)
@click.option("--now", "now_text", metavar="DATETIME", help="Check validity dates at this instant instead of now.")
@click.pass_context
def verify_command(
    ctx: click.Context,
    file: BinaryIO,
    as_json: bool,
    known_email: str | None,
    documents: tuple[str, ...],
    now_text: str | None,
) -> None:
    """Verify an Open Badge FILE (JSON, JWT, PNG or SVG; '-' reads standard input), offline."""
    resolver = offline_resolver(_load_documents(documents))
    moment = _moment(now_text)
    data = file.read(MAX_INPUT_BYTES + 1)
    report = verify(data, resolver, moment, known_email)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(report))
    ctx.exit(0 if report.verified else 1)
