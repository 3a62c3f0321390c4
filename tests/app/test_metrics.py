"""/metrics: Prometheus text, routes by template, pool gauges, and who may scrape."""

import uuid

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from ocpo_coord.app import create_app
from ocpo_coord.config import get_settings
from ocpo_coord.metrics import DECONFLICTION_EVENTS, HANDOVER_EVENTS
from tests.conftest import auth


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def _value(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for found, v in samples.get(name, []) if all(found.get(k) == w for k, w in labels.items()))


async def test_a_request_is_counted_by_route_template(client: httpx.AsyncClient) -> None:
    route = "/api/v1/cases/{case_id}"
    before = _samples((await client.get("/metrics")).text)
    missing = uuid.uuid4()
    response = await client.get(f"/api/v1/cases/{missing}", headers=auth("unmik.analyst"))
    assert response.status_code == 404
    scrape = await client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    after = _samples(scrape.text)
    counted = _value(after, "ocpo_http_requests_total", method="GET", route=route, status="404")
    assert counted == _value(before, "ocpo_http_requests_total", method="GET", route=route, status="404") + 1
    assert _value(after, "ocpo_http_request_duration_seconds_count", method="GET", route=route) >= 1
    # The raw path (with its id) never becomes a label.
    assert str(missing) not in scrape.text
    # The pool of this application's database is reported.
    assert "ocpo_db_pool_checkedout" in after


async def test_domain_counters_are_exposed(client: httpx.AsyncClient) -> None:
    HANDOVER_EVENTS.labels("completed").inc()
    DECONFLICTION_EVENTS.labels("operation").inc()
    samples = _samples((await client.get("/metrics")).text)
    assert _value(samples, "ocpo_handover_events_total", event="completed") >= 1
    assert _value(samples, "ocpo_deconfliction_events_total", kind="operation") >= 1


async def _scrape(app: FastAPI, client_host: str, headers: dict[str, str] | None = None) -> int:
    transport = httpx.ASGITransport(app=app, client=(client_host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://ocpo.test") as http:
        return (await http.get("/metrics", headers=headers or {})).status_code


async def test_only_loopback_scrapes_without_a_token(app: FastAPI) -> None:
    assert await _scrape(app, "127.0.0.1") == 200
    assert await _scrape(app, "10.0.0.7") == 404


async def test_with_a_token_only_its_bearer_scrapes(db_url: str) -> None:
    settings = get_settings().model_copy(update={"metrics_token": "s3cret-scrape"})
    application = create_app(database_url=db_url, settings=settings)
    try:
        assert await _scrape(application, "10.0.0.7", {"Authorization": "Bearer s3cret-scrape"}) == 200
        assert await _scrape(application, "10.0.0.7", {"Authorization": "Bearer wrong"}) == 404
        assert await _scrape(application, "127.0.0.1") == 404
    finally:
        await application.state.sessionmaker.kw["bind"].dispose()
