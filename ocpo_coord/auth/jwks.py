"""Signing keys from a JWKS document, cached, and refetched early on key rotation.

Keys are cached for a TTL and refetched early when a token names a key id not seen yet
(the provider rotated its keys). Such early refetches are rate-limited: a stream of
tokens with invented key ids cannot turn this service into a flood of requests to the
provider. Both token paths use this: a JWKS URL configured directly (``OCPO_JWKS_URL``)
and one found through OpenID Connect discovery (``oidc.OidcKeys``).
"""

import math
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
from jwt import PyJWK, PyJWKSet

from ocpo_coord.exceptions import Unauthenticated, Unavailable

Fetch = Callable[[str], dict[str, Any]]


def get_json(url: str) -> dict[str, Any]:
    response = httpx.get(url, timeout=5.0, follow_redirects=False)
    response.raise_for_status()
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError(f"{url} did not answer a JSON object")
    return body


class JwksKeys:
    """The keys published at one JWKS URL."""

    def __init__(
        self,
        jwks_uri: str,
        *,
        ttl_seconds: float = 300,
        min_refetch_seconds: float = 10,
        fetch: Fetch = get_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl_seconds
        self.min_refetch = min_refetch_seconds
        self._jwks_uri = jwks_uri
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._unknown_at: float | None = None
        # Goes up each time the keys are fetched: what was verified with an older set
        # is verified again (``tokens.VerifiedTokens``), as a withdrawn key must fail.
        self.generation = 0

    @property
    def source(self) -> str:
        """Where the keys come from, for error messages."""
        return self._jwks_uri

    def jwks_uri(self) -> str:
        return self._jwks_uri

    def _refresh(self) -> None:
        key_set = PyJWKSet.from_dict(self._fetch(self.jwks_uri()))
        self._keys = {str(k.key_id): k for k in key_set.keys if k.key_id}
        self._fetched_at = self._clock()
        self.generation += 1

    def _due(self, kid: str, now: float) -> bool:
        if self._fetched_at is None or now - self._fetched_at >= self.ttl:
            # Failed attempts count: a provider that is down is not asked on every request.
            return self._attempted_at is None or now - self._attempted_at >= self.min_refetch
        if kid in self._keys:
            return False
        # Rotation: refetch at once, but at most once per interval for unknown kids.
        if self._unknown_at is not None and now - self._unknown_at < self.min_refetch:
            return False
        self._unknown_at = now
        return True

    def signing_key(self, token: str) -> Any:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"token is invalid: {exc}") from exc
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("token names no signing key (kid)")
        with self._lock:
            now = self._clock()
            failure: Exception | None = None
            if self._due(kid, now):
                self._attempted_at = now
                try:
                    self._refresh()
                except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                    # The keys we have keep serving, while the provider is away, until
                    # they expire.
                    failure = exc
            if self._fetched_at is None or now - self._fetched_at >= self.ttl:
                raise Unavailable(
                    f"identity provider unavailable: {failure or 'keys could not be fetched'}",
                    retry_after=max(1, math.ceil(self.min_refetch)),
                )
            key = self._keys.get(kid)
        if key is None:
            # Where the keys come from is the installation's business, not the caller's.
            raise Unauthenticated("token signing key not found")
        return key.key
