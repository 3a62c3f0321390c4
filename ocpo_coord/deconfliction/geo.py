"""Overlap in space and time, as pure functions.

Two operations collide when their circles meet (great-circle distance between the
centres at most the sum of the radii) and their windows intersect. Touching counts
in both: circles that touch, or a window ending at the minute another starts, put two
teams on the same ground at the same moment, which is what deconfliction is for.
"""

import math
from datetime import datetime

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def places_overlap(
    a: tuple[float, float, float], b: tuple[float, float, float], *, tolerance_m: float = 1e-6
) -> bool:
    """``a`` and ``b`` are (latitude, longitude, radius in metres)."""
    return haversine_m(a[0], a[1], b[0], b[1]) <= a[2] + b[2] + tolerance_m


def windows_overlap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    """Closed windows: sharing a single instant is an overlap."""
    return a[0] <= b[1] and b[0] <= a[1]
