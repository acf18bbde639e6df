"""RDF Dataset Canonicalization (RDFC-1.0, the algorithm pyld calls ``URDNA2015``) with JSON-LD safe mode.

Pipeline: ``document`` → safe-mode expansion (pyld, bundled contexts only) → RDF dataset (pyld) →
canonical N-Quads (our own RDFC-1.0 implementation, :mod:`badgehub.credentials.rdfc`).

Why not ``pyld.jsonld.normalize`` alone:

* pyld has no JSON-LD *safe mode*: a term or type that no context defines is silently dropped, so it
  is neither signed nor noticed.  :func:`check_safe_mode` expands the document with an extra
  sentinel ``@vocab`` placed *before* the document's own contexts: a defined term never uses
  ``@vocab``, an undefined one lands on the sentinel namespace, where we find it.  When nothing
  lands there the sentinel expansion is exactly the ordinary one, so it is reused for the
  canonical form (one expansion per document, not two).
* pyld's N-Quads serialiser writes control characters U+0000–U+001F (except tab, LF, CR) and
  U+007F raw, where RDFC-1.0 and the JavaScript ``rdf-canonize`` escape them (``\\b``, ``\\f``,
  ``\\u0001`` …); blank-node hashes depend on that serialisation too.  Our serialiser follows
  ``rdf-canonize`` 5 byte for byte: ``\\b \\t \\n \\f \\r \\" \\\\`` as ECHAR, every other
  U+0000–U+001F and U+007F as ``\\uXXXX``; in IRIs U+0000–U+0020 and ``<>"{}|^`\\`` as ``\\uXXXX``.
* Sorting: RDFC-1.0 sorts N-Quads in code point order, while the JavaScript implementations (the
  ones every OB 3.0 wallet and verifier runs) sort UTF-16 code units.  The two orders differ only
  when a supplementary-plane character (e.g. an emoji) is compared with one in U+E000–U+FFFF.
  We sign with the JavaScript order (``code_point_order=False``, the default) so JavaScript
  verifiers accept our credentials; the verifier tries the other order when it would differ.
* JSON numbers: JavaScript cannot tell ``42.0`` from ``42`` and loses integers beyond 2**53, so
  integral floats are turned into integers before expansion, and numbers the two languages would
  canonicalise differently (|n| > 2**53 integers, |x| ≥ 1e21, non-zero |x| < 1e-6) are refused.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping
from typing import Any

from cachetools import LRUCache
from pyld import jsonld
from pyld.context_resolver import ContextResolver
from pyld.identifier_issuer import IdentifierIssuer

from badgehub.credentials.contexts import document_loader
from badgehub.credentials.errors import ContextNotAllowed, CredentialError, JsonLdError, UndefinedTermError
from badgehub.credentials.rdfc import Quad, canonicalize_quads, dataset_to_quads

__all__ = ["SAFE_MODE_VOCAB", "canonical_forms", "canonicalize", "canonicalize_quads", "check_safe_mode",
           "dataset_to_quads"]

#: Undefined terms expand against this vocabulary during the safe-mode check (never emitted).
SAFE_MODE_VOCAB = "urn:x-badgehub-undefined-term:"

_JS_SAFE_INTEGER = 2**53

# pyld keeps a module-wide resolved-context cache keyed by URL; ours is private, so a different
# loader elsewhere in the process can never hand us its version of a context (or vice versa).
_CONTEXT_CACHE: LRUCache[str, Any] = LRUCache(maxsize=256)
# Inline (scoped) context object → its resolution, by identity (see _IdentityCachingResolver).
_INLINE_CACHE: LRUCache[int, tuple[Any, list[Any]]] = LRUCache(maxsize=1024)
_INLINE_LOCK = threading.Lock()
_PYLD_LOCK = threading.Lock()


class _IdentityCachingResolver(ContextResolver):  # type: ignore[misc]
    """pyld's ContextResolver, minus its most expensive habit.

    For every inline context it meets (the OB and VC contexts are full of type- and property-scoped
    contexts) pyld computes a JCS serialisation of the whole context object to look it up in its
    cache: about a quarter of the time of a canonicalisation.  The scoped contexts are the same
    Python objects every time (they live in the cached resolved remote contexts, which nobody
    mutates), so the lookup is done by object identity first; the answer is the very object pyld's
    own cache would return for that content.  A strong reference to the key object is kept, so an id
    is never reused while it is cached.  Inline contexts of the documents themselves are fresh copies
    made by ``_prepare`` for each call, so they can never be stale either.
    """

    def resolve(self, active_ctx: Any, context: Any, base: Any, cycles: Any = None) -> Any:
        if isinstance(context, dict) and "@context" not in context:
            key = id(context)
            with _INLINE_LOCK:
                hit = _INLINE_CACHE.get(key)
            if hit is not None and hit[0] is context:
                return list(hit[1])
            resolved = super().resolve(active_ctx, context, base, cycles)
            with _INLINE_LOCK:
                _INLINE_CACHE[key] = (context, list(resolved))
            return resolved
        return super().resolve(active_ctx, context, base, cycles)


_JSONLD_KEYWORDS = frozenset(
    {
        "@base", "@container", "@context", "@direction", "@graph", "@id", "@import", "@included",
        "@index", "@json", "@language", "@list", "@nest", "@none", "@prefix", "@propagate",
        "@protected", "@reverse", "@set", "@type", "@value", "@version", "@vocab",
    }
)  # fmt: skip


_NON_PROPAGATING_CACHE: LRUCache[str, tuple[Any, Any]] = LRUCache(maxsize=1024)


class _CachingProcessor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    """pyld's processor, with type-scoped contexts cached like every other context.

    A type-scoped context (``"@propagate": false``: every OB class has one) is processed on a fresh
    clone of the active context that remembers its ``previousContext``.  pyld gives each such
    clone a new random ``_uuid``, so its processed-context cache (keyed by that uuid) never hits and
    the whole scoped context is processed again for every node of every document: almost half the
    time of a canonicalisation.  Here the clone made for a given active context is kept and reused:
    it is a pure function of that context (same mappings, same ``previousContext``), and pyld never
    mutates an active context once built, so what is cached against it stays correct.
    """

    def _process_context(
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: Any,
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: Any = None,
    ) -> Any:
        uuid = active_ctx.get("_uuid") if isinstance(active_ctx, dict) else None
        if not propagate and isinstance(uuid, str) and not active_ctx.get("previousContext"):
            with _INLINE_LOCK:
                hit = _NON_PROPAGATING_CACHE.get(uuid)
            if hit is None or hit[0] is not active_ctx:
                clone = self._clone_active_context(active_ctx)
                clone["previousContext"] = active_ctx
                clone["_uuid"] = uuid + "/non-propagating"
                hit = (active_ctx, clone)
                with _INLINE_LOCK:
                    _NON_PROPAGATING_CACHE[uuid] = hit
            active_ctx = hit[1]
        return super()._process_context(
            active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
        )


def _processor(problems: list[str]) -> _CachingProcessor:
    """A processor that also reports every property pyld drops (a second net under the sentinel
    vocabulary: it catches terms explicitly mapped to null and keyword-like keys)."""

    def dropped(expanded_property: str | None) -> None:
        problems.append(f"dropped property {expanded_property!r}" if expanded_property else "term mapped to null")

    try:
        return _CachingProcessor(on_property_dropped=dropped)
    except TypeError:  # pragma: no cover - pyld before 3.x has no such hook
        return _CachingProcessor()


def _processor_options() -> dict[str, Any]:
    return {
        "documentLoader": document_loader,
        "contextResolver": _IdentityCachingResolver(_CONTEXT_CACHE, document_loader),
        "base": None,
        "processingMode": "json-ld-1.1",
    }


# Input preparation: JavaScript number semantics and the checks expansion cannot see.


def _js_number(value: int | float, path: str) -> int | float:
    if isinstance(value, int):
        if abs(value) > _JS_SAFE_INTEGER:
            raise JsonLdError(
                f"integer at {path} exceeds 2**53 (JavaScript would alter it)", code="number_not_portable"
            )
        return value
    if not math.isfinite(value):
        raise JsonLdError(f"non-finite number at {path}", code="number_not_portable")
    if value.is_integer() and abs(value) < 1e21:
        # JavaScript prints 42.0 as "42" and canonicalises it as an integer; so must we.
        integral = int(value)
        if abs(integral) > _JS_SAFE_INTEGER:
            raise JsonLdError(f"integer at {path} exceeds 2**53", code="number_not_portable")
        return integral
    if abs(value) >= 1e21 or abs(value) < 1e-6:
        raise JsonLdError(f"number at {path} is written in exponent form by JavaScript", code="number_not_portable")
    return value


def _check_unicode(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate has no UTF-8 form: JavaScript would hash U+FFFD in its place, Python
        # cannot hash it at all, so the document cannot be signed or verified portably.
        raise JsonLdError(f"lone surrogate in a string at {path}", code="invalid_unicode") from None


def _check_inline_context(ctx: Any, path: str, problems: list[str]) -> None:
    items = ctx if isinstance(ctx, list) else [ctx]
    for item in items:
        if item is None:
            # A context reset drops every term defined so far: what follows would be unsigned.
            problems.append(f"@context null at {path}")
        elif isinstance(item, Mapping):
            for term, definition in item.items():
                if term == "@vocab" and not definition:
                    problems.append(f"@vocab reset at {path}")
                elif not term.startswith("@") and (
                    definition is None or (isinstance(definition, Mapping) and definition.get("@id", "") is None)
                ):
                    problems.append(f"term {term!r} mapped to null at {path}")


def _prepare(value: Any, path: str, problems: list[str]) -> Any:
    """Copy the JSON value with JavaScript number semantics, collecting safe-mode problems."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise JsonLdError(f"non-string key at {path}")
            _check_unicode(key, path)
            if key.startswith("@") and key not in _JSONLD_KEYWORDS and key[1:].isalpha():
                problems.append(f"reserved term {key!r}")
            if key == "@context" and path != "$":
                _check_inline_context(item, path, problems)
            elif key == "@context":
                for ctx in item if isinstance(item, list) else [item]:
                    if not isinstance(ctx, str):
                        _check_inline_context(ctx, path, problems)
            out[key] = _prepare(item, f"{path}.{key}", problems)
        return out
    if isinstance(value, list | tuple):
        return [_prepare(item, f"{path}[{i}]", problems) for i, item in enumerate(value)]
    if isinstance(value, str):
        _check_unicode(value, path)
        return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return _js_number(value, path)
    raise JsonLdError(f"value at {path} is not JSON ({type(value).__name__})")


