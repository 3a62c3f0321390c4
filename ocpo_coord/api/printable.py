"""Printable pages (handover report, case file): their markings and their stylesheet.

A printed page carries, top and bottom, the highest classification, the narrowest TLP
and every caveat of what it shows, and each record's own short marking beside it, as
marked documents are printed in the agencies that use them.

The API's own policy forbids every style, so each page sends a policy admitting exactly
its stylesheet, by hash, and nothing else: no script, no other source, no framing.
"""

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from ocpo_coord.models.enums import Classification, Tlp
from ocpo_coord.visibility.policy import tlp_rank


@dataclass(frozen=True, slots=True)
class Marking:
    """What a printed page says of one record's handling."""

    classification: Classification
    tlp: Tlp
    orcon: bool
    nohost: bool
    restricted: bool

    @property
    def portion(self) -> str:
        """The short marking printed before each portion, e.g. (C AMBER ORCON)."""
        parts = [self.classification.name[0], self.tlp.value]
        parts += [c for c, on in (("ORCON", self.orcon), ("NOHOST", self.nohost)) if on]
        return f"({' '.join(parts)})"


@dataclass(frozen=True, slots=True)
class Banner:
    classification: str
    tlp: str
    caveats: list[str]

    @property
    def text(self) -> str:
        return " // ".join([self.classification, f"TLP:{self.tlp}", *self.caveats])


def banner(markings: Iterable[Marking]) -> Banner:
    """The page's overall marking: the highest of everything it shows."""
    shown = list(markings)
    classification = max((m.classification for m in shown), default=Classification.UNCLASSIFIED)
    tlp = max((m.tlp for m in shown), key=tlp_rank, default=Tlp.CLEAR)
    caveats = [
        name
        for name, present in (
            ("ORCON", any(m.orcon for m in shown)),
            ("NOHOST", any(m.nohost for m in shown)),
            ("RESTRICTED CASE", any(m.restricted for m in shown)),
        )
        if present
    ]
    return Banner(classification.name, tlp.value, caveats)


def style_only_csp(style: str) -> str:
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode()
    return (
        "default-src 'none'; "
        f"style-src 'sha256-{digest}'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
