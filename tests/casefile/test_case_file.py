"""The printable case file: banners, sections, only readable intelligence, escaping, 404s."""

import base64
import hashlib
import re
import uuid
from typing import Any

import httpx

from tests.conftest import auth

NORTHERN_FUEL = "EULEX-2008-0019"
UNREADABLE_TO_KFOR = "Cash payments from fuel importers to customs shift supervisors at Gate 31"


async def _case(client: httpx.AsyncClient, login: str, reference: str) -> dict[str, Any]:
    response = await client.get("/api/v1/cases", params={"text": reference}, headers=auth(login))
    assert response.status_code == 200, response.text
    case: dict[str, Any] = response.json()["items"][0]
    return case


async def _intel_ids(client: httpx.AsyncClient, login: str, case_id: str) -> set[str]:
    response = await client.get(
        "/api/v1/intel-items", params={"case_id": case_id, "limit": "100"}, headers=auth(login)
    )
    return {i["id"] for i in response.json()["items"]}


async def test_case_file_shows_markings_sections_and_only_readable_intelligence(
    client: httpx.AsyncClient,
) -> None:
    case = await _case(client, "kfor.j2", NORTHERN_FUEL)
    response = await client.get(f"/api/v1/cases/{case['id']}/file.html", headers=auth("kfor.j2"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    # The banner, at the top and at the bottom, as on a printed document.
    banners = re.findall(r'<div class="banner" id="banner-(?:top|bottom)">([^<]*)</div>', page)
    assert len(banners) == 2
    assert banners[0] == banners[1]
    assert banners[0].startswith("CONFIDENTIAL // TLP:")
    assert "NOHOST" in banners[0]
    for section in ("Summary", "Notes", "Evidence", "Tasks", "Intelligence"):
        assert f"<h2>{section}</h2>" in page
    assert case["title"] in page
    # Intelligence: what KFOR may read of it, and nothing else.
    readable = await _intel_ids(client, "kfor.j2", case["id"])
    everything = await _intel_ids(client, "eulex.chief", case["id"])
    hidden = everything - readable
    assert hidden
    assert UNREADABLE_TO_KFOR not in page
    for item_id in hidden:
        assert item_id not in page
    assert "Patrol observation: fuel tankers crossing Gate 1" in page


async def test_note_html_is_escaped(client: httpx.AsyncClient) -> None:
    case = await _case(client, "kfor.j2", "KFOR-2008-0015")
    note = await client.post(
        "/api/v1/notes",
        json={"case_id": case["id"], "body": "<script>alert('x')</script><b>bold</b> & more"},
        headers=auth("kfor.j2"),
    )
    assert note.status_code == 201, note.text
    page = (await client.get(f"/api/v1/cases/{case['id']}/file.html", headers=auth("kfor.j2"))).text
    assert "<script>" not in page
    assert "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt; &amp; more" in page


async def test_unreadable_case_is_the_same_404_as_a_missing_one(client: httpx.AsyncClient) -> None:
    case = await _case(client, "kfor.j2", "KFOR-2008-0015")
    hidden = await client.get(f"/api/v1/cases/{case['id']}/file.html", headers=auth("kp.investigator"))
    missing = await client.get(f"/api/v1/cases/{uuid.uuid4()}/file.html", headers=auth("kp.investigator"))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


async def test_case_file_is_audited_as_an_export(client: httpx.AsyncClient) -> None:
    case = await _case(client, "kfor.j2", NORTHERN_FUEL)
    await client.get(f"/api/v1/cases/{case['id']}/file.html", headers=auth("kfor.j2"))
    events = await client.get(
        "/api/v1/audit-events",
        params={"record_id": case["id"], "action": "case.export"},
        headers=auth("eulex.chief"),
    )
    assert events.status_code == 200, events.text
    assert events.json()["items"][0]["actor_name"].endswith("(kfor.j2)")


async def test_the_page_admits_its_own_stylesheet_only(client: httpx.AsyncClient) -> None:
    case = await _case(client, "kfor.j2", NORTHERN_FUEL)
    response = await client.get(f"/api/v1/cases/{case['id']}/file.html", headers=auth("kfor.j2"))
    style = re.search(r"<style>(.*?)</style>", response.text, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    policy = response.headers["content-security-policy"]
    assert f"style-src 'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
