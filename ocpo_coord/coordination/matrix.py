"""Overlaps and gaps, as pure functions over responsibilities (tested without a database)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import combinations

from ocpo_coord.models import Responsibility
from ocpo_coord.models.enums import ActivityArea, ResponsibilityRole


def active_on(responsibility: Responsibility, day: date) -> bool:
    return responsibility.valid_from <= day and (
        responsibility.valid_until is None or responsibility.valid_until >= day
    )


def regions_meet(a: str, b: str) -> bool:
    """A theatre-wide entry (empty region) covers every region of the theatre."""
    return a == b or a == "" or b == ""


def period_overlap(a: Responsibility, b: Responsibility) -> tuple[date, date | None] | None:
    """The shared days of two periods, both ends inclusive; None if they share none."""
    start = max(a.valid_from, b.valid_from)
    ends = [d for d in (a.valid_until, b.valid_until) if d is not None]
    end = min(ends) if ends else None
    if end is not None and end < start:
        return None
    return start, end


@dataclass(frozen=True, slots=True)
class LeadOverlap:
    first: Responsibility
    second: Responsibility
    start: date
    end: date | None

    @property
    def region(self) -> str:
        return self.first.region or self.second.region


def overlaps(responsibilities: Sequence[Responsibility]) -> list[LeadOverlap]:
    """Pairs of leads of different agencies for one area, in meeting regions, at once."""
    leads = [r for r in responsibilities if r.role == ResponsibilityRole.LEAD]
    found = []
    for a, b in combinations(sorted(leads, key=lambda r: (r.activity_area, r.valid_from, str(r.id))), 2):
        if a.activity_area != b.activity_area or a.agency_id == b.agency_id:
            continue
        if a.theatre_id != b.theatre_id or not regions_meet(a.region, b.region):
            continue
        shared = period_overlap(a, b)
        if shared is not None:
            found.append(LeadOverlap(a, b, shared[0], shared[1]))
    return found


@dataclass(frozen=True, slots=True)
class AreaGap:
    area: ActivityArea
    regional_leads: list[Responsibility]


def gaps(responsibilities: Sequence[Responsibility], day: date, region: str | None = None) -> list[AreaGap]:
    """Activity areas with no lead on ``day`` for the whole theatre (or for ``region``).

    Leads for single regions do not close a theatre-wide gap; they are listed with it.
    """
    result = []
    for area in ActivityArea:
        leads = [
            r
            for r in responsibilities
            if r.activity_area == area and r.role == ResponsibilityRole.LEAD and active_on(r, day)
        ]
        if not any(r.region == "" or (region is not None and r.region == region) for r in leads):
            result.append(AreaGap(area, [r for r in leads if r.region]))
    return result
