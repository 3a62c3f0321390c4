"""The coordinators' page in a real headless browser: sign in with a minted token, choose
a theatre, and check that the board shows what the user may read and nothing else.

Playwright drives the system's chromium (``apt-get install chromium``); it never
downloads a browser. Without one the test skips, unless ``OCPO_REQUIRE_BROWSER`` is set
(as in CI), which makes a missing browser a failure. A screenshot of the page is kept in
``test-artifacts/``.
"""

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
import uvicorn

from ocpo_coord.app import create_app
from tests.conftest import token_for

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _browser_required() -> bool:
    return os.environ.get("OCPO_REQUIRE_BROWSER", "") not in ("", "0", "false")


def _unavailable(reason: str) -> NoReturn:
    if _browser_required():
        pytest.fail(f"{reason} (OCPO_REQUIRE_BROWSER is set)")
    pytest.skip(reason)


@pytest.fixture
def chromium() -> str:
    """The browser's executable; checked before the service is started."""
    configured = os.environ.get("OCPO_CHROMIUM")
    candidates = [configured] if configured else ["chromium", "chromium-browser"]
    for name in candidates:
        found = shutil.which(name) if name else None
        if found:
            return found
    _unavailable("no chromium found (apt-get install chromium, or set OCPO_CHROMIUM)")


@pytest.fixture
def backend() -> str:
    """SQLite only: the page reads through the same API that both databases serve."""
    return "sqlite"


