"""How busy the machine's processors were while something ran (Linux ``/proc/stat``).

A throughput that stops growing with clients is either waiting (a lock, a queue) or
out of processors. The bench runs the service, the database and its own clients on
one machine, so it reports the processors in use beside each concurrent run: a run
that keeps every core busy has reached the machine, not a lock.
"""

import os
from pathlib import Path
from types import TracebackType

_STAT = Path("/proc/stat")


def _busy_and_total() -> tuple[int, int] | None:
    try:
        first = _STAT.read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if first[0] != "cpu":
        return None
    ticks = [int(value) for value in first[1:]]
    # user nice system idle iowait irq softirq steal ...: idle and iowait are not work.
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return sum(ticks) - idle, sum(ticks)


class BusyCores:
    """``with BusyCores() as cpu: ...``; then ``cpu.cores`` is the average number of
    cores at work meanwhile (None where ``/proc/stat`` is not there)."""

    def __init__(self) -> None:
        self.cores: float | None = None
        self.available = os.cpu_count() or 1
        self._start: tuple[int, int] | None = None

    def __enter__(self) -> "BusyCores":
        self._start = _busy_and_total()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        end = _busy_and_total()
        if self._start is None or end is None or end[1] == self._start[1]:
            return
        busy, total = end[0] - self._start[0], end[1] - self._start[1]
        self.cores = self.available * busy / total
