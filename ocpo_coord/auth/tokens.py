"""Bearer token minting (embedded default) and verification (local key or JWKS)."""

import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from ocpo_coord.auth.jwks import JwksKeys
from ocpo_coord.auth.keys import LOCAL_KEY_ID, load_or_create_private_key
from ocpo_coord.auth.oidc import OidcKeys
from ocpo_coord.config import Settings
from ocpo_coord.exceptions import Unauthenticated

ALGORITHMS = ["RS256", "ES256"]
# The claim that names the user; Keycloak puts the login in preferred_username.
USER_CLAIM = "preferred_username"


def mint_local_token(settings: Settings, login: str, *, ttl: timedelta | None = None) -> str:
    key = load_or_create_private_key(settings.signing_key_path)
    now = datetime.now(UTC)
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": login,
        USER_CLAIM: login,
        "iat": now,
        "nbf": now,
        "exp": now + (ttl or timedelta(minutes=settings.token_ttl_minutes)),
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": LOCAL_KEY_ID})


@lru_cache(maxsize=4)
def _jwks_keys(url: str, ttl_seconds: int) -> JwksKeys:
    return JwksKeys(url, ttl_seconds=ttl_seconds)


@lru_cache(maxsize=4)
def _local_public_key(path: Path) -> RSAPublicKey:
    # Loading a private key checks it thoroughly (tens of milliseconds): once per process.
    return load_or_create_private_key(path).public_key()


@lru_cache(maxsize=4)
def _oidc_keys(issuer: str, ttl_seconds: int) -> OidcKeys:
    return OidcKeys(issuer, ttl_seconds=ttl_seconds)


def _provider_keys(settings: Settings) -> JwksKeys | None:
    if settings.oidc_issuer:
        return _oidc_keys(settings.token_issuer, settings.jwks_cache_seconds)
    if settings.jwks_url:
        return _jwks_keys(settings.jwks_url, settings.jwks_cache_seconds)
    return None


def _verification_key(settings: Settings, token: str) -> Any:
    keys = _provider_keys(settings)
    if keys is not None:
        return keys.signing_key(token)
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"token is invalid: {exc}") from exc
    if kid != LOCAL_KEY_ID:  # as a provider's keys are chosen: by their id
        raise Unauthenticated("token signing key not found")
    return _local_public_key(settings.signing_key_path)


def _within_lifetime(settings: Settings, claims: dict[str, Any]) -> None:
    """A token may not live longer than ``max_token_lifetime_minutes`` from when it was
    issued (or from now, without ``iat``): a token minted for a century is refused."""
    issued = claims.get("iat")
    start = float(issued) if isinstance(issued, int | float) else time.time()
    if float(claims["exp"]) - start > settings.max_token_lifetime_minutes * 60:
        raise Unauthenticated(
            f"token lifetime is longer than the {settings.max_token_lifetime_minutes} minutes allowed"
        )


def verify_token(settings: Settings, token: str) -> dict[str, Any]:
    try:
        key = _verification_key(settings, token)
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            audience=settings.jwt_audience,
            issuer=settings.token_issuer,
            leeway=settings.jwt_leeway_seconds,
            options={"require": ["exp", "iss", "aud"]},
        )
        _access_token_only(jwt.get_unverified_header(token), claims)
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("token has expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise Unauthenticated("token signature is invalid") from exc
    except jwt.InvalidAudienceError as exc:
        raise Unauthenticated("token audience is not this service") from exc
    except jwt.InvalidIssuerError as exc:
        raise Unauthenticated("token issuer is not trusted") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"token is invalid: {exc}") from exc
    _within_lifetime(settings, claims)
    if not isinstance(claims.get(settings.jwt_user_claim) or claims.get("sub"), str):
        raise Unauthenticated(f"token has no {settings.jwt_user_claim} claim")
    return claims


MAX_LOGIN_LENGTH = 256


# RFC 9068 access tokens say "at+jwt" in their header; most providers (Keycloak among
# them) write plain "JWT" there and tell the kinds apart by a ``typ`` claim instead.
_ACCESS_HEADER_TYPES = frozenset({"jwt", "at+jwt", "application/at+jwt"})


def _access_token_only(header: dict[str, Any], claims: dict[str, Any]) -> None:
    """An ID token (or a refresh token) signed by the same provider is not a credential
    for this service: it says who signed in to some client, not what may call us."""
    header_type = str(header.get("typ", "jwt")).lower()
    if header_type not in _ACCESS_HEADER_TYPES:
        raise Unauthenticated(f"token of type {header.get('typ')!r} is not an access token")
    claim_type = claims.get("typ")
    if claim_type is not None and str(claim_type).lower() != "bearer":
        kind = "an ID token" if str(claim_type).lower() == "id" else f"a {claim_type!r} token"
        raise Unauthenticated(f"{kind} is not an access token: send the access token")


def login_from_claims(claims: dict[str, Any], claim: str = USER_CLAIM) -> str:
    """The login a verified token names; one no user could have (control characters,
    NUL, surrounding spaces, absurd length) is refused like a bad token."""
    value = claims.get(claim) or claims.get("sub")
    assert isinstance(value, str)
    if not value.isprintable() or value.strip() != value or not 0 < len(value) <= MAX_LOGIN_LENGTH:
        raise Unauthenticated("token names no valid login")
    return value


def _generation(settings: Settings) -> int:
    keys = _provider_keys(settings)
    return keys.generation if keys is not None else 0


class VerifiedTokens:
    """Tokens this process has verified, with their claims, for a short while.

    Verifying a signature costs CPU on every request (and a thread hop with a
    provider's keys), for the same token again and again: a client signs in once
    and sends its token with every page. A token is served from here only as the same
    string under the same settings, while the provider's keys are the set it was
    verified with, and only until the earlier of its ``exp`` and ``jwks_cache_seconds``
    after it was verified (the keys' own cache is trusted that long). So a key withdrawn
    by the provider stops working no later than before: when the keys are fetched
    again, every token is verified again. An expired token is verified again, and its
    expiry reported as before. Per process and bounded; nothing is shared between
    processes.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[Any, ...], tuple[dict[str, Any], float, int]] = OrderedDict()

    @staticmethod
    def _key(settings: Settings, token: str) -> tuple[Any, ...]:
        return (
            token,
            settings.token_issuer,
            settings.jwt_audience,
            settings.jwks_url,
            settings.oidc_issuer,
            settings.signing_key_path,
            settings.jwt_user_claim,
            settings.jwt_leeway_seconds,
        )

    def get(self, settings: Settings, token: str) -> dict[str, Any] | None:
        key = self._key(settings, token)
        found = self._kept.get(key)
        if found is None:
            return None
        claims, until, generation = found
        if time.time() >= until or generation != _generation(settings):
            del self._kept[key]
            return None
        self._kept.move_to_end(key)
        return claims

    def keep(self, settings: Settings, token: str, claims: dict[str, Any]) -> None:
        until = min(float(claims["exp"]), time.time() + settings.jwks_cache_seconds)
        self._kept[self._key(settings, token)] = (claims, until, _generation(settings))
        if len(self._kept) > self.size:
            self._kept.popitem(last=False)


verified_tokens = VerifiedTokens()
