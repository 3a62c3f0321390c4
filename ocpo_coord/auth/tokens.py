"""Bearer token minting (embedded default) and verification (local key or JWKS)."""

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


def _verification_key(settings: Settings, token: str) -> Any:
    if settings.oidc_issuer:
        return _oidc_keys(settings.token_issuer, settings.jwks_cache_seconds).signing_key(token)
    if settings.jwks_url:
        return _jwks_keys(settings.jwks_url, settings.jwks_cache_seconds).signing_key(token)
    return _local_public_key(settings.signing_key_path)


def verify_token(settings: Settings, token: str) -> dict[str, Any]:
    try:
        key = _verification_key(settings, token)
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            audience=settings.jwt_audience,
            issuer=settings.token_issuer,
            options={"require": ["exp", "iss", "aud"]},
        )
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
    if not isinstance(claims.get(settings.jwt_user_claim) or claims.get("sub"), str):
        raise Unauthenticated(f"token has no {settings.jwt_user_claim} claim")
    return claims


def login_from_claims(claims: dict[str, Any], claim: str = USER_CLAIM) -> str:
    value = claims.get(claim) or claims.get("sub")
    assert isinstance(value, str)
    return value
