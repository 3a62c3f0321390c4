"""A verified token is not verified again on every request, and still expires on time.

``auth/tokens.py:VerifiedTokens``: the same token string under the same settings is
served from the process's cache until the earlier of its ``exp`` and the key cache's
lifetime; anything else is verified as before.
"""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from ocpo_coord.api import deps
from ocpo_coord.auth import tokens
from ocpo_coord.auth.tokens import VerifiedTokens, mint_local_token
from ocpo_coord.config import get_settings


@pytest.fixture
def backend() -> str:
    """Tokens do not depend on the database: SQLite only."""
    return "sqlite"


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each token the service verifies, in order, through a fresh cache."""
    seen: list[str] = []
    real = tokens.verify_token

    def counted(settings: Any, token: str) -> dict[str, Any]:
        seen.append(token)
        return real(settings, token)

    monkeypatch.setattr(deps, "verify_token", counted)
    monkeypatch.setattr(deps, "verified_tokens", VerifiedTokens())
    return seen


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_is_verified_once_and_each_other_token_on_its_own(
    client: httpx.AsyncClient, verifications: list[str]
) -> None:
    settings = get_settings()
    analyst = mint_local_token(settings, "unmik.analyst")
    j2 = mint_local_token(settings, "kfor.j2")
    for token, login in ((analyst, "unmik.analyst"), (analyst, "unmik.analyst"), (j2, "kfor.j2")):
        me = await client.get("/api/v1/me", headers=_bearer(token))
        assert me.status_code == 200, me.text
        assert me.json()["login"] == login
    assert verifications == [analyst, j2]
    # Another string, however close, is verified: a forged signature is refused.
    forged = analyst[:-3] + ("AAA" if not analyst.endswith("AAA") else "BBB")
    refused = await client.get("/api/v1/me", headers=_bearer(forged))
    assert refused.status_code == 401
    assert verifications == [analyst, j2, forged]


async def test_a_kept_token_still_expires(
    client: httpx.AsyncClient, verifications: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No clock-skew leeway here: the token is to be past its exp within the test.
    monkeypatch.setattr(get_settings(), "jwt_leeway_seconds", 0)
    token = mint_local_token(get_settings(), "unmik.analyst", ttl=timedelta(seconds=2))
    assert (await client.get("/api/v1/me", headers=_bearer(token))).status_code == 200
    assert (await client.get("/api/v1/me", headers=_bearer(token))).status_code == 200
    assert len(verifications) == 1
    await asyncio.sleep(3)  # past exp (whole seconds)
    expired = await client.get("/api/v1/me", headers=_bearer(token))
    assert expired.status_code == 401
    assert "expired" in expired.text
    assert len(verifications) == 2


def test_a_token_is_kept_no_longer_than_the_keys_are() -> None:
    settings = get_settings().model_copy(update={"jwks_cache_seconds": 0})
    kept = VerifiedTokens()
    token = mint_local_token(settings, "unmik.analyst")
    kept.keep(settings, token, tokens.verify_token(settings, token))
    assert kept.get(settings, token) is None
    other = get_settings()
    kept.keep(other, token, tokens.verify_token(other, token))
    assert kept.get(other, token) is not None
    # The same token under other settings (another audience) is not served from here.
    assert kept.get(other.model_copy(update={"jwt_audience": "another-service"}), token) is None


def test_the_cache_is_bounded() -> None:
    settings = get_settings()
    kept = VerifiedTokens(size=2)
    minted = [mint_local_token(settings, login) for login in ("unmik.analyst", "kfor.j2", "eulex.chief")]
    for token in minted:
        kept.keep(settings, token, tokens.verify_token(settings, token))
    assert kept.get(settings, minted[0]) is None
    assert kept.get(settings, minted[1]) is not None
    assert kept.get(settings, minted[2]) is not None