def _unwrap_pyld_error(exc: BaseException) -> CredentialError:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, CredentialError):
            return seen
        seen = seen.__cause__ or seen.__context__
    code = getattr(exc, "code", None)
    detail = f" ({code})" if isinstance(code, str) and code else ""
    message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else type(exc).__name__
    return JsonLdError(f"JSON-LD processing failed{detail}: {message}")


_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+\-.]*|_):\S*$")


def _is_absolute_iri(value: str) -> bool:
    # The test jsonld.js and pyld both apply: a scheme (or "_" for blank nodes) and no whitespace.
    return bool(_ABSOLUTE_IRI.match(value))


def _scan_expanded(node: Any, problems: list[str]) -> None:
    """Find what safe mode forbids in an expanded document: sentinel (undefined) terms, types and
    vocabulary values, relative IRIs, and literals with a base direction."""
    if isinstance(node, list):
        for item in node:
            _scan_expanded(item, problems)
        return
    if not isinstance(node, dict):
        return
    if "@value" in node:
        if "@direction" in node:
            problems.append("literal with @direction (rdfDirection is not set)")
        return
    for key, value in node.items():
        if key.startswith(SAFE_MODE_VOCAB):
            problems.append(f"term {key[len(SAFE_MODE_VOCAB) :]!r}")
        elif not key.startswith("@") and not _is_absolute_iri(key):
            problems.append(f"relative property {key!r}")
        if key == "@type":
            for type_ in value if isinstance(value, list) else [value]:
                if isinstance(type_, str) and type_.startswith(SAFE_MODE_VOCAB):
                    problems.append(f"type {type_[len(SAFE_MODE_VOCAB) :]!r}")
                elif isinstance(type_, str) and not _is_absolute_iri(type_):
                    problems.append(f"relative type {type_!r}")
        elif key == "@id" and isinstance(value, str):
            if value.startswith(SAFE_MODE_VOCAB):
                problems.append(f"value {value[len(SAFE_MODE_VOCAB) :]!r}")
            elif not _is_absolute_iri(value):
                problems.append(f"relative @id {value!r}")
        elif not key.startswith("@") or key in ("@graph", "@list", "@set", "@included", "@reverse"):
            if key == "@reverse" and isinstance(value, dict):
                for rkey, rvalue in value.items():
                    _scan_expanded({rkey: rvalue}, problems)
            else:
                _scan_expanded(value, problems)


