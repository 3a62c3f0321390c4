"""Service settings, read from the environment with the ``OCPO_`` prefix."""

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def _default_state_dir() -> Path:
    # The signing key and the SQLite file live outside the repository by default,
    # so a clone never carries a key and two checkouts never share one by accident.
    return Path.home() / ".local" / "share" / "ocpo-coord"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OCPO_", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    state_dir: Path = _default_state_dir()
    database_url: str = ""
    installation_name: str = "ocpo-coord-local"

    # Tokens: production verifies against an OIDC provider's JWKS; the embedded
    # default signs with a local RSA key kept in ``state_dir``.
    jwt_issuer: str = "ocpo-coord-local"
    jwt_audience: str = "ocpo-coord"
    jwks_url: str = ""
    local_signing_key_path: Path | None = None
    token_ttl_minutes: int = 480

    graphiql: bool | None = None
    introspection: bool | None = None
    max_page_size: int = 100
    count_cap: int = 10_000

    @model_validator(mode="after")
    def _fill_defaults(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{self.state_dir / 'ocpo.db'}"
        if self.local_signing_key_path is None:
            self.local_signing_key_path = self.state_dir / "signing-key.pem"
        if self.environment is Environment.PRODUCTION and not self.jwks_url:
            raise ValueError(
                "OCPO_JWKS_URL must be set in production: the local signing key is for development only"
            )
        return self

    @property
    def graphiql_enabled(self) -> bool:
        if self.graphiql is not None:
            return self.graphiql
        return self.environment is not Environment.PRODUCTION

    @property
    def introspection_enabled(self) -> bool:
        if self.introspection is not None:
            return self.introspection
        return self.environment is Environment.DEVELOPMENT

    @property
    def signing_key_path(self) -> Path:
        assert self.local_signing_key_path is not None
        return self.local_signing_key_path


@lru_cache
def get_settings() -> Settings:
    return Settings()