@pytest.fixture
def base_url(db_url: str) -> Iterator[str]:
    """The real service on a free loopback port, in a thread, over a seeded database copy."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(database_url=db_url),
        host="127.0.0.1",
        port=port,
        ws="none",
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="coord-page-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the service did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _sign_in(page: Any, login: str) -> None:
    page.fill("#token", token_for(login))
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#board:not([hidden])")
    page.select_option("#theatre", "KOS")
    page.fill("#on", "2008-06-01")
    page.dispatch_event("#on", "change")
    page.wait_for_selector("#matrix .caption:has-text('KOS on 1 Jun 2008')")
    page.wait_for_selector("#tasks .columns")
    page.wait_for_selector("#hits table, #hits .empty")
    # Selectors, not wait_for_function: the page's CSP forbids the eval it would need.
    for panel in ("tasks", "matrix", "hits"):
        page.wait_for_selector(f"#{panel}[aria-busy=false]")


def test_coordinators_page_shows_what_each_user_may_read(chromium: str, base_url: str) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")

    problems: list[str] = []
    foreign: list[str] = []
    with sync_playwright() as playwright:
        # No sandbox: CI runs as root in a container, where chromium's sandbox cannot start.
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-GB")  # a laptop
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda message: (
                    problems.append(f"console {message.type}: {message.text}")
                    if message.type in ("error", "warning")
                    else None
                ),
            )
            page.on(
                "request",
                lambda request: None if request.url.startswith(base_url) else foreign.append(request.url),
            )
            response = page.goto(f"{base_url}/coord")
            assert response is not None
            assert response.status == 200
            csp = response.headers["content-security-policy"]
            assert "script-src 'self'" in csp
            assert "unsafe-inline" not in csp
            page.wait_for_selector("#sign-in:not([hidden])")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "coord-sign-in.png"))

            # A refused token is said so, and not kept.
            page.fill("#token", "not-a-token")
            page.click("#sign-in-form button[type=submit]")
            page.wait_for_selector("#sign-in-error:not([hidden])")
            assert page.evaluate("sessionStorage.getItem('ocpo-coord.token')") is None
            assert page.is_hidden("#board")
            assert "token" in page.inner_text("#sign-in-error")

            # A member of the restricted KTA case, with CONFIDENTIAL clearance.
            _sign_in(page, "unmik.analyst")
            board = page.inner_text("#tasks")
            assert "Obtain the KTA tender evaluation board minutes" in board
            assert "Continue static observation of Motel" in board
            assert "Financial profiles of Gate 31 shift supervisors" not in board  # SECRET case
            assert "Plan cordon-and-search of the Ferizaj motel" not in board  # KFOR, not released
            assert "Map ransom handsets" not in board  # Haiti
            assert page.locator("#tasks .card.is-overdue .flag-overdue").count() > 0
            assert page.locator("#tasks .column-blocked .card").count() > 0
            page.fill("#task-text", "KTA tender")
            assert page.locator("#tasks .card").count() == 1
            page.fill("#task-text", "")
            page.check("#task-overdue")
            assert page.locator("#tasks .card").count() == page.locator("#tasks .card.is-overdue").count()
            page.uncheck("#task-overdue")

            overlap = page.locator("#matrix tr.row-overlap[data-area=BORDER_CONTROL]")
            assert overlap.count() == 1
            assert "Overlap: KFOR / UNMIK" in (overlap.text_content() or "")
            gaps = page.locator("#matrix tr.row-gap")
            assert gaps.count() > 0
            assert "Gap: no lead" in (gaps.first.text_content() or "")
            assert page.locator("#matrix tr.row-gap[data-area=RESOURCE_GOVERNANCE]").count() == 1
            assert page.locator("#matrix tr.row-gap[data-area=JUSTICE_SUPPORT]").count() == 0

            page.screenshot(path=str(ARTIFACTS / "coord-page.png"), full_page=True)

            # Signing out forgets the token; the next user sees only their own side.
            page.click("#sign-out")
            page.wait_for_selector("#sign-in:not([hidden])")
            assert page.evaluate("sessionStorage.getItem('ocpo-coord.token')") is None
            assert page.inner_text("#tasks") == ""

            _sign_in(page, "kfor.j2")
            hits = page.text_content("#hits") or ""
            assert "UNMIK" in hits
            assert "Operation" in hits
            assert "Head of Kosovo Organised Crime Bureau" in hits
            board = page.inner_text("#tasks")
            assert "Plan cordon-and-search of the Ferizaj motel" in board
            assert "Obtain the KTA tender evaluation board minutes" not in board  # restricted case
            whole = page.inner_text("body")
            for unmik_title in (
                "Static observation of Motel",  # UNMIK's surveillance behind the hit
                "Continue static observation of Motel",
                "Obtain the KTA tender evaluation board minutes",
            ):
                assert unmik_title not in whole
            page.screenshot(path=str(ARTIFACTS / "coord-page-kfor.png"), full_page=True)

            # Acknowledging a hit goes through the API and shows who did it.
            acknowledged = page.locator("#hits .flag-ack").count()
            page.locator("#hits button.acknowledge").first.click()
            page.locator("#hits .flag-ack").nth(acknowledged).wait_for()
            assert "by " in (page.text_content("#hits .hit-ack") or "")
        finally:
            browser.close()

    # A refused sign-in logs the 401 of its request; nothing else may complain (CSP included).
    assert [p for p in problems if "status of 401" not in p] == []
    assert foreign == []


async def test_page_and_its_files_are_served_under_a_strict_policy(client: httpx.AsyncClient) -> None:
    """Without a browser too: the shell has no inline script or style and names no other origin."""
    page = await client.get("/coord")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "connect-src 'self';" in policy
    assert "unsafe" not in policy
    assert "<script>" not in page.text
    assert "<style" not in page.text
    assert "http" not in page.text.replace("http-equiv", "")
    for path, kind in (
        ("coord.js", "text/javascript"),
        ("coord.css", "text/css"),
        ("icon.svg", "image/svg+xml"),
    ):
        served = await client.get(f"/coord/static/{path}")
        assert served.status_code == 200
        assert served.headers["content-type"].startswith(kind)
    script = (await client.get("/coord/static/coord.js")).text
    assert "innerHTML" not in script
    assert "insertAdjacentHTML" not in script
    assert (await client.get("/coord/static/../router.py")).status_code == 404
