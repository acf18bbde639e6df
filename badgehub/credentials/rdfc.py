"""RDF Dataset Canonicalization (RDFC-1.0): an RDF dataset (as pyld produces it) to canonical N-Quads.

This module's own implementation, serialising and sorting as the JavaScript ``rdf-canonize`` 5 does, byte
for byte (see :mod:`badgehub.credentials.canonical` for why); :mod:`~badgehub.credentials.canonical`
produces the dataset from a JSON-LD document in safe mode.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from badgehub.credentials.errors import JsonLdError

_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

_ECHAR = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r", 0x22: '\\"', 0x5C: "\\\\"}
_LITERAL_ESCAPES = {n: _ECHAR.get(n, f"\\u{n:04X}") for n in [*range(0x20), 0x22, 0x5C, 0x7F]}
_IRI_ESCAPES = {n: f"\\u{n:04X}" for n in [*range(0x21), *b'<>"{}|^`\\']}


def escape_literal(text: str) -> str:
    return text.translate(_LITERAL_ESCAPES)


def escape_iri(text: str) -> str:
    return text.translate(_IRI_ESCAPES)


# A quad is (subject, predicate, object, graph); each term already serialised, blank nodes as
# "_:label" (so a term is a blank node exactly when it starts with "_:"), the default graph as "".
Quad = tuple[str, str, str, str]


def _term(component: Mapping[str, Any]) -> str:
    kind = component["type"]
    if kind == "IRI":
        return "<" + escape_iri(component["value"]) + ">"
    if kind == "blank node":
        label: str = component["value"]
        return label if label.startswith("_:") else "_:" + label
    literal = '"' + escape_literal(component["value"]) + '"'
    datatype = component.get("datatype") or _XSD_STRING
    if datatype == _RDF_LANGSTRING:
        language = component.get("language")
        return literal + ("@" + language if language else "")
    if datatype != _XSD_STRING:
        return literal + "^^<" + escape_iri(datatype) + ">"
    return literal


def dataset_to_quads(dataset: Mapping[str, Iterable[Mapping[str, Any]]]) -> list[Quad]:
    """Turn a pyld RDF dataset (graph name → triples) into serialised-term quads."""
    quads: list[Quad] = []
    for graph_name, triples in dataset.items():
        if graph_name == "@default":
            graph = ""
        elif graph_name.startswith("_:"):
            graph = graph_name
        else:
            graph = "<" + escape_iri(graph_name) + ">"
        for triple in triples:
            quads.append((_term(triple["subject"]), _term(triple["predicate"]), _term(triple["object"]), graph))
    return quads


def _line(s: str, p: str, o: str, g: str) -> str:
    return f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n"


def _sort_key_utf16(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


def _sorted(lines: list[str], code_point_order: bool) -> list[str]:
    # Code point and UTF-16 orders agree unless a supplementary-plane character is present.
    if code_point_order or max("".join(lines), default="\0") < "\U00010000":
        return sorted(lines)
    return sorted(lines, key=_sort_key_utf16)


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class _Issuer:
    """RDFC-1.0 identifier issuer (insertion-ordered)."""

    __slots__ = ("counter", "issued", "prefix")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.counter = 0
        self.issued: dict[str, str] = {}

    def issue(self, existing: str) -> str:
        issued = self.issued.get(existing)
        if issued is None:
            issued = f"{self.prefix}{self.counter}"
            self.counter += 1
            self.issued[existing] = issued
        return issued

    def copy(self) -> _Issuer:
        twin = _Issuer(self.prefix)
        twin.counter = self.counter
        twin.issued = dict(self.issued)
        return twin


def _permutations(items: list[str]) -> Iterable[list[str]]:
    # Order does not matter for the result (the minimum path wins), only completeness.
    if len(items) <= 1:
        yield list(items)
        return
    for i, head in enumerate(items):
        for rest in _permutations(items[:i] + items[i + 1 :]):
            yield [head, *rest]


class _Canonicalizer:
    def __init__(self, quads: list[Quad], code_point_order: bool, max_work_factor: int) -> None:
        self.quads = quads
        self.code_point_order = code_point_order
        self.max_work_factor = max_work_factor
        self.remaining_deep_iterations = 0
        self.canonical = _Issuer("_:c14n")
        self.bnode_quads: dict[str, list[Quad]] = {}
        self.first_degree: dict[str, str] = {}
        for quad in quads:
            s, _, o, g = quad
            for term in (s, o, g):
                if term.startswith("_:"):
                    bucket = self.bnode_quads.setdefault(term, [])
                    if not bucket or bucket[-1] is not quad:
                        bucket.append(quad)

    def hash_first_degree(self, node: str) -> str:
        cached = self.first_degree.get(node)
        if cached is not None:
            return cached
        lines = []
        for s, p, o, g in self.bnode_quads[node]:
            lines.append(
                _line(
                    ("_:a" if s == node else "_:z") if s.startswith("_:") else s,
                    p,
                    ("_:a" if o == node else "_:z") if o.startswith("_:") else o,
                    ("_:a" if g == node else "_:z") if g.startswith("_:") else g,
                )
            )
        digest = _sha256_hex("".join(_sorted(lines, self.code_point_order)))
        self.first_degree[node] = digest
        return digest

    def hash_related(self, related: str, predicate: str, issuer: _Issuer, position: str) -> str:
        if related in self.canonical.issued:
            ident = self.canonical.issued[related]
        elif related in issuer.issued:
            ident = issuer.issued[related]
        else:
            ident = self.hash_first_degree(related)
        data = position + (predicate if position != "g" else "") + ident
        return _sha256_hex(data)

    def hash_n_degree(self, node: str, issuer: _Issuer) -> tuple[str, _Issuer]:
        if self.remaining_deep_iterations <= 0:
            # Same guard (and default budget) as rdf-canonize: "poison" graphs cost exponential time.
            raise JsonLdError(
                "the document's blank nodes are too ambiguous to canonicalise", code="canonicalization_too_complex"
            )
        self.remaining_deep_iterations -= 1
        related_by_hash: dict[str, list[str]] = {}
        for s, p, o, g in self.bnode_quads[node]:
            for term, position in ((s, "s"), (o, "o"), (g, "g")):
                if term.startswith("_:") and term != node:
                    digest = self.hash_related(term, p, issuer, position)
                    related_by_hash.setdefault(digest, []).append(term)
        data = []
        for digest in sorted(related_by_hash):
            data.append(digest)
            chosen_path = ""
            chosen_issuer: _Issuer | None = None
            for permutation in _permutations(related_by_hash[digest]):
                issuer_copy = issuer.copy()
                path = ""
                recursion: list[str] = []
                skip = False
                for related in permutation:
                    if related in self.canonical.issued:
                        path += self.canonical.issued[related]
                    else:
                        if related not in issuer_copy.issued:
                            recursion.append(related)
                        path += issuer_copy.issue(related)
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion:
                    result_hash, result_issuer = self.hash_n_degree(related, issuer_copy)
                    path += issuer_copy.issue(related) + "<" + result_hash + ">"
                    issuer_copy = result_issuer
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path, chosen_issuer = path, issuer_copy
            data.append(chosen_path)
            assert chosen_issuer is not None
            issuer = chosen_issuer
        return _sha256_hex("".join(data)), issuer

    def run(self) -> str:
        by_hash: dict[str, list[str]] = {}
        for node in self.bnode_quads:
            by_hash.setdefault(self.hash_first_degree(node), []).append(node)
        non_unique: list[list[str]] = []
        for digest in sorted(by_hash):
            nodes = by_hash[digest]
            if len(nodes) == 1:
                self.canonical.issue(nodes[0])
            else:
                non_unique.append(nodes)
        self.remaining_deep_iterations = sum(len(nodes) for nodes in non_unique) ** self.max_work_factor
        for nodes in non_unique:
            results: list[tuple[str, _Issuer]] = []
            for node in nodes:
                if node in self.canonical.issued:
                    continue
                temporary = _Issuer("_:b")
                temporary.issue(node)
                results.append(self.hash_n_degree(node, temporary))
            results.sort(key=lambda item: item[0])
            for _, issuer in results:
                for existing in issuer.issued:
                    self.canonical.issue(existing)
        issued = self.canonical.issued
        lines = [
            _line(
                issued[s] if s.startswith("_:") else s,
                p,
                issued[o] if o.startswith("_:") else o,
                issued[g] if g.startswith("_:") else g,
            )
            for s, p, o, g in self.quads
        ]
        return "".join(_sorted(lines, self.code_point_order))


def canonicalize_quads(quads: list[Quad], *, code_point_order: bool = False, max_work_factor: int = 1) -> str:
    """Return the canonical N-Quads (RDFC-1.0, SHA-256) of serialised-term quads.

    ``max_work_factor`` bounds the N-Degree hashing work like ``rdf-canonize`` does (at most
    ``n ** max_work_factor`` runs for ``n`` blank nodes with colliding first-degree hashes; the
    default 1 is rdf-canonize's default); beyond it :class:`JsonLdError`
    (``canonicalization_too_complex``) is raised.

    ``code_point_order=False`` sorts like the JavaScript ``rdf-canonize`` (UTF-16 code units);
    ``True`` sorts in Unicode code point order as RDFC-1.0 words it.  They differ only for
    supplementary-plane characters compared with U+E000–U+FFFF.
    """
    return _Canonicalizer(quads, code_point_order, max_work_factor).run()
