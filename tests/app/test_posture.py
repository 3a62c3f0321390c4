"""Production posture: security headers, request ids, JSON logs, CORS, refusals to start."""

import base64
import hashlib
import io
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from ocpo_coord.app import create_app
from ocpo_coord.config import Environment, Settings, get_settings
from ocpo_coord.logging_setup import JsonFormatter, LogFormat, TextFormatter
from tests.conftest import auth
from tests.fixtures.queries import audit_rows
from tests.fixtures.records import NEW_CASE


@pytest.fixture
def backend() -> str:
    """What this file checks (headers, tokens, errors) does not depend on the database:
    it runs on SQLite only, and every database test elsewhere runs on both."""
    return "sqlite"


FIXED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
STRICT_CSP = "default-src 'none'; frame-ancestors 'none'"
FRESH_ID = re.compile(r"[0-9a-f]{32}")


def assert_posture(response: httpx.Response, *, stored: bool = False, csp: str | None = STRICT_CSP) -> None:
    for name, value in FIXED.items():
        assert response.headers.get(name) == value, (name, response.request.url)
    if csp is not None:
        assert response.headers["content-security-policy"] == csp
    assert "strict-transport-security" not in response.headers  # not in production
    assert response.headers.get("cache-control") == (None if stored else "no-store")
    assert response.headers.get("x-request-id")


