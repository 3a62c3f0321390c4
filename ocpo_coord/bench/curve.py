"""The load curve: one REST page asked by 1, 8, 32, 64 clients at once, each asking
again as soon as answered (when refused, after the ``Retry-After`` it was given).
Throughput, latency (p50, p99) and the requests the service refused as over capacity
(503), per number of clients: past the service's limit on requests in flight, the
excess is refused at once instead of queueing."""

import asyncio
import statistics
import time
from typing import Any

import httpx

CLIENTS = (1, 8, 32, 64)
PAGE = "/api/v1/intel-items"


async def _point(base: str, token: str, clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    refused = 0
    failed = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60, limits=limits
    ) as http:
        deadline = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal refused, failed
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await http.get(PAGE, params={"limit": 50})
                if response.status_code == 200:
                    latencies.append(time.perf_counter() - started)
                elif response.status_code == 503:
                    # As a well-behaved client does: it comes back when it was told to.
                    refused += 1
                    await asyncio.sleep(min(float(response.headers.get("retry-after", "1")), 5.0))
                else:
                    failed += 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]
    return {
        "clients": clients,
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "answered": len(latencies),
        "refused": refused,
        "failed": failed,
    }


def curve(
    base: str, token: str, *, seconds: float, clients: tuple[int, ...] = CLIENTS
) -> list[dict[str, Any]]:
    return [asyncio.run(_point(base, token, n, seconds)) for n in clients]


def lines(points: list[dict[str, Any]]) -> list[str]:
    out = [
        f"{'load curve (REST page)':<24}{'pages/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'refused':>9}{'failed':>8}"
    ]
    for p in points:
        out.append(
            f"{str(p['clients']) + ' clients':<24}{p['per_second']:>9.1f}{p['p50_ms']:>9.1f}"
            f"{p['p99_ms']:>9.1f}{p['refused']:>9}{p['failed']:>8}"
        )
    return out
