"""The service settles the garbage collector when it starts (``ocpo_coord/heap.py``):
what exists by then is frozen out of the collector's walks, and young garbage is
collected every few pages rather than several times a page. Counted, not timed."""

import gc
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ocpo_coord.heap import YOUNG_THRESHOLD
from tests.conftest import auth

PAGES = 20


@pytest.fixture
def collector() -> Iterator[list[int]]:
    """The generations of the collections made while the test runs; the process's
    own settings come back afterwards."""
    thresholds = gc.get_threshold()
    frozen = gc.get_freeze_count()
    made: list[int] = []

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            made.append(info["generation"])

    gc.callbacks.append(note)
    try:
        yield made
    finally:
        gc.callbacks.remove(note)
        gc.set_threshold(*thresholds)
        if not frozen:
            gc.unfreeze()


async def _pages(client: httpx.AsyncClient) -> None:
    for _ in range(PAGES):
        response = await client.get("/api/v1/intel-items?limit=50", headers=auth("unmik.analyst"))
        assert response.status_code == 200, response.text


async def test_a_started_service_collects_every_few_pages_not_every_page(
    app: FastAPI, client: httpx.AsyncClient, collector: list[int]
) -> None:
    gc.set_threshold(700, 10, 10)  # CPython's defaults, as a process starts
    await _pages(client)
    unsettled = len(collector)
    # A page's garbage sets off more than one collection with the defaults.
    assert unsettled > PAGES

    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 10_000  # the mappings, schemas and routes
        assert gc.get_threshold()[0] >= YOUNG_THRESHOLD
        collector.clear()  # the collection that settling made
        await _pages(client)
    assert len(collector) < PAGES / 2, (unsettled, collector)
    assert 2 not in collector  # no full collection walked the process


async def test_cyclic_garbage_is_still_collected_once_settled(app: FastAPI, collector: list[int]) -> None:
    class Node:
        other: Any = None

    async with app.router.lifespan_context(app):
        for _ in range(YOUNG_THRESHOLD):
            a, b = Node(), Node()
            a.other, b.other = b, a  # a cycle: only the collector frees it
        assert collector, "no collection ran over 20,000 cyclic objects"
