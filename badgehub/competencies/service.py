"""Competency frameworks: reading, curating, searching; the public URL and OB 3.0 alignment of a competency.

Rules (written here and nowhere else; pages, API and CLI call these functions):

* **Coordinators curate.** Only a coordinator of the territory, or a platform admin, creates, edits,
  archives, restores or imports competencies and renames the framework
  (``territory.service.require_coordinator``). Being coordinator of one territory gives no right in another.
* **Codes are forever.** A competency's URL ``<BASE_URL>/competencies/<territory slug>/<code>`` is written
  into signed credentials as an alignment's ``targetUrl``: the code never changes, a competency is archived,
  never deleted, and an archived competency still answers at its URL. Codes are letters, digits, ``.``,
  ``-`` and ``_`` (starting with a letter or digit, at most 64), unique in the framework whatever their case.
* **A tree.** A competency without a parent is a *domain*. A parent belongs to the same framework, is not
  archived, and the tree has no cycle. A competency with active competencies under it cannot be archived.
* **References are checked.** ESCO: an http(s) URI under ``data.europa.eu/esco/``; RNCP/RS: ``RNCP`` or
  ``RS`` and digits (spaces dropped, upper-cased); CASE item and other link: http(s) URLs.
* Every change is an audit event. Services flush; the caller commits.

The CSV import and export live in :mod:`badgehub.competencies.csv_io`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from badgehub.audit.service import record
from badgehub.competencies.errors import CompetencyExists, CompetencyHasChildren, ParentArchived
from badgehub.competencies.models import Competency, CompetencyFramework
from badgehub.credentials.documents import Alignment
from badgehub.db import utcnow
from badgehub.errors import NotFound, ValidationError
from badgehub.extensions import db
from badgehub.fields import FieldError, block, line
from badgehub.territory.models import Territory
from badgehub.territory.service import get_territory_by_slug, require_coordinator
from badgehub.territory.slugs import name_sort_key

CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# ESCO concept URIs are http:// (that is how ESCO publishes them); https is accepted too.
ESCO_PATTERN = re.compile(r"https?://data\.europa\.eu/esco/[A-Za-z0-9][A-Za-z0-9._~/-]*")
RNCP_PATTERN = re.compile(r"(RNCP|RS)[0-9]{1,6}")
NAME_MAX = 200
DESCRIPTION_MAX = 5000
URL_MAX = 500
FRAMEWORK_NAME_MAX = 200
# Control characters (Unicode Cc) are refused: they end up inside signed credentials, where the OB builders
# refuse them too. A description may hold line breaks and tabs; a name may not.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")

REFERENCE_FIELDS = ("esco_uri", "rncp_code", "case_item_uri", "other_url")


@dataclass(frozen=True)
class CompetencyFields:
    """What a coordinator types about a competency, except its code (which never changes).

    Empty strings mean "none". ``parent_code`` is the code of the competency above it (None: a domain).
    """

    name: str
    description: str = ""
    parent_code: str | None = None
    esco_uri: str | None = None
    rncp_code: str | None = None
    case_item_uri: str | None = None
    other_url: str | None = None


FIELD_NAMES = tuple(f.name for f in fields(CompetencyFields))


def _base_url(config: Mapping[str, Any]) -> str:
    return str(config["BASE_URL"]).rstrip("/")


def framework_url(territory: Territory, config: Mapping[str, Any]) -> str:
    """The absolute public URL of the territory's framework: ``<BASE_URL>/competencies/<slug>`` (``config``: the
    app's)."""
    return f"{_base_url(config)}/competencies/{territory.slug}"


def competency_url(competency: Competency, config: Mapping[str, Any]) -> str:
    """The absolute public URL of a competency, ``<BASE_URL>/competencies/<territory slug>/<code>``.

    It is the ``targetUrl`` of alignments in signed credentials, so it is built from ``BASE_URL`` (never from
    a request) and depends only on the territory's slug and the competency's code.
    """
    return f"{framework_url(competency.framework.territory, config)}/{competency.code}"


def alignment_for(competency: Competency, config: Mapping[str, Any]) -> Alignment:
    """The OB 3.0 ``Alignment`` pointing at ``competency`` (``targetType`` ``ceasn:Competency``).

    ``targetName`` is the name, ``targetUrl`` :func:`competency_url`, ``targetCode`` the code,
    ``targetFramework`` the framework's name, ``targetDescription`` the description (omitted when empty).
    """
    return Alignment(target_name=competency.name, target_url=competency_url(competency, config),
                     target_code=competency.code, target_framework=competency.framework.name,
                     target_type="ceasn:Competency", target_description=competency.description or None)