def _expand_safe(document: Mapping[str, Any]) -> list[Any]:
    """Expand ``document`` in safe mode; return the expanded form or raise UndefinedTermError."""
    if not isinstance(document, Mapping):
        raise JsonLdError("a JSON-LD document must be a JSON object")
    problems: list[str] = []
    prepared = _prepare(document, "$", problems)
    contexts = prepared.get("@context")
    if contexts is None:
        raise UndefinedTermError(["@context missing"])
    prepared["@context"] = [{"@vocab": SAFE_MODE_VOCAB}, *(contexts if isinstance(contexts, list) else [contexts])]
    try:
        # pyld's caches (and ours) are plain LRU dicts: one expansion at a time per process. The
        # work is CPU-bound under the GIL anyway, so threads lose nothing by taking turns.
        with _PYLD_LOCK:
            expanded: list[Any] = _processor(problems).expand(prepared, _processor_options())
    except ContextNotAllowed:
        raise
    except Exception as exc:  # pyld raises bare exceptions of many kinds for hostile input
        raise _unwrap_pyld_error(exc) from None
    _scan_expanded(expanded, problems)
    if problems:
        raise UndefinedTermError(problems)
    return expanded


def check_safe_mode(document: Mapping[str, Any]) -> None:
    """Refuse a document that uses anything its contexts do not define (JSON-LD safe mode).

    Raises :class:`UndefinedTermError` listing every undefined term, undefined or relative
    ``type``, relative ``id``, context reset and reserved ``@``-term; :class:`ContextNotAllowed`
    when a context is not bundled; :class:`JsonLdError` when the document cannot be expanded.
    """
    _expand_safe(document)


