"""The RDF dataset of a document BadgeHub built itself, without JSON-LD expansion: the signer's fast path.

Canonicalising a credential for its Data Integrity proof runs pyld's expansion and toRDF, which handle every
JSON-LD feature and spend most of a signature's time doing so. The documents issuing builds (plain JSON
objects, bundled contexts given as URLs, terms those contexts define, strings, integers and booleans) use a
small part of JSON-LD, whose rules are written here directly: node objects become subjects (their ``id``, or a
blank node), ``type`` values and term values become quads through the same term definitions pyld resolved
(the active contexts are pyld's own, processed once and kept), type-scoped contexts apply to their node only,
property-scoped ones to the property's value, ``@id`` and ``@vocab`` coercions and datatypes as the term says.

Anything outside that subset (an undefined term, a nested ``@context``, a list or language container, a
float, a coerced non-string, a relative or prefixed IRI, a keyword used as a key) makes :func:`direct_quads`
answer ``None`` and the caller takes the general path, which also gives the general path's errors (safe mode).
The equivalence is a tested claim, not an assumption: the property tests compare, byte for byte, the canonical
N-Quads of generated credentials through this path, through pyld, and through the JavaScript ``rdf-canonize``.
Verification never uses this path.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any, Final

from badgehub.credentials.canonical import _PYLD_LOCK, _CachingProcessor, _processor_options
from badgehub.credentials.rdfc import Quad, escape_iri, escape_literal

_RDF_TYPE: Final = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_XSD: Final = "http://www.w3.org/2001/XMLSchema#"
_XSD_STRING: Final = _XSD + "string"
_XSD_DOUBLE: Final = _XSD + "double"
_ABSOLUTE_IRI: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+\-.]*:\S*$")
_JS_SAFE_INTEGER: Final = 2**53

# Processed active contexts, keyed by the identity of their inputs; the inputs are kept alive by the entry (an
# id is never reused while it is cached). pyld never mutates an active context once built.
_CONTEXTS: dict[Any, tuple[Any, ...]] = {}
_CONTEXTS_LOCK = threading.Lock()
_MAX_CONTEXTS: Final = 4096


class _Unsupported(Exception):
    """The document leaves the subset this module writes directly: take the general path."""


def _cached(key: Any, keep: tuple[Any, ...], make: Any) -> Any:
    with _CONTEXTS_LOCK:
        hit = _CONTEXTS.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[1:], keep, strict=True)):
        return hit[0]
    value = make()
    with _CONTEXTS_LOCK:
        if len(_CONTEXTS) >= _MAX_CONTEXTS:
            _CONTEXTS.clear()
        _CONTEXTS[key] = (value, *keep)
    return value


def _process(active: Any, local: Any, *, override_protected: bool = False, propagate: bool = True) -> Any:
    def make() -> Any:
        try:
            with _PYLD_LOCK:  # pyld's caches are not thread-safe (see canonical); a miss happens a few times only
                return _CachingProcessor()._process_context(
                    active, local, _processor_options(), override_protected=override_protected,
                    propagate=propagate)
        except Exception as exc:  # pyld refuses the context (a protected term redefined...): general path
            raise _Unsupported from exc

    return _cached(("process", id(active), id(local), override_protected, propagate), (active, local), make)


def _initial(contexts: tuple[str, ...]) -> Any:
    key = ("initial", contexts)
    with _CONTEXTS_LOCK:
        hit = _CONTEXTS.get(key)
    if hit is not None:
        return hit[0]
    try:
        processor = _CachingProcessor()
        options = _processor_options()
        with _PYLD_LOCK:
            active = processor._process_context(processor._get_initial_context(options), list(contexts), options)
    except Exception as exc:  # an unknown context: the general path says which
        raise _Unsupported from exc
    with _CONTEXTS_LOCK:
        _CONTEXTS[key] = (active,)
    return active


def _definition(active: Any, term: str) -> dict[str, Any]:
    definition = active["mappings"].get(term)
    if not isinstance(definition, dict) or definition.get("reverse") or "@id" not in definition:
        raise _Unsupported
    return definition


def _iri(active: Any, value: object) -> str:
    """An ``@id`` value (document-relative IRI expansion with no base): absolute IRIs only, never a compact IRI
    whose prefix is a term (pyld would expand it), never a blank node identifier."""
    if not isinstance(value, str) or not _ABSOLUTE_IRI.match(value) or value.startswith("_:"):
        raise _Unsupported
    prefix, _, suffix = value.partition(":")
    if not suffix.startswith("//") and prefix in active["mappings"]:
        raise _Unsupported
    return "<" + escape_iri(value) + ">"


def _vocab_iri(active: Any, value: object) -> str:
    """A ``type`` value or an ``@vocab``-coerced string: a term of the active context, nothing else."""
    if not isinstance(value, str):
        raise _Unsupported
    iri = _definition(active, value)["@id"]
    if not isinstance(iri, str) or not _ABSOLUTE_IRI.match(iri) or iri.startswith("_:"):
        raise _Unsupported
    return "<" + escape_iri(iri) + ">"


class _Writer:
    def __init__(self) -> None:
        self.quads: dict[Quad, None] = {}  # a dataset is a set; insertion order kept for reproducibility
        self.blank = 0

    def node(self, element: Mapping[str, Any], active: Any, term: str | None) -> str:
        """Write a node object's quads and return its subject. ``active`` is the context its property
        ``term`` was read in, that property's scoped context already applied (as pyld does)."""
        keys = list(element)
        top = term is None
        if term is not None:
            property_context = active["mappings"].get(term, {}).get("@context")
            subject_reference = len(keys) == 1 and (active["mappings"].get(keys[0]) or {}).get("@id") == "@id"
            if active.get("previousContext") is not None and not subject_reference:
                active = active["previousContext"]  # a type-scoped context does not reach nested nodes
            if property_context is not None:
                active = _process(active, property_context, override_protected=True)
        type_scoped = active
        types: list[str] = []
        subject: str | None = None
        for key in sorted(keys):
            if key.startswith("@"):
                if top and key == "@context":
                    continue
                raise _Unsupported
            if (type_scoped["mappings"].get(key) or {}).get("@id") == "@type":
                values = element[key] if isinstance(element[key], list) else [element[key]]
                for value in values:
                    if not isinstance(value, str):
                        raise _Unsupported
                    types.append(value)
        for type_ in sorted(types):
            scoped = type_scoped["mappings"].get(type_, {}).get("@context")
            if scoped is not None:
                active = _process(active, scoped, propagate=False)
        for key in keys:
            if key == "@context":
                continue
            definition = _definition(active, key)
            if definition["@id"] == "@id":
                subject = _iri(active, element[key])
        if subject is None:
            subject = f"_:b{self.blank}"
            self.blank += 1
        for type_ in types:
            self.add(subject, _RDF_TYPE, _vocab_iri(type_scoped, type_))
        for key, value in element.items():
            if key == "@context":
                continue
            definition = _definition(active, key)
            predicate_iri = definition["@id"]
            if predicate_iri in ("@id", "@type"):
                continue
            if (not isinstance(predicate_iri, str) or predicate_iri.startswith(("@", "_:"))
                    or not _ABSOLUTE_IRI.match(predicate_iri)):
                raise _Unsupported
            if any(container != "@set" for container in definition.get("@container", [])):
                raise _Unsupported
            predicate = "<" + escape_iri(predicate_iri) + ">"
            for item in value if isinstance(value, list) else [value]:
                obj = self.value(item, active, key, definition)
                if obj is not None:
                    self.add(subject, predicate, obj)
        return subject

    def value(self, item: Any, active: Any, term: str, definition: Mapping[str, Any]) -> str | None:
        if item is None:
            return None
        scoped = definition.get("@context")
        if scoped is not None:
            active = _process(active, scoped, override_protected=True)
        if isinstance(item, Mapping):
            return self.node(item, active, term)
        if isinstance(item, list):
            raise _Unsupported  # an array in an array: flattened by expansion, not written here
        if scoped is not None:
            definition = _definition(active, term)
        coercion = definition.get("@type")
        if "@language" in definition or "@direction" in definition or active.get("@language") is not None \
                or active.get("@direction") is not None:
            raise _Unsupported
        if isinstance(item, str) and coercion == "@id":
            return _iri(active, item)
        if isinstance(item, str) and coercion == "@vocab":
            return _vocab_iri(active, item)
        if coercion == "@none":
            coercion = None
        if coercion is not None and (not isinstance(coercion, str) or coercion.startswith("@")
                                     or not _ABSOLUTE_IRI.match(coercion) or coercion == _XSD_DOUBLE):
            raise _Unsupported  # @json, an @id-coerced number, a double written as text: the general path's
        if isinstance(item, str):
            text = item
            datatype = coercion or _XSD_STRING
        elif isinstance(item, bool):
            text = "true" if item else "false"
            datatype = coercion or _XSD + "boolean"
        elif isinstance(item, int) and abs(item) <= _JS_SAFE_INTEGER:
            text = str(item)
            datatype = coercion or _XSD + "integer"
        else:
            raise _Unsupported  # floats: their canonical form is the general path's business
        literal = '"' + escape_literal(text) + '"'
        return literal if datatype == _XSD_STRING else literal + "^^<" + escape_iri(datatype) + ">"

    def add(self, subject: str, predicate: str, obj: str) -> None:
        self.quads[(subject, predicate, obj, "")] = None


def direct_quads(document: Mapping[str, Any]) -> list[Quad] | None:
    """The quads of ``document``'s RDF dataset (serialised terms, like
    :func:`~badgehub.credentials.canonical.dataset_to_quads`), or ``None`` when the document uses anything
    outside the subset written here (the caller then canonicalises it the general way)."""
    contexts = document.get("@context") if isinstance(document, Mapping) else None
    if not isinstance(contexts, list) or not contexts or not all(isinstance(c, str) for c in contexts):
        return None
    for text in _strings(document):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return None  # a lone surrogate: the general path refuses it with its own words
    try:
        writer = _Writer()
        writer.node(document, _initial(tuple(contexts)), None)
    except _Unsupported:
        return None
    return list(writer.quads)


def _strings(value: Any) -> list[str]:
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, Mapping):
            found.extend(k for k in item if isinstance(k, str))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
