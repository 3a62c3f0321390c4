"""The coordinators' page in a real headless browser: sign in with a minted token, choose
a theatre, and check that the board shows what the user may read and nothing else.

Playwright drives the system's chromium (``apt-get install chromium``); it never
downloads a browser. Without one the test skips, unless ``OCPO_REQUIRE_BROWSER`` is set
(as in CI), which makes a missing browser a failure. A screenshot of the page is kept in
``test-artifacts/``.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest

from tests.conftest import token_for

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


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


@pytest.fixture
def page(chromium: str, base_url: str) -> Iterator[Any]:
    """A fresh page on a laptop-sized screen; any page error or console complaint fails the test."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    problems: list[str] = []
    with sync_playwright() as playwright:
        # Scrollbars drawn as a user sees them (headless mode hides them by default).
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox"], ignore_default_args=["--hide-scrollbars"]
        )
        try:
            tab = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-GB")
            tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            tab.on(
                "console",
                lambda message: (
                    problems.append(f"console {message.type}: {message.text}")
                    if message.type in ("error", "warning")
                    else None
                ),
            )
            tab.goto(f"{base_url}/coord")
            tab.wait_for_selector("#sign-in:not([hidden])")
            ARTIFACTS.mkdir(exist_ok=True)
            yield tab
        finally:
            browser.close()
    assert problems == []


def test_a_hit_names_my_own_record_never_theirs_and_can_be_resolved(page: Any) -> None:
    _sign_in(page, "kfor.j2")
    hits = page.locator("#hits tbody tr[data-hit-id]")
    before = hits.count()
    assert before > 0
    mine = page.inner_text("#hits")
    assert "Your record" in mine
    # KFOR's own operation behind the hit, by name; UNMIK's surveillance never.
    assert "Cordon-and-search of Motel 'Ylli i Jugut'" in mine
    assert "Static observation" not in page.inner_text("body")
    row = hits.filter(has_text="Cordon-and-search").first
    assert row.locator("button.acknowledge").count() == 1
    assert row.locator("button.resolve").count() == 1  # beside Acknowledge
    page.screenshot(path=str(ARTIFACTS / "coord-hit-my-record.png"), full_page=True)

    row.locator("button.resolve").click()
    form = page.locator("#hits form.resolve-form")
    form.locator("select[name=outcome]").select_option("OPERATION_DECONFLICTED")
    form.locator("input[name=note]").fill("Raid moved after a call with UNMIK KOCB")
    page.screenshot(path=str(ARTIFACTS / "coord-hit-resolve.png"), full_page=True)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#notice:has-text('Hit resolved')")
    assert page.locator("#hits tbody tr[data-hit-id]").count() == before - 1


def test_a_task_card_opens_to_the_task_and_its_case(page: Any) -> None:
    _sign_in(page, "unmik.analyst")
    card = page.locator("#tasks .card", has_text="Obtain the KTA tender evaluation board minutes")
    card.locator("button.card-open").click()
    detail = card.locator(".card-detail[aria-busy=false]")
    detail.wait_for()
    text = detail.inner_text()
    assert "Status" in text
    assert "Assigned to" in text
    assert "CONFIDENTIAL" in text
    # The case it serves, which this member of the restricted case may read.
    assert "KTA" in card.locator(".card-case").inner_text()
    assert card.locator(".card-case button.case-file").count() == 1
    with page.expect_download() as download:
        card.locator(".card-case button.case-file").click()
    assert download.value.suggested_filename.endswith(".html")
    page.screenshot(path=str(ARTIFACTS / "coord-task-open.png"), full_page=True)
    card.locator("button.card-open").click()
    assert card.locator(".card-detail").count() == 0


@pytest.mark.parametrize(("width", "height"), [(360, 640), (420, 800), (768, 1024), (2560, 1440)])
def test_the_page_works_from_a_phone_to_a_wall_screen(page: Any, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    _sign_in(page, "unmik.analyst")
    page.screenshot(path=str(ARTIFACTS / f"coord-{width}px.png"), full_page=True)
    # Nothing sticks out of the screen: no sideways scrolling of the page itself...
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # ... and the header's controls all sit within it, none clipped.
    for selector in (".brand", "#theatre", "#on", "#reload", "#who-name", "#sign-out"):
        box = page.locator(selector).bounding_box()
        assert box is not None, selector
        assert box["x"] >= 0, selector
        assert box["x"] + box["width"] <= width + 0.5, selector
    # The board's columns scroll within the board, and say so where they are cut off, also
    # where the system draws no scrollbar until touched.
    sideways = page.evaluate(
        "(() => { const b = document.querySelector('#tasks .columns'); return b.scrollWidth > b.clientWidth; })()"
    )
    assert page.locator("#tasks .columns.is-scrollable").count() == (1 if sideways else 0)
    assert page.locator("#tasks .scroll-hint").is_visible() == sideways
    assert sideways == (width <= 768)  # five columns do not fit a phone or a tablet
    cut = page.evaluate(
        "[...document.querySelectorAll('#tasks .cards')].filter(c => c.scrollHeight > c.clientHeight + 1).length"
    )
    assert page.locator("#tasks .cards.has-more").count() == cut
    if width == 360:
        assert cut > 0  # a short screen cuts the longest column, visibly


def test_the_installation_administrator_sees_one_clear_view(page: Any) -> None:
    page.fill("#token", token_for("admin"))
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#admin-view:not([hidden])")
    assert "Administrators read no agency data" in page.inner_text("#admin-view")
    assert page.is_hidden("#board")
    assert page.is_hidden("#controls")
    assert page.locator(".error:visible").count() == 0
    assert "Installation Administrator" in page.inner_text("#who")
    page.screenshot(path=str(ARTIFACTS / "coord-admin.png"), full_page=True)
    page.click("#sign-out")
    page.wait_for_selector("#sign-in:not([hidden])")
    assert page.is_hidden("#admin-view")


def test_a_demo_link_signs_in_and_leaves_no_token_in_the_address(chromium: str, base_url: str) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            tab = browser.new_page()
            tab.goto(f"{base_url}/coord#token={token_for('kfor.j2')}")
            tab.wait_for_selector("#board:not([hidden])")
            assert "#" not in tab.url
            assert "kfor.j2" in tab.inner_text("#who")
        finally:
            browser.close()