@asynccontextmanager
async def client_with(
    db_url: str, settings: Settings, root_path: str = ""
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(database_url=db_url, settings=settings)
    transport = httpx.ASGITransport(app=app, root_path=root_path)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://ocpo.test") as http:
            yield http
    finally:
        await app.state.sessionmaker.kw["bind"].dispose()


@contextmanager
def captured_log(formatter: logging.Formatter | None = None) -> Iterator[io.StringIO]:
    """The root logger's lines while the block runs; the handler is removed afterwards."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter or JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# --- security headers ----------------------------------------------------------------


async def test_headers_on_a_rest_success(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/me", headers=auth("unmik.analyst"))
    assert response.status_code == 200
    assert_posture(response)


async def test_headers_on_rest_errors(client: httpx.AsyncClient) -> None:
    unauthenticated = await client.get("/api/v1/cases")
    no_such_route = await client.get("/api/v1/no-such-thing", headers=auth("unmik.analyst"))
    invalid = await client.post(
        "/api/v1/cases", json={**NEW_CASE, "title": ""}, headers=auth("unmik.analyst")
    )
    assert [unauthenticated.status_code, no_such_route.status_code, invalid.status_code] == [401, 404, 422]
    for response in (unauthenticated, no_such_route, invalid):
        assert_posture(response)
    # Outside /api/ and /graphql nothing is data: no no-store, the same other headers.
    outside = await client.get("/no-such-page")
    assert outside.status_code == 404
    assert_posture(outside, stored=True)


async def test_headers_on_graphql(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ me { login } }"}, headers=auth("unmik.analyst")
    )
    assert response.status_code == 200
    assert response.json()["data"]["me"]["login"] == "unmik.analyst"
    assert_posture(response)


async def test_an_unhandled_error_is_a_500_with_headers_and_a_logged_traceback(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def explode() -> None:
        raise RuntimeError("the database melted")

    app.add_api_route("/api/v1/test-explode", explode)
    with captured_log() as log:
        response = await client.get("/api/v1/test-explode", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert "melted" not in response.text
    assert_posture(response)
    assert response.headers["x-request-id"] == "boom-1"
    lines = json_lines(log)
    error = next(line for line in lines if line["level"] == "ERROR")
    assert error["request_id"] == "boom-1"
    assert "RuntimeError: the database melted" in error["exception"]
    access = next(line for line in lines if line["logger"] == "ocpo_coord.access")
    assert (access["status"], access["request_id"]) == (500, "boom-1")


async def test_hsts_only_in_production(db_url: str) -> None:
    production = get_settings().model_copy(update={"environment": Environment.PRODUCTION})
    async with client_with(db_url, production) as http:
        response = await http.get("/healthz")
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


# --- the HTML pages and their content security policies --------------------------------


class _Loads(HTMLParser):
    """What a page loads: external scripts and styles, inline scripts and styles, icons."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.images: list[str] = []
        self.inline_scripts: list[str] = []
        self.inline_styles: list[str] = []
        self._open: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "script" and found.get("src"):
            self.scripts.append(found["src"])
        elif tag == "script":
            self._open = ("script", [])
        elif tag == "style":
            self._open = ("style", [])
        elif tag == "link" and "stylesheet" in found.get("rel", ""):
            self.styles.append(found["href"])
        elif tag == "link" and "icon" in found.get("rel", ""):
            self.images.append(found["href"])

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None and tag == self._open[0]:
            kind, parts = self._open
            (self.inline_scripts if kind == "script" else self.inline_styles).append("".join(parts))
            self._open = None


def _directives(csp: str) -> dict[str, list[str]]:
    parts = [part.split() for part in csp.split(";") if part.strip()]
    return {name: values for name, *values in parts}


def _allows(csp: str, directive: str, url: str) -> bool:
    directives = _directives(csp)
    sources = directives.get(directive, directives["default-src"])
    parts = urlsplit(url)
    if parts.scheme == "data":
        return "data:" in sources
    if not parts.scheme:
        return "'self'" in sources
    return f"{parts.scheme}://{parts.netloc}" in sources


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


@pytest.mark.parametrize("path", ["/graphql", "/docs", "/redoc"])
async def test_html_pages_load_only_from_this_origin(client: httpx.AsyncClient, path: str) -> None:
    page = await client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert_posture(page, stored=path != "/graphql", csp=None)
    assert csp != STRICT_CSP
    directives = _directives(csp)
    assert directives["default-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-eval'" not in csp
    # Scripts from this origin only; styles too, but ReDoc's, which it writes at run time.
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == (["'self'", "'unsafe-inline'"] if path == "/redoc" else ["'self'"])
    assert not [src for values in directives.values() for src in values if "://" in src], csp

    loads = _Loads()
    loads.feed(page.text)
    assert loads.scripts, "the page loads no script"
    assert not loads.inline_scripts
    assert not loads.inline_styles
    for url in loads.scripts:
        assert _allows(csp, "script-src", url), url
        assert not urlsplit(url).scheme, url  # relative: this origin, under any root path
        served = await client.get("/" + url)
        assert served.status_code == 200, url
    for url in loads.styles:
        assert _allows(csp, "style-src", url), url
        assert (await client.get("/" + url)).status_code == 200, url
    for url in loads.images:
        assert _allows(csp, "img-src", url), url


async def test_non_html_responses_on_page_paths_keep_the_strict_policy(client: httpx.AsyncClient) -> None:
    schema = await client.get("/openapi.json")
    operation = await client.post("/graphql", json={"query": "{ __typename }"})
    assert schema.headers["content-security-policy"] == STRICT_CSP
    assert operation.headers["content-security-policy"] == STRICT_CSP


async def test_swagger_page_under_a_root_path_loads_its_files_under_it(db_url: str) -> None:
    # The pages' links are relative: under a root path they resolve beneath it.
    async with client_with(db_url, get_settings(), root_path="/ocpo") as http:
        page = await http.get("/ocpo/docs")
        loads = _Loads()
        loads.feed(page.text)
        assert loads.scripts
        for url in loads.scripts + loads.styles:
            assert (await http.get(f"/ocpo/{url}")).status_code == 200, url
        description = await http.get("/ocpo/openapi.json")
    assert page.status_code == 200
    assert 'data-openapi-url="openapi.json"' in page.text
    assert description.status_code == 200


# --- request ids -----------------------------------------------------------------------


async def test_a_sane_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "trace.2024-01_a"})
    assert response.headers["x-request-id"] == "trace.2024-01_a"
    fresh = await client.get("/healthz")
    assert FRESH_ID.fullmatch(fresh.headers["x-request-id"])


@pytest.mark.parametrize(
    "offered",
    ["x" * 500, "has spaces", "trailing-newline\n", "two\nlines", "", "semi;colon", "über"],
    ids=["500-chars", "spaces", "trailing-newline", "newline", "empty", "semicolon", "non-ascii"],
)
async def test_an_insane_request_id_is_replaced(client: httpx.AsyncClient, offered: str) -> None:
    response = await client.get("/healthz", headers={b"X-Request-ID": offered.encode()})
    assert FRESH_ID.fullmatch(response.headers["x-request-id"])


async def test_the_request_id_is_the_one_in_audit_rows(client: httpx.AsyncClient, db_url: str) -> None:
    offered = await client.post(
        "/api/v1/cases", json=NEW_CASE, headers={**auth("unmik.analyst"), "X-Request-ID": "audit-me-1"}
    )
    assert offered.status_code == 201, offered.text
    assert offered.headers["x-request-id"] == "audit-me-1"
    replaced = await client.post(
        "/api/v1/cases", json=NEW_CASE, headers={**auth("unmik.analyst"), "X-Request-ID": "not sane"}
    )
    assert replaced.status_code == 201, replaced.text
    rows = {row.request_id for row in await audit_rows(db_url)}
    assert {"audit-me-1", replaced.headers["x-request-id"]} <= rows


