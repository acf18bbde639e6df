"""The ``parse`` step: any input (a dict, JSON text or bytes, a compact JWT, a credential's address, a baked
PNG or SVG) to a :class:`Parsed` credential, or a :class:`ParseFailure` with a stable code.

Anything unreadable (damaged JSON, a truncated JWT, a hostile image) is a failed ``parse`` check, never an
exception; JSON nested deeper than :data:`MAX_JSON_DEPTH` is refused. Addresses are fetched through the
``fetch`` function given, so under the resolver's policies.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from badgehub.credentials import vc_jwt
from badgehub.credentials.baking import BakingError, ExtractedBadge, extract_from_png, extract_from_svg
from badgehub.credentials.errors import CredentialError
from badgehub.verification import ob2
from badgehub.verification.report import CHECK_IDS, CheckStatus, VerificationReport, make_check
from badgehub.verification.resolver import ResolutionError

MAX_INPUT_BYTES: Final = 20 * 1024 * 1024
"""Largest input accepted (a baked image)."""
MAX_TEXT_BYTES: Final = 4 * 1024 * 1024
"""Largest JSON or JWT text accepted."""
MAX_JSON_DEPTH: Final = 64
"""Deepest JSON nesting accepted (an OB 3.0 credential needs about 12)."""

_JWS_RE: Final = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")

Fetch = Callable[[str], object]
"""Fetches a document by URL (parsed JSON, or text); raises :class:`ResolutionError`."""


@dataclass
class Parsed:
    """What the ``parse`` step produced: a credential (or OB 2.0 assertion) and how it was carried."""

    format: str
    credential: dict[str, Any]
    token: str | None = None
    decoded: vc_jwt.DecodedJwt | None = None
    ob_version: str = "3.0"
    parse_code: str = "parsed_json"


class ParseFailure(Exception):
    """A failed ``parse`` step: ``code`` and template ``params``."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def parse_input(data: object, fetch: Fetch) -> Parsed:
    """Read ``data`` as a credential; raises :class:`ParseFailure` when it cannot be read."""
    if isinstance(data, Mapping):
        try:
            credential = json.loads(json.dumps(data, allow_nan=False))
        except (TypeError, ValueError, RecursionError) as exc:
            raise ParseFailure("not_an_object") from exc
        if not isinstance(credential, dict):
            raise ParseFailure("not_an_object")
        if not _json_depth_ok(credential):
            raise ParseFailure("invalid_json")
        return _classify_json(credential, "json")
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if isinstance(data, str):
        if len(data) > MAX_INPUT_BYTES:
            raise ParseFailure("input_too_large")
        stripped = data.lstrip("\ufeff \t\r\n")
        if stripped.startswith("<"):
            data = data.encode("utf-8")
        else:
            return _parse_text(data, "json", fetch)
    if not isinstance(data, bytes):
        raise ParseFailure("unknown_format")
    if not data.strip():
        raise ParseFailure("empty_input")
    if len(data) > MAX_INPUT_BYTES:
        raise ParseFailure("input_too_large")
    if data.startswith(b"\x89PNG"):
        return _parse_image(data, "png", fetch)
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return _parse_image(data, "svg", fetch)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseFailure("not_utf8") from exc
    return _parse_text(text, "json", fetch)


def guess_format(data: object) -> str | None:
    """The format an unreadable input looks like, for the report (``json``, ``jwt``, ``png``, ``svg``)."""
    if isinstance(data, Mapping):
        return "json"
    if isinstance(data, bytes | bytearray):
        if bytes(data[:4]) == b"\x89PNG":
            return "png"
        if bytes(data).lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
            return "svg"
    if isinstance(data, str) and data.lstrip("\ufeff \t\r\n")[:1] == "<":
        return "svg"
    if isinstance(data, str | bytes | bytearray):
        text = data if isinstance(data, str) else bytes(data).decode("utf-8", "replace")
        return "jwt" if text.strip().count(".") == 2 and not text.strip().startswith("{") else "json"
    return None


def unreadable(code: str, fmt: str | None, params: Mapping[str, Any] | None = None) -> VerificationReport:
    """The report on an input that could not be read: a failed ``parse``, every other check skipped."""
    checks = [make_check("parse", CheckStatus.FAILED, code, params)]
    checks += [make_check(check_id, CheckStatus.SKIPPED, "not_run") for check_id in CHECK_IDS[1:]]
    return VerificationReport(checks=checks, format=fmt)


