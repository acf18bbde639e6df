"""The machine-readable document of a competency, served at its URL when asked for JSON-LD or JSON.

A schema.org ``DefinedTerm`` in a ``DefinedTermSet`` (the framework), because that is what a competency
of a framework is in the vocabulary every consumer already knows, plus two terms schema.org lacks, taken
from the vocabularies that define them:

* ``broader`` (``skos:broader``, an IRI): the URL of the competency above it, as ESCO itself links its skills;
* ``deprecated`` (``owl:deprecated``, a boolean): true once the competency is archived. The URL keeps
  answering, since signed credentials point to it.

``sameAs`` lists the ESCO URI, the CASE item URI and the other link; an RNCP or RS code is an
``identifier`` (``PropertyValue`` with ``propertyID`` ``RNCP`` or ``RS``). Example::

    {"@context": ["https://schema.org", {"skos": …, "owl": …, "broader": …, "deprecated": …}],
     "@type": "DefinedTerm", "@id": "https://…/competencies/evry/CIT.1", "url": "https://…/competencies/evry/CIT.1",
     "termCode": "CIT.1", "name": "Prendre la parole", "description": "…",
     "inDefinedTermSet": {"@type": "DefinedTermSet", "@id": "https://…/competencies/evry", "name": "…"},
     "broader": "https://…/competencies/evry/CIT", "sameAs": ["http://data.europa.eu/esco/skill/…"],
     "identifier": [{"@type": "PropertyValue", "propertyID": "RNCP", "value": "RNCP34567"}],
     "deprecated": false}

The framework's URL answers with a ``DefinedTermSet`` listing its active competencies (``hasDefinedTerm``,
each with its ``@id``, ``termCode``, ``name`` and ``broader``).

No consumer needs to fetch the context: the terms are plain JSON too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from badgehub.competencies.models import Competency, CompetencyFramework
from badgehub.competencies.service import competency_url, framework_url
from badgehub.territory.models import Territory

CONTEXT: Final[list[Any]] = [
    "https://schema.org",
    {
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "owl": "http://www.w3.org/2002/07/owl#",
        "broader": {"@id": "skos:broader", "@type": "@id"},
        "deprecated": {"@id": "owl:deprecated", "@type": "http://www.w3.org/2001/XMLSchema#boolean"},
    },
]


def competency_document(competency: Competency, config: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-LD document of ``competency`` (see the module documentation); empty values are left out.
    ``config`` is the app's (``BASE_URL``)."""
    url = competency_url(competency, config)
    framework = competency.framework
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "DefinedTerm",
        "@id": url,
        "url": url,
        "termCode": competency.code,
        "name": competency.name,
    }
    if competency.description:
        document["description"] = competency.description
    document["inDefinedTermSet"] = {"@type": "DefinedTermSet", "@id": framework_url(framework.territory, config),
                                    "name": framework.name}
    if competency.parent is not None:
        document["broader"] = competency_url(competency.parent, config)
    same_as = [value for value in (competency.esco_uri, competency.case_item_uri, competency.other_url) if value]
    if same_as:
        document["sameAs"] = same_as
    if competency.rncp_code:
        kind = "RNCP" if competency.rncp_code.startswith("RNCP") else "RS"
        document["identifier"] = [{"@type": "PropertyValue", "propertyID": kind, "value": competency.rncp_code}]
    document["deprecated"] = competency.archived_at is not None
    return document


def framework_document(territory: Territory, framework: CompetencyFramework | None,
                       competencies: list[Competency], config: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-LD ``DefinedTermSet`` of a territory's framework with its active ``competencies`` (in order)."""
    terms = []
    for competency in competencies:
        term: dict[str, Any] = {"@type": "DefinedTerm", "@id": competency_url(competency, config),
                                "termCode": competency.code, "name": competency.name}
        if competency.parent is not None:
            term["broader"] = competency_url(competency.parent, config)
        terms.append(term)
    document: dict[str, Any] = {"@context": CONTEXT, "@type": "DefinedTermSet", "@id": framework_url(territory, config),
                                "url": framework_url(territory, config),
                                "name": framework.name if framework is not None else territory.name}
    if framework is not None and framework.description:
        document["description"] = framework.description
    document["hasDefinedTerm"] = terms
    return document


def france_competences_url(rncp_code: str) -> str:
    """The page of an RNCP or RS certification on France Compétences' public register."""
    kind = "rncp" if rncp_code.startswith("RNCP") else "rs"
    return f"https://www.francecompetences.fr/recherche/{kind}/{rncp_code.removeprefix('RNCP').removeprefix('RS')}/"