def _to_quads(expanded: list[Any]) -> list[Quad]:
    options = _processor_options()
    options["produceGeneralizedRdf"] = False
    try:
        processor = jsonld.JsonLdProcessor()
        if hasattr(processor, "_create_node_map") and hasattr(processor, "_graph_to_rdf"):
            # pyld's to_rdf() would expand the already expanded document a second time (a third of
            # the cost of a canonicalisation); these are the two steps it runs after expanding.
            issuer = IdentifierIssuer("_:b")
            node_map: dict[str, Any] = {"@default": {}}
            processor._create_node_map(expanded, node_map, "@default", issuer)
            dataset = {
                name: processor._graph_to_rdf(graph, issuer, options)
                for name, graph in sorted(node_map.items())
                if name == "@default" or _is_absolute_iri(name)
            }
        else:  # pragma: no cover - another pyld layout: the public, slower path
            dataset = jsonld.to_rdf(expanded, options)
    except CredentialError:
        raise
    except Exception as exc:  # see _expand_safe
        raise _unwrap_pyld_error(exc) from None
    return dataset_to_quads(dataset)


def canonicalize(document: Mapping[str, Any], *, code_point_order: bool = False) -> str:
    """Return the RDFC-1.0 canonical N-Quads of a JSON-LD document, after the safe-mode check.

    Raises :class:`UndefinedTermError` (safe mode), :class:`ContextNotAllowed` (a context outside
    the bundled allow-list) or :class:`JsonLdError` (not expandable, non-portable numbers).
    """
    quads = _to_quads(_expand_safe(document))
    return canonicalize_quads(quads, code_point_order=code_point_order)


def canonical_forms(document: Mapping[str, Any]) -> list[str]:
    """Return the distinct canonical forms of ``document``: the JavaScript (UTF-16) order first,
    then the code point order when it differs (verifiers try each).  Raises like
    :func:`canonicalize`."""
    quads = _to_quads(_expand_safe(document))
    first = canonicalize_quads(quads)
    if max(first, default="\0") < "\U00010000":
        return [first]  # no supplementary-plane character: both orders are the same
    second = canonicalize_quads(quads, code_point_order=True)
    return [first] if first == second else [first, second]
