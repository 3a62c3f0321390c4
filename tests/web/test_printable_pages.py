"""The printable pages (handover report, case file) in a real headless browser: they
render under their own strict policy, show what the reader may read, and print to PDF.
"""

from typing import Any

import httpx

from tests.conftest import token_for
from tests.web.test_page import ARTIFACTS, _unavailable, backend, chromium  # noqa: F401

LEVELS = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"]


def _open(playwright: Any, chromium_path: str, login: str) -> tuple[Any, Any, list[str]]:
    browser = playwright.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        extra_http_headers={"Authorization": f"Bearer {token_for(login)}"},
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    return browser, page, problems


def test_handover_report_and_case_file_render_and_print(chromium: str, base_url: str) -> None:  # noqa: F811
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    headers = {"Authorization": f"Bearer {token_for('eulex.prosecutor')}"}
    handover = httpx.get(f"{base_url}/api/v1/handovers", headers=headers).json()[0]
    lines = httpx.get(
        f"{base_url}/api/v1/handovers/{handover['id']}/lines", params={"limit": 1000}, headers=headers
    ).json()
    hidden = [line for line in lines if not line["readable"]]
    chief = {"Authorization": f"Bearer {token_for('unmik.chief')}"}
    chief_lines = httpx.get(
        f"{base_url}/api/v1/handovers/{handover['id']}/lines", params={"limit": 1000}, headers=chief
    ).json()
    secret_titles = [
        line["label"] for line in chief_lines if line["id"] in {h["id"] for h in hidden} and line["readable"]
    ]
    assert secret_titles, "the demo handover holds records the prosecutor may not read"
    case = httpx.get(f"{base_url}/api/v1/cases", params={"limit": 1}, headers=headers).json()["items"][0]

    with sync_playwright() as playwright:
        browser, page, problems = _open(playwright, chromium, "eulex.prosecutor")
        try:
            response = page.goto(f"{base_url}/api/v1/handovers/{handover['id']}/report.html")
            assert response is not None
            assert response.status == 200
            text = page.inner_text("body")
            assert handover["reference"] in text
            assert "records dropped" in text
            for title in secret_titles:
                assert title not in text
            # Marked as printed documents are: the highest classification of what the
            # page names, top and bottom, and each record's own marking beside it.
            top, bottom = page.inner_text("#banner-top"), page.inner_text("#banner-bottom")
            assert top == bottom
            named = [line["classification"] for line in lines if line["readable"] and line["classification"]]
            assert named
            assert top.startswith(max(named, key=LEVELS.index))
            assert top.split(" // ")[1].startswith("TLP:")
            assert page.locator("td .portion").count() == len(named)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "handover-report.png"), full_page=True)
            pdf = page.pdf(format="A4")
            assert pdf.startswith(b"%PDF")
            (ARTIFACTS / "handover-report.pdf").write_bytes(pdf)

            response = page.goto(f"{base_url}/api/v1/cases/{case['id']}/file.html")
            assert response is not None
            assert response.status == 200
            assert case["reference"] in page.inner_text("body")
            page.screenshot(path=str(ARTIFACTS / "case-file.png"), full_page=True)
            assert page.pdf(format="A4").startswith(b"%PDF")
            assert not problems, problems
        finally:
            browser.close()