# --- logs ------------------------------------------------------------------------------


async def test_the_access_line_is_json_with_the_request_id_user_and_no_query_string(
    client: httpx.AsyncClient,
) -> None:
    with captured_log() as log:
        response = await client.get(
            "/api/v1/cases?text=informant%20in%20Pristina&limit=5",
            headers={**auth("unmik.analyst"), "X-Request-ID": "log-line-1"},
        )
    assert response.status_code == 200, response.text
    lines = [line for line in json_lines(log) if line["logger"] != "httpx"]  # the test's own client
    assert "informant" not in json.dumps(lines)
    access = next(line for line in lines if line["logger"] == "ocpo_coord.access")
    assert access["request_id"] == "log-line-1"
    assert access["method"] == "GET"
    assert access["path"] == "/api/v1/cases"
    assert access["status"] == 200
    assert access["user"] == "unmik.analyst"
    assert isinstance(access["duration_ms"], float)
    assert access["level"] == "INFO"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", access["timestamp"])
    # Every line logged while the request ran carries its id.
    assert all(line.get("request_id") == "log-line-1" for line in lines if line["logger"].startswith("ocpo"))


async def test_a_hostile_path_cannot_forge_a_log_line(client: httpx.AsyncClient) -> None:
    path = "/api/v1/cases/%0A%7B%22level%22%3A%22INFO%22%7D"
    with captured_log() as json_log:
        await client.get(path)
    with captured_log(TextFormatter()) as text_log:
        await client.get(path)
    for log in (json_log, text_log):
        access = [line for line in log.getvalue().splitlines() if "ocpo_coord.access" in line]
        assert len(access) == 1
    access_line = next(line for line in json_lines(json_log) if line["logger"] == "ocpo_coord.access")
    assert access_line["path"] == '/api/v1/cases/\n{"level":"INFO"}'


def test_text_format_is_one_plain_line() -> None:
    record = logging.makeLogRecord(
        {"name": "ocpo_coord.x", "levelname": "INFO", "msg": "two\nlines", "request_id": "r1"}
    )
    line = TextFormatter().format(record)
    assert "\n" not in line
    assert line.endswith("INFO    ocpo_coord.x [r1] two\\nlines")


# --- CORS ------------------------------------------------------------------------------

CONSOLE = "https://console.example.org"
PREFLIGHT = {
    "Origin": CONSOLE,
    "Access-Control-Request-Method": "PATCH",
    "Access-Control-Request-Headers": "authorization, content-type, if-match, idempotency-key",
}


async def test_cors_preflight_is_allowed_for_a_configured_origin(db_url: str) -> None:
    settings = get_settings().model_copy(update={"cors_origins": [CONSOLE]})
    async with client_with(db_url, settings) as http:
        preflight = await http.options("/api/v1/cases", headers=PREFLIGHT)
        actual = await http.get("/api/v1/me", headers={**auth("unmik.analyst"), "Origin": CONSOLE})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == CONSOLE
    allowed = {h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "if-match", "idempotency-key"} <= allowed
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    assert_posture(preflight)
    assert actual.status_code == 200
    assert actual.headers["access-control-allow-origin"] == CONSOLE
    exposed = {h.strip().lower() for h in actual.headers["access-control-expose-headers"].split(",")}
    # Retry-After for a 503, Idempotent-Replayed for a retried create: a browser client reads both.
    assert exposed == {"etag", "x-request-id", "retry-after", "idempotent-replayed"}


async def test_a_500_keeps_its_cors_headers_so_a_browser_can_read_it(db_url: str) -> None:
    async def explode() -> None:
        raise RuntimeError("unexpected")

    app = create_app(
        database_url=db_url, settings=get_settings().model_copy(update={"cors_origins": [CONSOLE]})
    )
    app.add_api_route("/api/v1/test-explode", explode)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ocpo.test"
        ) as http:
            response = await http.get("/api/v1/test-explode", headers={"Origin": CONSOLE})
    finally:
        await app.state.sessionmaker.kw["bind"].dispose()
    assert response.status_code == 500
    assert response.headers["access-control-allow-origin"] == CONSOLE
    assert_posture(response)