def framework_of(territory: Territory) -> CompetencyFramework | None:
    """The territory's framework, or None when nobody has curated one yet."""
    return db.session.scalar(select(CompetencyFramework).where(CompetencyFramework.territory_id == territory.id))


def get_competency_in(territory: Territory, code: str) -> Competency:
    """The competency ``code`` (exact) of the territory's framework, archived or not; raises NotFound."""
    competency = db.session.scalar(
        select(Competency).join(CompetencyFramework, Competency.framework_id == CompetencyFramework.id)
        .where(CompetencyFramework.territory_id == territory.id, Competency.code == code))
    if competency is None:
        raise NotFound()
    return competency


def get_competency(territory_slug: str, code: str) -> Competency:
    """The competency ``code`` of the territory ``territory_slug``, archived or not; raises NotFound."""
    return get_competency_in(get_territory_by_slug(territory_slug), code)


def code_sort_key(code: str) -> tuple[Any, ...]:
    """Natural order of codes: ``CIT.2`` before ``CIT.10``, whatever the case."""
    return tuple(int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", code))


@dataclass
class TreeNode:
    """A competency and the competencies under it, for pages that show the framework as a tree."""

    competency: Competency
    depth: int
    children: list[TreeNode] = field(default_factory=list)


def _all_of(territory: Territory) -> list[Competency]:
    return list(db.session.scalars(
        select(Competency).join(CompetencyFramework, Competency.framework_id == CompetencyFramework.id)
        .where(CompetencyFramework.territory_id == territory.id)))


def _build_tree(competencies: Iterable[Competency]) -> list[TreeNode]:
    items = sorted(competencies, key=lambda c: code_sort_key(c.code))
    present = {c.id for c in items}
    nodes = {c.id: TreeNode(c, 0) for c in items}
    roots: list[TreeNode] = []
    for competency in items:
        # A competency whose parent is not shown (archived, when archived ones are hidden) is shown as a root
        # rather than lost; the rules keep this from happening, but old data should not disappear.
        if competency.parent_id is not None and competency.parent_id in present:
            nodes[competency.parent_id].children.append(nodes[competency.id])
        else:
            roots.append(nodes[competency.id])

    def set_depth(node: TreeNode, depth: int) -> None:
        node.depth = depth
        for child in node.children:
            set_depth(child, depth + 1)

    for root in roots:
        set_depth(root, 0)
    return roots


def framework_tree(territory: Territory, *, include_archived: bool = False) -> list[TreeNode]:
    """The territory's competencies as a tree: domains (by code, naturally ordered), each with its children."""
    competencies = _all_of(territory)
    if not include_archived:
        competencies = [c for c in competencies if c.archived_at is None]
    return _build_tree(competencies)


def _flatten(nodes: Iterable[TreeNode]) -> list[TreeNode]:
    flat: list[TreeNode] = []
    for node in nodes:
        flat.append(node)
        flat.extend(_flatten(node.children))
    return flat


def competencies_of(territory: Territory, *, include_archived: bool = False) -> list[Competency]:
    """The territory's competencies in tree order (each domain followed by what is under it, depth first)."""
    return [node.competency for node in _flatten(framework_tree(territory, include_archived=include_archived))]


def flat_tree(territory: Territory, *, include_archived: bool = False) -> list[TreeNode]:
    """The tree in reading order, each node with its depth (for indented lists and select options)."""
    return _flatten(framework_tree(territory, include_archived=include_archived))


def fold(text: str) -> str:
    """Text as search compares it: case and accents ignored ("Écologie" matches "ecologie")."""
    return name_sort_key(text)


def search_competencies(territory: Territory, query: str, *, include_archived: bool = False) -> list[Competency]:
    """The territory's competencies whose code, name or description contain every word of ``query``.

    Case and accents are ignored. Best matches first: the exact code, then codes starting with the query,
    then names containing it, then the rest; otherwise in tree order. An empty query gives every competency.
    """
    words = fold(query).split()
    candidates = competencies_of(territory, include_archived=include_archived)
    if not words:
        return candidates
    whole = " ".join(words)
    ranked: list[tuple[int, int, Competency]] = []
    for position, competency in enumerate(candidates):
        code, name = fold(competency.code), fold(competency.name)
        haystack = f"{code} {name} {fold(competency.description or '')}"
        if not all(word in haystack for word in words):
            continue
        if code == whole:
            rank = 0
        elif code.startswith(whole):
            rank = 1
        elif all(word in name for word in words):
            rank = 2
        else:
            rank = 3
        ranked.append((rank, position, competency))
    return [competency for _, _, competency in sorted(ranked, key=lambda item: item[:2])]


def ancestors(competency: Competency) -> list[Competency]:
    """The competencies above ``competency``, from its domain down to its parent."""
    chain: list[Competency] = []
    seen: set[int] = {competency.id}
    current = competency.parent
    while current is not None and current.id not in seen:
        seen.add(current.id)
        chain.append(current)
        current = current.parent
    return list(reversed(chain))


def descendants(competency: Competency) -> list[Competency]:
    """Every competency under ``competency``, archived or not, depth first."""
    found: list[Competency] = []
    seen: set[int] = {competency.id}
    stack = list(reversed(competency.children))
    while stack:
        child = stack.pop()
        if child.id in seen:
            continue
        seen.add(child.id)
        found.append(child)
        stack.extend(reversed(child.children))
    return found


def parent_options(territory: Territory, competency: Competency | None = None) -> list[TreeNode]:
    """The competencies that may be the parent of ``competency`` (or of a new one): active ones, in tree order,
    without the competency itself and what is under it."""
    excluded: set[int] = set()
    if competency is not None:
        excluded = {competency.id, *(c.id for c in descendants(competency))}
    return [node for node in flat_tree(territory) if node.competency.id not in excluded]


def normalise_code(code: str) -> str:
    """Return the code trimmed if it is valid; raises ValidationError (``details["field"] == "code"``)."""
    value = (code or "").strip()
    if not CODE_PATTERN.fullmatch(value):
        raise ValidationError(_l("Use 1 to 64 letters, digits, dots, hyphens and underscores, starting with a "
                                 "letter or a digit."), details={"field": "code"})
    return value


def _url_problem(value: str) -> Any | None:
    if len(value) > URL_MAX:
        return _l("Use at most %(limit)s characters.", limit=URL_MAX)
    if any(ch.isspace() for ch in value) or _CONTROL.search(value):
        return _l("A web address has no spaces.")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _l("Give a full web address starting with https:// or http://.")
    return None


def _optional(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def check_fields(values: CompetencyFields) -> tuple[CompetencyFields, dict[str, Any]]:
    """Clean what was typed and say what is wrong, field by field (without looking at the database).

    Returns the cleaned fields (trimmed; RNCP/RS codes upper-cased without spaces; empty values as None; line
    breaks of the description as LF) and a mapping ``{field name: message}``, empty when all is well.
    """
    problems: dict[str, Any] = {}
    name = (values.name or "").strip()
    if not name:
        problems["name"] = _l("Give the competency a name.")
    elif len(name) > NAME_MAX:
        problems["name"] = _l("Use at most %(limit)s characters.", limit=NAME_MAX)
    elif _CONTROL_SINGLE_LINE.search(name):
        problems["name"] = _l("Write the name on one line, without invisible control characters.")
    description = (values.description or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(description) > DESCRIPTION_MAX:
        problems["description"] = _l("Use at most %(limit)s characters.", limit=DESCRIPTION_MAX)
    elif _CONTROL.search(description):
        problems["description"] = _l("Remove the invisible control characters from this field.")
    parent_code = _optional(values.parent_code)
    if parent_code is not None and not CODE_PATTERN.fullmatch(parent_code):
        problems["parent_code"] = _l("This is not a competency code.")
    esco_uri = _optional(values.esco_uri)
    if esco_uri is not None and (len(esco_uri) > URL_MAX or not ESCO_PATTERN.fullmatch(esco_uri)):
        problems["esco_uri"] = _l("Give an ESCO URI, such as http://data.europa.eu/esco/skill/… (copy it from "
                                  "the ESCO portal).")
    rncp_code = _optional(values.rncp_code)
    if rncp_code is not None:
        rncp_code = re.sub(r"\s+", "", rncp_code).upper()
        if not RNCP_PATTERN.fullmatch(rncp_code):
            problems["rncp_code"] = _l("Give an RNCP or RS code, such as RNCP34567 or RS5678.")
    case_item_uri = _optional(values.case_item_uri)
    if case_item_uri is not None and (problem := _url_problem(case_item_uri)) is not None:
        problems["case_item_uri"] = problem
    other_url = _optional(values.other_url)
    if other_url is not None and (problem := _url_problem(other_url)) is not None:
        problems["other_url"] = problem
    cleaned = CompetencyFields(name=name, description=description, parent_code=parent_code, esco_uri=esco_uri,
                               rncp_code=rncp_code, case_item_uri=case_item_uri, other_url=other_url)
    return cleaned, problems


def _raise_problems(problems: Mapping[str, Any]) -> None:
    if problems:
        first = next(iter(problems))
        raise ValidationError(problems[first], details={"field": first,
                                                        "errors": {k: str(v) for k, v in problems.items()}})


def _check_text_field(value: str, limit: int, field_name: str, *, single_line: bool) -> str:
    try:
        return line(value, limit) if single_line else block(value, limit)
    except FieldError as exc:
        raise ValidationError(exc.message, details={"field": field_name}) from None


def ensure_framework(territory: Territory, actor: Any) -> CompetencyFramework:
    """The territory's framework, created (named after the territory) on first use; raises NotCoordinator."""
    require_coordinator(territory, actor)
    framework = framework_of(territory)
    if framework is None:
        framework = CompetencyFramework(territory_id=territory.id, name=territory.name[:FRAMEWORK_NAME_MAX],
                                        description="")
        framework.territory = territory
        try:
            # Two coordinators starting the framework at the same moment: the second one uses the first's.
            with db.session.begin_nested():
                db.session.add(framework)
                db.session.flush()
        except IntegrityError:
            existing = framework_of(territory)
            if existing is None:
                raise
            return existing
        record("competency_framework.created", actor_id=getattr(actor, "id", None), territory_id=territory.id,
               subject_type="competency_framework", subject_id=framework.id)
    return framework


def update_framework(territory: Territory, actor: Any, *, name: str, description: str = "") -> CompetencyFramework:
    """Rename the framework and change its description. Its name is the ``targetFramework`` of the alignments
    issued from now on (credentials already issued keep the name they were signed with).

    Raises NotCoordinator, ValidationError (``details["field"]`` is ``name`` or ``description``).
    """
    require_coordinator(territory, actor)
    clean_name = _check_text_field(name, FRAMEWORK_NAME_MAX, "name", single_line=True)
    if not clean_name:
        raise ValidationError(_l("Give the framework a name."), details={"field": "name"})
    clean_description = _check_text_field(description, DESCRIPTION_MAX, "description", single_line=False)
    framework = ensure_framework(territory, actor)
    changed = [key for key, value in (("name", clean_name), ("description", clean_description))
               if getattr(framework, key) != value]
    if changed:
        framework.name, framework.description = clean_name, clean_description
        record("competency_framework.updated", actor_id=actor.id, territory_id=territory.id,
               subject_type="competency_framework", subject_id=framework.id, details={"changed": changed})
        db.session.flush()
    return framework


def _code_taken(framework: CompetencyFramework, code: str) -> Competency | None:
    folded = code.casefold()
    return next((c for c in framework.competencies if c.code.casefold() == folded), None)


def _resolve_parent(framework: CompetencyFramework, parent_code: str | None,
                    competency: Competency | None) -> Competency | None:
    if parent_code is None:
        return None
    parent = next((c for c in framework.competencies if c.code == parent_code), None)
    if parent is None:
        raise ValidationError(_l("There is no competency with the code %(code)s in this framework.",
                                 code=parent_code), details={"field": "parent_code"})
    if competency is not None:
        if parent.id == competency.id:
            raise ValidationError(_l("A competency cannot be placed under itself."), details={"field": "parent_code"})
        if parent in descendants(competency):
            raise ValidationError(_l("%(code)s is under this competency: placing it there would make a circle.",
                                     code=parent.code), details={"field": "parent_code"})
    if parent.archived_at is not None:
        raise ParentArchived(details={"field": "parent_code"})
    return parent


def create_competency(territory: Territory, actor: Any, code: str, values: CompetencyFields) -> Competency:
    """Add a competency to the territory's framework (created if needed) and record it.

    Raises NotCoordinator, ValidationError (``details["field"]`` names the first bad field and
    ``details["errors"]`` every one), CompetencyExists when the code is taken (whatever its case), ParentArchived.
    """
    require_coordinator(territory, actor)
    clean_code = normalise_code(code)
    cleaned, problems = check_fields(values)
    _raise_problems(problems)
    framework = ensure_framework(territory, actor)
    if _code_taken(framework, clean_code) is not None:
        raise CompetencyExists(details={"field": "code"})
    if cleaned.parent_code == clean_code:
        raise ValidationError(_l("A competency cannot be placed under itself."), details={"field": "parent_code"})
    parent = _resolve_parent(framework, cleaned.parent_code, None)
    competency = Competency(code=clean_code, name=cleaned.name, description=cleaned.description,
                            esco_uri=cleaned.esco_uri, rncp_code=cleaned.rncp_code,
                            case_item_uri=cleaned.case_item_uri, other_url=cleaned.other_url)
    try:
        # A savepoint, so that another coordinator taking the same code at the same moment gives a clear
        # refusal instead of breaking the whole transaction.
        with db.session.begin_nested():
            framework.competencies.append(competency)
            competency.parent = parent
            db.session.flush()
    except IntegrityError as exc:
        raise CompetencyExists(details={"field": "code"}) from exc
    record("competency.created", actor_id=actor.id, territory_id=territory.id, subject_type="competency",
           subject_id=competency.id, details={"code": competency.code})
    db.session.flush()
    return competency


def apply_fields(competency: Competency, cleaned: CompetencyFields, parent: Competency | None,
           present: Iterable[str] = FIELD_NAMES) -> list[str]:
    """Set the ``present`` fields (already checked) and the parent on the competency; return the names of those
    that changed. For the services of this package only: it checks nothing and records nothing."""
    changed: list[str] = []
    for name in present:
        if name == "parent_code":
            before = competency.parent.code if competency.parent is not None else None
            if before != (parent.code if parent is not None else None):
                competency.parent = parent
                changed.append(name)
            continue
        new = getattr(cleaned, name)
        if name == "description":
            new = new or ""
        if getattr(competency, name) != new:
            setattr(competency, name, new)
            changed.append(name)
    return changed


def update_competency(competency: Competency, actor: Any, values: CompetencyFields) -> Competency:
    """Change a competency's name, description, parent and references (never its code) and record what changed.

    Raises NotCoordinator, ValidationError (see :func:`create_competency`; a parent under the competency itself
    is refused as a circle), ParentArchived.
    """
    territory = competency.framework.territory
    require_coordinator(territory, actor)
    cleaned, problems = check_fields(values)
    _raise_problems(problems)
    parent = _resolve_parent(competency.framework, cleaned.parent_code, competency)
    changed = apply_fields(competency, cleaned, parent)
    if changed:
        record("competency.updated", actor_id=actor.id, territory_id=territory.id, subject_type="competency",
               subject_id=competency.id, details={"code": competency.code, "changed": changed})
        db.session.flush()
    return competency


def archive_competency(competency: Competency, actor: Any) -> Competency:
    """Archive a competency: it is no longer offered for new achievements, and its public page says so.

    Idempotent. Raises NotCoordinator, CompetencyHasChildren while active competencies are under it.
    """
    territory = competency.framework.territory
    require_coordinator(territory, actor)
    if competency.archived_at is not None:
        return competency
    if any(child.archived_at is None for child in competency.children):
        raise CompetencyHasChildren()
    competency.archived_at = utcnow()
    record("competency.archived", actor_id=actor.id, territory_id=territory.id, subject_type="competency",
           subject_id=competency.id, details={"code": competency.code})
    db.session.flush()
    return competency


def restore_competency(competency: Competency, actor: Any) -> Competency:
    """Bring an archived competency back. Idempotent. Raises NotCoordinator, ParentArchived."""
    territory = competency.framework.territory
    require_coordinator(territory, actor)
    if competency.archived_at is None:
        return competency
    if competency.parent is not None and competency.parent.archived_at is not None:
        raise ParentArchived()
    competency.archived_at = None
    record("competency.restored", actor_id=actor.id, territory_id=territory.id, subject_type="competency",
           subject_id=competency.id, details={"code": competency.code})
    db.session.flush()
    return competency


def fields_of(competency: Competency) -> CompetencyFields:
    """The editable fields of a competency as they are now (to fill a form)."""
    return CompetencyFields(name=competency.name, description=competency.description or "",
                            parent_code=competency.parent.code if competency.parent else None,
                            esco_uri=competency.esco_uri, rncp_code=competency.rncp_code,
                            case_item_uri=competency.case_item_uri, other_url=competency.other_url)

