"""Handling markings and Admiralty grading, to STIX 2.1 and back.

TLP travels as the official TLP 2.0 marking definitions (the OASIS extension with its
fixed ids); stix2 ships only the TLP 1.0 ones. Classification and caveats, which STIX
has no vocabulary for, travel as one statement marking such as
``CONFIDENTIAL//ORCON//NOHOST``. Reading markings back always resolves doubt towards
the narrower release: the most restrictive TLP wins, a caveat named anywhere holds.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import stix2

from ocpo_coord.models.enums import Classification, InformationCredibility, Tlp
from ocpo_coord.stix.ids import stable_id
from ocpo_coord.visibility.policy import tlp_rank

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
_TLP2_CREATED = "2022-10-01T00:00:00.000Z"

# The OASIS TLP 2.0 marking-definition ids (cti-stix-common-objects, tlp-2.0).
TLP2_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

# TLP 1.0 ids predefined by STIX 2.1; other systems still send them. WHITE is CLEAR.
_TLP1_IDS: dict[str, Tlp] = {
    stix2.v21.TLP_WHITE.id: Tlp.CLEAR,
    stix2.v21.TLP_GREEN.id: Tlp.GREEN,
    stix2.v21.TLP_AMBER.id: Tlp.AMBER,
    stix2.v21.TLP_RED.id: Tlp.RED,
}

_KNOWN_TLP_IDS: dict[str, Tlp] = {**{v: k for k, v in TLP2_IDS.items()}, **_TLP1_IDS}

_TLP_WORDS: dict[str, Tlp] = {
    "clear": Tlp.CLEAR,
    "white": Tlp.CLEAR,
    "green": Tlp.GREEN,
    "amber": Tlp.AMBER,
    "amber+strict": Tlp.AMBER_STRICT,
    "red": Tlp.RED,
}


def tlp_marking(tlp: Tlp) -> stix2.v21.MarkingDefinition:
    """The official TLP 2.0 marking definition, exactly as OASIS publishes it."""
    return stix2.v21.MarkingDefinition(
        id=TLP2_IDS[tlp],
        created=_TLP2_CREATED,
        name=f"TLP:{tlp.value}",
        extensions={TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp.value.lower()}},
    )


def statement_text(classification: Classification, *, orcon: bool, nohost: bool) -> str:
    """``CONFIDENTIAL//ORCON//NOHOST``: the banner line of a printed document."""
    parts = [Classification(classification).name]
    if orcon:
        parts.append("ORCON")
    if nohost:
        parts.append("NOHOST")
    return "//".join(parts)


def statement_marking(text: str, created_by_ref: str) -> stix2.v21.MarkingDefinition:
    # The same statement always gets the same id, so re-exports deduplicate downstream.
    return stix2.v21.MarkingDefinition(
        id=stable_id("marking-definition", f"statement:{text}"),
        created="2008-01-01T00:00:00.000Z",
        created_by_ref=created_by_ref,
        name=text,
        definition_type="statement",
        definition=stix2.v21.StatementMarking(statement=text),
    )


@dataclass(frozen=True, slots=True)
class ReadMarkings:
    """Markings read from a STIX object; ``None`` where the bundle said nothing."""

    tlp: Tlp | None
    classification: Classification | None
    orcon: bool
    nohost: bool
    unknown_refs: tuple[str, ...]
    # Above anything held here (TOP SECRET, COSMIC): such material is never imported.
    beyond: bool = False


_WORD = re.compile(r"[A-Z+]+")


def _tlp_of_definition(definition: Mapping[str, Any]) -> Tlp | None:
    for extension in (definition.get("extensions") or {}).values():
        if isinstance(extension, Mapping) and isinstance(extension.get("tlp_2_0"), str):
            return _TLP_WORDS.get(extension["tlp_2_0"].strip().lower())
    if definition.get("definition_type") == "tlp":
        value = (definition.get("definition") or {}).get("tlp")
        return _TLP_WORDS.get(str(value).strip().lower()) if value else None
    return None


def _statement_of_definition(definition: Mapping[str, Any]) -> str | None:
    if definition.get("definition_type") == "statement":
        value = (definition.get("definition") or {}).get("statement")
        return str(value) if value else None
    return None


def read_markings(refs: Iterable[str], definitions: Mapping[str, Mapping[str, Any]]) -> ReadMarkings:
    """Resolve ``object_marking_refs`` against the known TLP ids and the bundle's definitions."""
    tlps: list[Tlp] = []
    classifications: list[Classification] = []
    orcon = nohost = beyond = False
    unknown: list[str] = []
    for ref in refs:
        if ref in _KNOWN_TLP_IDS:
            tlps.append(_KNOWN_TLP_IDS[ref])
            continue
        definition = definitions.get(ref)
        if definition is None:
            unknown.append(ref)
            continue
        tlp = _tlp_of_definition(definition)
        statement = _statement_of_definition(definition)
        if tlp is not None:
            tlps.append(tlp)
        elif statement is not None:
            upper = " ".join(_WORD.findall(statement.upper()))
            words = set(upper.split())
            classifications += [c for c in Classification if c.name in words]
            # UN "strictly confidential" sits above confidential: held as SECRET.
            if "STRICTLY CONFIDENTIAL" in upper:
                classifications.append(Classification.SECRET)
            beyond = beyond or "TOP SECRET" in upper or "COSMIC" in words
            orcon = orcon or "ORCON" in words
            nohost = nohost or "NOHOST" in words
        else:
            unknown.append(ref)
    return ReadMarkings(
        tlp=max(tlps, key=tlp_rank) if tlps else None,
        classification=max(classifications) if classifications else None,
        orcon=orcon,
        nohost=nohost,
        unknown_refs=tuple(unknown),
        beyond=beyond,
    )


# STIX 2.1 Appendix A, "Admiralty Credibility": 6 (cannot be judged) has no value.
_CREDIBILITY_TO_CONFIDENCE: dict[InformationCredibility, int] = {
    InformationCredibility.CONFIRMED: 90,
    InformationCredibility.PROBABLY_TRUE: 70,
    InformationCredibility.POSSIBLY_TRUE: 50,
    InformationCredibility.DOUBTFUL: 30,
    InformationCredibility.IMPROBABLE: 10,
}


def confidence_of(credibility: InformationCredibility) -> int | None:
    return _CREDIBILITY_TO_CONFIDENCE.get(InformationCredibility(credibility))


def credibility_of(confidence: int | None) -> InformationCredibility:
    """The Appendix A ranges back to a credibility; absent means "cannot be judged"."""
    if confidence is None:
        return InformationCredibility.CANNOT_BE_JUDGED
    for floor, value in (
        (80, InformationCredibility.CONFIRMED),
        (60, InformationCredibility.PROBABLY_TRUE),
        (40, InformationCredibility.POSSIBLY_TRUE),
        (20, InformationCredibility.DOUBTFUL),
    ):
        if confidence >= floor:
            return value
    return InformationCredibility.IMPROBABLE