async def test_cors_headers_are_absent_for_other_origins(db_url: str) -> None:
    settings = get_settings().model_copy(update={"cors_origins": [CONSOLE]})
    async with client_with(db_url, settings) as http:
        preflight = await http.options(
            "/api/v1/cases", headers={**PREFLIGHT, "Origin": "https://evil.example.net"}
        )
        actual = await http.get(
            "/api/v1/me", headers={**auth("unmik.analyst"), "Origin": "https://evil.example.net"}
        )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in actual.headers


async def test_no_cors_headers_by_default(client: httpx.AsyncClient) -> None:
    assert get_settings().cors_origins == []
    preflight = await client.options("/api/v1/cases", headers=PREFLIGHT)
    actual = await client.get("/api/v1/me", headers={**auth("unmik.analyst"), "Origin": CONSOLE})
    assert not any(name.startswith("access-control-") for name in preflight.headers)
    assert not any(name.startswith("access-control-") for name in actual.headers)


# --- settings --------------------------------------------------------------------------

PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "jwks_url": "https://sso.example.org/realms/ocpo/protocol/openid-connect/certs",
    "jwt_issuer": "https://sso.example.org/realms/ocpo",
    "jwt_audience": "ocpo-coord",
    "database_url": "postgresql+psycopg://ocpo@db/ocpo",
}
RULES = ("OCPO_JWKS_URL", "OCPO_DATABASE_URL", "OCPO_JWT_ISSUER", "OCPO_JWT_AUDIENCE", "OCPO_GRAPHIQL")


def test_production_accepts_a_complete_configuration() -> None:
    settings = Settings(**PRODUCTION, graphiql=False, introspection=False)
    assert settings.environment is Environment.PRODUCTION
    assert not settings.graphiql_enabled
    assert not settings.introspection_enabled


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"jwks_url": None}, "OCPO_JWKS_URL must be set in production"),
        ({"database_url": None}, "OCPO_DATABASE_URL must be set in production"),
        ({"jwt_issuer": None}, "OCPO_JWT_ISSUER must be set in production"),
        ({"jwt_issuer": "ocpo-coord-local"}, "OCPO_JWT_ISSUER must be set in production"),
        ({"jwt_audience": None}, "OCPO_JWT_AUDIENCE must be set in production"),
        ({"graphiql": True}, "OCPO_GRAPHIQL must not be turned on in production"),
        ({"introspection": True}, "OCPO_INTROSPECTION must not be turned on in production"),
    ],
    ids=[
        "no-jwks",
        "sqlite-default",
        "issuer-default",
        "issuer-local",
        "audience-default",
        "graphiql",
        "introspection",
    ],
)
def test_production_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, Any], message: str
) -> None:
    # Left unset means absent from the environment too (conftest sets a database URL).
    monkeypatch.delenv("OCPO_DATABASE_URL")
    values = {**PRODUCTION, **change}
    with pytest.raises(ValueError, match=message) as refused:
        Settings(**{name: value for name, value in values.items() if value is not None})
    # Only the broken rule is named.
    named = [rule for rule in (*RULES, "OCPO_INTROSPECTION") if rule in str(refused.value)]
    assert named == [message.split()[0]]


def test_cors_origins_and_log_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCPO_CORS_ORIGINS", " https://console.example.org, http://localhost:5173/ ,")
    monkeypatch.setenv("OCPO_LOG_FORMAT", "text")
    monkeypatch.setenv("OCPO_LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.cors_origins == ["https://console.example.org", "http://localhost:5173"]
    assert settings.log_format is LogFormat.TEXT
    assert settings.log_level == "DEBUG"
    monkeypatch.delenv("OCPO_LOG_FORMAT")
    assert Settings().log_format is LogFormat.JSON


@pytest.mark.parametrize(
    "value", ["console.example.org", "https://console.example.org/app", "ftp://files.example.org"]
)
def test_a_malformed_cors_origin_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("OCPO_CORS_ORIGINS", value)
    with pytest.raises(ValueError, match="must look like https://host"):
        Settings()


def test_an_unknown_log_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCPO_LOG_LEVEL", "loud")
    with pytest.raises(ValueError, match="unknown log level"):
        Settings()


async def test_an_unexpected_failure_answers_json_without_the_cause(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ocpo_coord.directory import service as directory_service

    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("secret table name ocpo_internal and a stack")

    monkeypatch.setattr(directory_service, "list_agencies", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ocpo.test") as http:
        response = await http.get(
            "/api/v1/agencies", headers={**auth("unmik.analyst"), "X-Request-ID": "abc123"}
        )
    assert response.status_code == 500
    body = response.json()
    assert body["detail"]["code"] == "INTERNAL_ERROR"
    assert "abc123" in body["detail"]["message"]
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert response.headers["x-request-id"] == "abc123"
