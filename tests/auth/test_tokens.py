"""Sign-in: real RS256 tokens, from the local key and from a JWKS endpoint."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from ocpo_coord.auth.keys import LOCAL_KEY_ID
from ocpo_coord.auth.tokens import mint_local_token, verify_token
from ocpo_coord.config import Settings, get_settings
from ocpo_coord.exceptions import Unauthenticated
from tests.conftest import auth


@pytest.fixture
def backend() -> str:
    """What this file checks (headers, tokens, errors) does not depend on the database:
    it runs on SQLite only, and every database test elsewhere runs on both."""
    return "sqlite"


def _claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    settings = get_settings()
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": "unmik.analyst",
        "preferred_username": "unmik.analyst",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(overrides)
    return claims


async def _status(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    response = await client.get("/api/v1/me", headers=headers)
    return response.status_code, response.json()


async def test_valid_token_names_the_user(client: httpx.AsyncClient) -> None:
    status, body = await _status(client, auth("unmik.analyst"))
    assert status == 200
    assert body["login"] == "unmik.analyst"
    assert body["agency"] == "UNMIK"
    assert body["clearance"] == "CONFIDENTIAL"


async def test_missing_token_is_401_with_a_clear_message(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/cases")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "missing bearer token" in response.json()["detail"]["message"]


async def test_bad_signature_is_401(client: httpx.AsyncClient) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # Named as the local key, so that it is checked against it.
    forged = jwt.encode(_claims(), stranger, algorithm="RS256", headers={"kid": LOCAL_KEY_ID})
    status, body = await _status(client, {"Authorization": f"Bearer {forged}"})
    assert status == 401
    assert body["detail"]["message"] == "token signature is invalid"


async def test_expired_token_is_401(client: httpx.AsyncClient) -> None:
    # Expired longer ago than the clock-skew leeway forgives.
    ago = get_settings().jwt_leeway_seconds + 5
    expired = mint_local_token(get_settings(), "unmik.analyst", ttl=timedelta(seconds=-ago))
    status, body = await _status(client, {"Authorization": f"Bearer {expired}"})
    assert status == 401
    assert body["detail"]["message"] == "token has expired"


async def test_unsigned_token_is_refused(client: httpx.AsyncClient) -> None:
    unsigned = jwt.encode(_claims(), "", algorithm="none")
    status, _ = await _status(client, {"Authorization": f"Bearer {unsigned}"})
    assert status == 401


async def test_unknown_user_is_401(client: httpx.AsyncClient) -> None:
    status, body = await _status(client, auth("nobody.here"))
    assert status == 401
    assert body["detail"]["message"] == "no active account for this token"


async def test_graphql_without_token_is_401_but_graphiql_page_loads(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ me { login } }"})
    assert response.status_code == 401
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


class _Jwks:
    """A JWKS endpoint on a loopback port, as an OIDC provider would serve it."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": "test-key-1", "use": "sig", "alg": "RS256"})
        body = json.dumps({"keys": [jwk]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/certs"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "test-key-1"})


@pytest.fixture(scope="module")
def jwks() -> Iterator[_Jwks]:
    provider = _Jwks()
    yield provider
    provider.server.shutdown()
    provider.server.server_close()


def _oidc_settings(url: str) -> Settings:
    return Settings(
        environment="production",
        jwks_url=url,
        jwt_issuer="https://sso.example.org/realms/ocpo",
        jwt_audience="ocpo-coord",
    )


def test_jwks_token_is_verified_with_issuer_audience_and_expiry(jwks: _Jwks) -> None:
    settings = _oidc_settings(jwks.url)
    good = jwks.sign(_claims(iss=settings.jwt_issuer))
    assert verify_token(settings, good)["preferred_username"] == "unmik.analyst"
    for bad, message in (
        (_claims(iss="https://evil.example.org"), "token issuer is not trusted"),
        (_claims(iss=settings.jwt_issuer, aud="another-api"), "token audience is not this service"),
        (_claims(iss=settings.jwt_issuer, exp=datetime.now(UTC) - timedelta(minutes=1)), "token has expired"),
    ):
        with pytest.raises(Unauthenticated, match=message):
            verify_token(settings, jwks.sign(bad))


def test_local_key_tokens_are_refused_when_a_jwks_is_configured(jwks: _Jwks) -> None:
    settings = _oidc_settings(jwks.url)
    local = mint_local_token(get_settings(), "unmik.analyst")
    with pytest.raises(Unauthenticated):
        verify_token(settings, local)


def test_production_refuses_to_start_without_a_jwks() -> None:
    with pytest.raises(ValueError, match="OCPO_JWKS_URL must be set in production"):
        Settings(environment="production")
