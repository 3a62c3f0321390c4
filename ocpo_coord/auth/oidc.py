"""Signing keys of an OpenID Connect provider, found from its issuer URL alone.

Discovery (``/.well-known/openid-configuration``) names the JWKS; from there on the keys
are cached and refetched as for a configured JWKS URL (see ``jwks.JwksKeys``).
"""

from typing import Any

from ocpo_coord.auth.jwks import JwksKeys


class OidcKeys(JwksKeys):
    def __init__(self, issuer: str, **options: Any) -> None:
        """``options`` as for ``JwksKeys``: the TTL, the refetch limit, a fetch and a clock."""
        super().__init__("", **options)
        self.issuer = issuer.rstrip("/")
        self._discovered: str | None = None

    @property
    def source(self) -> str:
        return self.issuer

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def jwks_uri(self) -> str:
        if self._discovered is None:
            config = self._fetch(self.discovery_url)
            # OpenID Connect Discovery 1.0 section 4.3: the document must name the issuer asked.
            if str(config.get("issuer", "")).rstrip("/") != self.issuer:
                raise ValueError(f"discovery names issuer {config.get('issuer')!r}, not {self.issuer!r}")
            uri = config.get("jwks_uri")
            if not isinstance(uri, str) or not uri:
                raise ValueError("discovery names no jwks_uri")
            self._discovered = uri
        return self._discovered
