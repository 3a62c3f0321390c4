"""GraphiQL (/graphql), Swagger UI (/docs) and ReDoc (/redoc) in a real headless browser
with every request to another host refused, as on a mission's closed network: each
page renders from the package's own files, under its Content-Security-Policy, with no
violation and no error in the console.

Playwright drives the system's chromium, as in ``test_web_page.py`` (skipped without
one unless ``OCPO_REQUIRE_BROWSER`` is set, as in CI).
"""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import token_for
from tests.web.test_page import _unavailable, chromium  # noqa: F401 (fixtures)

PACKAGE = Path(__file__).resolve().parents[2] / "ocpo_coord"
# What each page shows once its script has run, not its empty shell.
RENDERED = {
    "/docs": ".swagger-ui .opblock-tag-section .opblock",
    "/graphql": ".graphiql-container .graphiql-query-editor .CodeMirror",
    "/redoc": ".redoc-wrap .menu-content li",
}


@pytest.fixture
def backend() -> str:
    """SQLite only: the pages read the description and schema, the same on both."""
    return "sqlite"


def test_docs_and_graphiql_render_with_the_outside_network_blocked(
    chromium: str,  # noqa: F811
    base_url: str,
) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")

    problems: list[str] = []
    outside: list[str] = []
    loaded: list[str] = []

    def only_this_host(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            loaded.append(urlsplit(url).path)
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = browser.new_context()
            # As a reader's browser extension or proxy would add it: the token stays out of URLs.
            context.set_extra_http_headers({"Authorization": f"Bearer {token_for('unmik.analyst')}"})
            context.route("**/*", only_this_host)
            page = context.new_page()
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda message: (
                    problems.append(f"{page.url} console {message.type}: {message.text}")
                    if message.type in ("error", "warning")
                    else None
                ),
            )
            for path, rendered in RENDERED.items():
                page.goto(f"{base_url}{path}")
                page.wait_for_selector(rendered, timeout=30_000)
                assert page.locator(rendered).count() >= 1, path
            # GraphiQL's editor holds the example operation, which runs against this service.
            page.goto(f"{base_url}/graphql")
            page.wait_for_selector(RENDERED["/graphql"])
            assert "Authorization" in page.locator(".graphiql-query-editor").inner_text()
            page.click(".graphiql-execute-button")
            page.wait_for_selector(".graphiql-response .CodeMirror-line:has-text('unmik.analyst')")
            page.goto(f"{base_url}/docs")
            page.wait_for_selector(RENDERED["/docs"])
            assert page.locator(".opblock-summary-path", has_text="/api/v1/cases").count() >= 1
        finally:
            browser.close()
    assert not outside, f"requests to other hosts: {outside}"
    # ReDoc's "API docs by Redocly" badge names its logo on redocly's CDN: refused, as
    # every outside load is, and the page works without it. Nothing else may be refused.
    badge = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert not [p for p in problems if not (p.startswith(f"{base_url}/redoc ") and badge in p)], problems
    assert "/static/ide/graphiql.min.js" in loaded
    assert "/static/swagger-ui/swagger-ui-bundle.js" in loaded


def test_the_vendored_assets_stay_a_few_megabytes() -> None:
    ide = sum(f.stat().st_size for f in (PACKAGE / "web" / "static" / "ide").iterdir())
    assert 3_000_000 < ide < 6_000_000, ide
