"""Reading a STIX bundle's objects for import: their form, markings, originator, theatre.

Markings are honoured and never widened: the most restrictive TLP named wins, an
unreadable marking makes the object TLP:RED for the importer alone, no TLP at all makes
it AMBER+STRICT (the importing agency only), no classification makes it the importer's
own clearance, and AMBER from another originator is held AMBER+STRICT (the new owner's
sharing agreements would otherwise reach it). What the importer may not hold (above
its clearance; NOHOST for a host-nation agency; ORCON of an originator unknown here)
refuses the whole bundle, naming the object.
"""

import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

import stix2
import stix2.exceptions

from ocpo_coord.context import Actor
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.models.enums import Classification, Tlp
from ocpo_coord.records.schemas import MarkingsInput
from ocpo_coord.stix.ids import OCPO_EXTENSION
from ocpo_coord.stix.markings import read_markings
from ocpo_coord.visibility.policy import tlp_rank

# A bundle is read whole before anything is written: this bounds its memory.
MAX_OBJECTS = 20_000
E = TypeVar("E", bound=Enum)
D = TypeVar("D")


@dataclass(frozen=True, slots=True)
class Handling:
    markings: MarkingsInput
    originator_code: str | None


def bundle_objects(bundle: Any) -> list[dict[str, Any]]:
    """The bundle's objects, each checked by the stix2 library; the first bad one is named."""
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle":
        raise InvalidInput('is not a STIX bundle: expected an object with "type": "bundle"', field="type")
    objects = bundle.get("objects")
    if not isinstance(objects, list) or not objects:
        raise InvalidInput("a STIX bundle needs a non-empty list of objects", field="objects")
    if len(objects) > MAX_OBJECTS:
        raise InvalidInput(f"at most {MAX_OBJECTS} objects per bundle", field="objects")
    for index, obj in enumerate(objects):
        if (
            not isinstance(obj, dict)
            or not isinstance(obj.get("id"), str)
            or not isinstance(obj.get("type"), str)
        ):
            raise InvalidInput("every object needs a type and an id", field=f"objects.{index}")
        if obj.get("spec_version", "2.1") != "2.1" and obj["type"] != "marking-definition":
            raise InvalidInput(
                f"{obj['id']}: only STIX 2.1 is read (spec_version {obj.get('spec_version')!r})",
                field=f"objects.{index}.spec_version",
            )
        try:
            # The library checks types, required properties and references' forms.
            stix2.parse(obj, allow_custom=True, version="2.1")
        except (stix2.exceptions.STIXError, ValueError, TypeError) as exc:
            raise InvalidInput(f"{obj['id']}: {exc}", field=f"objects.{index}") from exc
    return objects


def ocpo(obj: dict[str, Any]) -> dict[str, Any]:
    extension = (obj.get("extensions") or {}).get(OCPO_EXTENSION)
    return extension if isinstance(extension, dict) else {}


def enum_or(enum: type[E], value: Any, default: D) -> E | D:
    try:
        return enum(value)
    except ValueError:
        return default


def _markings(
    index: int,
    obj: dict[str, Any],
    ext: dict[str, Any],
    definitions: dict[str, dict[str, Any]],
    actor: Actor,
) -> MarkingsInput:
    """The narrowest reading of everything the object says about its handling."""
    read = read_markings(obj.get("object_marking_refs") or [], definitions)
    if read.beyond:
        raise InvalidInput(
            f"{obj['id']} is marked above any classification held here", field=f"objects.{index}"
        )
    tlps = [t for t in (read.tlp, enum_or(Tlp, ext.get("tlp"), None)) if t is not None]
    if read.unknown_refs:
        tlps.append(Tlp.RED)
    tlp = max(tlps, key=tlp_rank) if tlps else Tlp.AMBER_STRICT
    named = (read.classification, Classification.__members__.get(str(ext.get("classification"))))
    # Not "if c": UNCLASSIFIED is 0.
    levels = [c for c in named if c is not None]
    classification = max(levels) if levels else actor.principal.clearance
    return MarkingsInput(
        classification=classification,
        tlp=tlp,
        orcon=read.orcon or ext.get("orcon") is True,
        nohost=read.nohost or ext.get("nohost") is True,
    )


def theatre_code(ext: dict[str, Any], known: dict[str, uuid.UUID], default: str | None, *, index: int) -> str:
    """The object's own theatre when known here (``known``: code -> id), else the
    caller's, else the agency's only one (``default``)."""
    code = ext.get("theatre")
    if isinstance(code, str) and code.upper() in known:
        return code
    if default:
        return default
    raise InvalidInput(
        f"the bundle names no theatre known here (object {index}): give ?theatre=CODE", field="theatre"
    )


def _originator(
    obj: dict[str, Any], ext: dict[str, Any], identities: dict[str, dict[str, Any]]
) -> str | None:
    """The originating agency's code: from this product's extension, else from the
    author identity's agency code (an ocpo-coord export names it there)."""
    code = ext.get("originator_agency")
    if not isinstance(code, str):
        author = identities.get(str(obj.get("created_by_ref")), {})
        code = ocpo(author).get("agency_code")
    return code.upper() if isinstance(code, str) and code else None


def source_name(objects: list[dict[str, Any]], given: str | None) -> str:
    if given:
        return given[:200]
    for obj in objects:
        installation = ocpo(obj).get("installation")
        if isinstance(installation, str) and installation:
            return installation[:200]
    systems = [
        o.get("name") for o in objects if o["type"] == "identity" and o.get("identity_class") == "system"
    ]
    return str(systems[0])[:200] if systems and systems[0] else "unnamed STIX source"


def handling(
    index: int,
    obj: dict[str, Any],
    definitions: dict[str, dict[str, Any]],
    identities: dict[str, dict[str, Any]],
    actor: Actor,
) -> Handling:
    """The markings the importer will hold the object under, and its originator."""
    ext = ocpo(obj)
    marked = _markings(index, obj, ext, definitions, actor)
    origin = _originator(obj, ext, identities)
    # The importer becomes the owner, and an owner's sharing agreements reach AMBER
    # material: received AMBER from another originator, it is held AMBER+STRICT.
    if marked.tlp is Tlp.AMBER and origin != actor.principal.agency_code:
        marked = marked.model_copy(update={"tlp": Tlp.AMBER_STRICT})
    if marked.classification > actor.principal.clearance:
        raise InvalidInput(
            f"{obj['id']} is {marked.classification.name}, above your clearance", field=f"objects.{index}"
        )
    if marked.nohost and actor.principal.host_nation:
        raise InvalidInput(
            f"{obj['id']} is NOHOST: a host-nation agency may not hold it", field=f"objects.{index}"
        )
    return Handling(marked, origin)


def check_orcon(index: int, stix_id: str, held: Handling, importer_code: str, known: set[str]) -> None:
    """ORCON stays under its originator's control: the originator must be known here
    (or be the importer), else the importer would become the originator and could widen."""
    origin = held.originator_code
    if held.markings.orcon and (origin is None or (origin != importer_code and origin not in known)):
        raise InvalidInput(
            f"{stix_id} is ORCON and its originator {origin or '(unnamed)'} is not an agency known here: "
            "its release could not stay under the originator's control",
            field=f"objects.{index}",
        )
