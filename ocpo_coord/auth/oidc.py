"""Signing keys of an OpenID Connect provider, found from its issuer URL alone.

Discovery (``/.well-known/openid-configuration``) names the JWKS; keys are cached for a
TTL and refetched early when a token names a key id not seen yet (the provider rotated
its keys). Such early refetches are rate-limited: a stream of tokens with invented key
ids cannot turn this service into a flood of requests to the provider.
"""

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
from jwt import PyJWK, PyJWKSet

from ocpo_coord.exceptions import Unauthenticated

Fetch = Callable[[str], dict[str, Any]]


def _get_json(url: str) -> dict[str, Any]:
    response = httpx.get(url, timeout=5.0, follow_redirects=False)
    response.raise_for_status()
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError(f"{url} did not answer a JSON object")
    return body


class OidcKeys:
    def __init__(
        self,
        issuer: str,
        *,
        ttl_seconds: float = 300,
        min_refetch_seconds: float = 10,
        fetch: Fetch = _get_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.ttl = ttl_seconds
        self.min_refetch = min_refetch_seconds
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, PyJWK] = {}
        self._jwks_uri: str | None = None
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._unknown_at: float | None = None

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def _discover(self) -> str:
        config = self._fetch(self.discovery_url)
        # OpenID Connect Discovery 1.0 section 4.3: the document must name the issuer asked.
        if str(config.get("issuer", "")).rstrip("/") != self.issuer:
            raise ValueError(f"discovery names issuer {config.get('issuer')!r}, not {self.issuer!r}")
        uri = config.get("jwks_uri")
        if not isinstance(uri, str) or not uri:
            raise ValueError("discovery names no jwks_uri")
        return uri

    def _refresh(self) -> None:
        if self._jwks_uri is None:
            self._jwks_uri = self._discover()
        key_set = PyJWKSet.from_dict(self._fetch(self._jwks_uri))
        self._keys = {str(k.key_id): k for k in key_set.keys if k.key_id}
        self._fetched_at = self._clock()

    def signing_key(self, token: str) -> Any:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"token is invalid: {exc}") from exc
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("token names no signing key (kid)")
        with self._lock:
            now = self._clock()
            if self._fetched_at is None or now - self._fetched_at >= self.ttl:
                # Failed attempts count: a provider that is down is not asked on every request.
                due = self._attempted_at is None or now - self._attempted_at >= self.min_refetch
            elif kid not in self._keys:
                # Rotation: refetch at once, but at most once per interval for unknown kids.
                due = self._unknown_at is None or now - self._unknown_at >= self.min_refetch
                if due:
                    self._unknown_at = now
            else:
                due = False
            if due:
                self._attempted_at = now
                try:
                    self._refresh()
                except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                    if not self._keys:
                        raise Unauthenticated(f"identity provider unavailable: {exc}") from exc
                    # Keep serving the keys we have while the provider is briefly away.
            key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated(f"token signing key not found: no key {kid!r} at {self.issuer}")
        return key.key