def _json_depth_ok(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(node, Mapping):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _load_json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ParseFailure("invalid_json") from exc
    if not isinstance(value, dict):
        raise ParseFailure("not_an_object")
    if not _json_depth_ok(value):
        raise ParseFailure("invalid_json")
    return value


def _b64url_json(segment: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _is_ob2(document: Mapping[str, Any]) -> bool:
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    return any(isinstance(c, str) and c.rstrip("/") in ob2.OB2_CONTEXTS for c in contexts)


def _parse_image(data: bytes, kind: str, fetch: Fetch) -> Parsed:
    try:
        badge = extract_from_png(data) if kind == "png" else extract_from_svg(data)
    except BakingError as exc:
        raise ParseFailure("image_unreadable", detail=exc.message) from exc
    except (ValueError, RecursionError) as exc:  # defensive: never let an image escape as an exception
        raise ParseFailure("image_unreadable", detail=str(exc)[:100]) from exc
    if badge is None:
        raise ParseFailure("image_without_badge")
    return _parse_baked(badge, kind, fetch)


def _parse_baked(badge: ExtractedBadge, kind: str, fetch: Fetch) -> Parsed:
    if badge.kind == "url":
        # OB 2.0 legacy bakes carry the URL of a hosted assertion.
        parsed = _parse_url(badge.payload.strip(), kind, "baked_url_unreachable", fetch)
    else:
        parsed = _parse_text(badge.payload, kind, fetch, follow_url=False)
    parsed.parse_code = "parsed_ob2" if parsed.ob_version == "2.0" else f"parsed_{kind}"
    return parsed


def _parse_url(url: str, fmt: str, failure_code: str, fetch: Fetch) -> Parsed:
    """Fetch a credential published at ``url`` (through the resolver, so under its policies)."""
    try:
        document = fetch(url)
    except ResolutionError as exc:
        raise ParseFailure(failure_code, url=url[:200]) from exc
    if isinstance(document, dict):
        if not _json_depth_ok(document):
            raise ParseFailure("invalid_json")
        return _classify_json(document, fmt)
    if isinstance(document, str):
        return _parse_text(document, fmt, fetch, follow_url=False)
    raise ParseFailure("not_an_object")


def _parse_text(text: str, fmt: str, fetch: Fetch, *, follow_url: bool = True) -> Parsed:
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        raise ParseFailure("empty_input")
    if len(stripped.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise ParseFailure("input_too_large")
    if follow_url and stripped.startswith(("https://", "http://")) and not any(c.isspace() for c in stripped):
        # A credential's address (the /verify page accepts one): fetched through the resolver.
        return _parse_url(stripped, fmt, "url_unreachable", fetch)
    if stripped.startswith("{"):
        return _classify_json(_load_json_object(stripped), fmt)
    if _JWS_RE.fullmatch(stripped):
        return _parse_jwt(stripped, "jwt" if fmt == "json" else fmt)
    if stripped.count(".") == 2 and " " not in stripped:
        raise ParseFailure("invalid_jwt")
    raise ParseFailure("unknown_format")


def _parse_jwt(token: str, fmt: str) -> Parsed:
    header_segment, payload_segment, _ = token.split(".")
    payload = _b64url_json(payload_segment)
    header = _b64url_json(header_segment)
    if not isinstance(header, dict) or not isinstance(payload, dict) or not _json_depth_ok(payload):
        raise ParseFailure("invalid_jwt")
    if _is_ob2(payload):
        return Parsed(fmt, payload, token=token, ob_version="2.0", parse_code="parsed_ob2")
    try:
        decoded = vc_jwt.decode_vc_jwt(token)
    except CredentialError as exc:
        raise ParseFailure("invalid_jwt") from exc
    credential = decoded.credential
    if not isinstance(credential, dict):
        raise ParseFailure("invalid_jwt")
    return Parsed(fmt, dict(credential), token=token, decoded=decoded, parse_code=f"parsed_{fmt}")


def _classify_json(document: dict[str, Any], fmt: str) -> Parsed:
    if _is_ob2(document):
        return Parsed(fmt, document, ob_version="2.0", parse_code="parsed_ob2")
    return Parsed(fmt, document, parse_code=f"parsed_{fmt}")
