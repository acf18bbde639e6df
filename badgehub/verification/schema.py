"""Validation against the official OB 3.0 JSON schema (draft 2019-09), tolerant of JSON-LD compaction.

The canonical *json* schema wants arrays where JSON-LD compaction may write a single value
(``proof``, ``type`` …). The spec allows that compaction for a fixed list of properties
(OB3-BRIEF §2.1), and its own test vector uses a single ``proof`` object. So a credential is first
validated as written; if that fails, the allowed compactions are expanded back into arrays and it is
validated again. Passing only after the expansion is a *warning* (``schema_compacted``), failing
both is a *failure* (``schema_invalid``). This mirrors the 1EdTech validator, which falls back to the
compaction-tolerant json-ld schema with a warning.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from jsonschema import Draft201909Validator

DEFAULT_SCHEMA_PATH: Final = (
    Path(__file__).resolve().parent.parent / "credentials" / "schemas" / "ob_v3p0_achievementcredential_schema.json"
)

# Classes whose ``type`` may be compacted to a single string (OB3-BRIEF §2.1).
_COMPACTABLE_TYPES: Final = frozenset(
    {
        "Achievement",
        "AchievementCredential",
        "OpenBadgeCredential",
        "AchievementSubject",
        "Address",
        "Alignment",
        "EndorsementCredential",
        "EndorsementSubject",
        "Evidence",
        "Profile",
        "Related",
        "Result",
        "ResultDescription",
        "RubricCriterionLevel",
        "VerifiableCredential",
    }
)
# Credential-level properties that may be a single object instead of an array.
_COMPACTABLE_LISTS: Final = ("proof", "credentialSchema", "termsOfUse")

_lock = threading.Lock()
_validators: dict[tuple[str, str], Draft201909Validator] = {}


class SchemaUnavailable(Exception):
    """The schema file cannot be read or is not a valid JSON schema."""


@dataclass(frozen=True)
class SchemaResult:
    """``ok`` / ``compacted`` / ``invalid``, with readable error lines for the last two."""

    outcome: str
    errors: tuple[str, ...] = ()


def _validator(path: Path, definition: str | None) -> Draft201909Validator:
    key = (str(path), definition or "")
    with _lock:
        cached = _validators.get(key)
        if cached is not None:
            return cached
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
        if definition is not None:
            schema = {
                "$schema": schema.get("$schema"),
                "$defs": schema["$defs"],
                "$ref": f"#/$defs/{definition}",
            }
        Draft201909Validator.check_schema(schema)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SchemaUnavailable(str(exc)) from exc
    except Exception as exc:  # jsonschema.SchemaError and friends
        raise SchemaUnavailable(str(exc)) from exc
    validator = Draft201909Validator(schema)
    with _lock:
        _validators[key] = validator
    return validator


def _expand(node: Any, *, credential_level: bool) -> Any:
    """Undo the JSON-LD compactions the spec allows: single types and single proofs become arrays."""
    if isinstance(node, list):
        return [_expand(item, credential_level=False) for item in node]
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    is_credential = "@context" in node or credential_level
    for key, value in node.items():
        if key == "type" and isinstance(value, str) and value in _COMPACTABLE_TYPES:
            out[key] = [value]
        elif is_credential and key in _COMPACTABLE_LISTS and isinstance(value, Mapping):
            out[key] = [_expand(value, credential_level=False)]
        elif key == "endorsement" and isinstance(value, list):
            out[key] = [_expand(item, credential_level=True) for item in value]
        else:
            out[key] = _expand(value, credential_level=False)
    return out


def _describe(error: Any) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
    message = str(error.message)
    if len(message) > 160:
        message = message[:157] + "…"
    return f"{where}: {message}"


def validate_credential(
    credential: Mapping[str, Any], *, path: Path | None = None, endorsement: bool = False, max_errors: int = 10
) -> SchemaResult:
    """Validate ``credential`` against the official schema (``$defs/EndorsementCredential`` for an
    endorsement). Raises :class:`SchemaUnavailable` when the schema cannot be loaded."""
    validator = _validator(path or DEFAULT_SCHEMA_PATH, "EndorsementCredential" if endorsement else None)
    document = copy.deepcopy(dict(credential))
    if not any(True for _ in validator.iter_errors(document)):
        return SchemaResult("ok")
    expanded = _expand(document, credential_level=True)
    errors = sorted(validator.iter_errors(expanded), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return SchemaResult("compacted")
    return SchemaResult("invalid", tuple(_describe(error) for error in errors[:max_errors]))
