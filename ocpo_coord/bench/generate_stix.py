"""A partner's STIX 2.1 bundle for the intake benchmark and the bulk-import tests.

Reports arrive with what they refer to, as a partner's fusion cell sends them: a
person (an identity with a name and a phone number), an indicator on an e-mail
address and an observed account reached by a phone number, each carrying its
selectors in this product's extension. Markings vary over the TLP levels and the
classifications a SECRET importer may hold, one statement marking shared by many
objects. Some selectors are numbers other agencies hold already (``shared``), so that
the import raises deconfliction hits.

Ids are derived from ``seed`` and the object's place: the same call gives the same
bundle, which is what makes a re-import recognisable.
"""

import random
from typing import Any

from ocpo_coord.models.enums import Tlp
from ocpo_coord.stix.ids import OCPO_EXTENSION, stable_id
from ocpo_coord.stix.markings import TLP2_IDS

STAMP = "2026-03-01T08:00:00.000Z"
# A report and the three objects it refers to.
GROUP = 4
_TLPS = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT)
_CLASSIFICATIONS = ("UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL")
_FIRST = ("Arben", "Milan", "Dragan", "Besnik", "Ilir", "Nikola", "Valon", "Jovan", "Agron", "Luan")
_LAST = ("Krasniqi", "Jovanovic", "Gashi", "Petrovic", "Berisha", "Hoxha", "Nikolic", "Shala")


def _ext(**fields: Any) -> dict[str, Any]:
    return {OCPO_EXTENSION: {"extension_type": "property-extension", **fields}}


def stix_bundle(
    objects: int, *, seed: str = "bench", shared: list[str] | None = None, theatre: str | None = None
) -> dict[str, Any]:
    """About ``objects`` objects (whole groups of a report and its three, after a system
    identity and a statement marking); every tenth phone is one of ``shared``."""
    rng = random.Random(seed)
    pool = list(shared or [])

    def sid(kind: str, n: int, part: str) -> str:
        return stable_id(kind, f"{seed}:{part}:{n}")

    system = {
        "type": "identity",
        "spec_version": "2.1",
        "id": sid("identity", 0, "system"),
        "created": STAMP,
        "modified": STAMP,
        "name": "Partner fusion cell",
        "identity_class": "system",
    }
    statement = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": sid("marking-definition", 0, "statement"),
        "created": STAMP,
        "definition_type": "statement",
        "definition": {"statement": "RESTRICTED"},
    }
    out: list[dict[str, Any]] = [system, statement]
    for n in range(max(1, (objects - len(out)) // GROUP)):
        tlp = _TLPS[n % len(_TLPS)]
        classification = _CLASSIFICATIONS[n % len(_CLASSIFICATIONS)]
        marks = [TLP2_IDS[tlp]] + ([statement["id"]] if n % 5 == 0 else [])
        common = {"spec_version": "2.1", "created": STAMP, "modified": STAMP, "object_marking_refs": marks}
        where = _ext(classification=classification, **({"theatre": theatre} if theatre else {}))
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        phone = pool[n // 10 % len(pool)] if pool and n % 10 == 0 else f"+383 44 {n:07d}"
        email = f"{name.split()[0].lower()}.{n}@mail.example"
        caller = f"+383 49 {n:07d}"
        person = {
            "type": "identity",
            "id": sid("identity", n, "person"),
            "name": name,
            "identity_class": "individual",
            "extensions": _ext(
                classification=classification,
                selectors=[{"kind": "name", "value": name}, {"kind": "phone", "value": phone}],
            ),
            **common,
        }
        indicator = {
            "type": "indicator",
            "id": sid("indicator", n, "indicator"),
            "name": f"Mailbox used by {name}",
            "pattern": f"[email-addr:value = '{email}']",
            "pattern_type": "stix",
            "valid_from": STAMP,
            "extensions": _ext(
                classification=classification,
                entity_kind="account",
                selectors=[{"kind": "email", "value": email}],
            ),
            **common,
        }
        account = {
            "type": "user-account",
            "id": sid("user-account", n, "account"),
            "spec_version": "2.1",
            "account_login": caller,
            "display_name": caller,
            "object_marking_refs": marks,
            "extensions": _ext(
                classification=classification,
                entity_kind="phone",
                selectors=[{"kind": "phone", "value": caller}],
            ),
        }
        report = {
            "type": "report",
            "id": sid("report", n, "report"),
            "name": f"Contact report {n}: {name}",
            "description": f"{name} was seen with a courier; calls from {caller}, mail to {email}.",
            "published": STAMP,
            "report_types": ["threat-report"],
            "confidence": 70,
            "created_by_ref": system["id"],
            "object_refs": [person["id"], indicator["id"], account["id"]],
            "extensions": where,
            **common,
        }
        out += [person, indicator, account, report]
    return {"type": "bundle", "id": stable_id("bundle", seed), "objects": out}
