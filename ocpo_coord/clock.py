"""The service's one clock: the real time, or in development the demo's day.

The demo tells a 2007-2009 story. With ``OCPO_DEMO_TODAY`` set (refused in production),
every instant the service takes (a request's ``now``, record timestamps, overdue flags,
tours, the matrix's default day) falls on that day, the time of day running on as usual.
"""

from datetime import UTC, date, datetime, timedelta

_offset: timedelta | None = None


def now() -> datetime:
    """This instant, as the installation counts time."""
    offset = _offset if _offset is not None else _configured()
    return datetime.now(UTC) + offset


def today() -> date:
    return now().date()


def use(day: date | None) -> None:
    """Stand the clock on ``day`` (whole days from today), or on the real time with None."""
    global _offset
    _offset = timedelta(0) if day is None else timedelta(days=(day - datetime.now(UTC).date()).days)


def _configured() -> timedelta:
    # Read once, on first use, from the installation's settings.
    from ocpo_coord.config import get_settings

    use(get_settings().demo_today)
    assert _offset is not None
    return _offset
