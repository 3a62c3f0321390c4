"""Service settings, read from the environment with the ``OCPO_`` prefix."""

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ocpo_coord.logging_setup import LogFormat


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


_LOCAL_ISSUER = "ocpo-coord-local"
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


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
    # Evidence files, kept by their SHA-256. Every service process of an installation
    # must see the same directory (a shared volume once there are several machines).
    file_store_dir: Path | None = None
    max_file_bytes: int = 4 * 1024**3

    # Tokens: production verifies against an OIDC provider's JWKS; the embedded
    # default signs with a local RSA key kept in ``state_dir``.
    jwt_issuer: str = _LOCAL_ISSUER
    jwt_audience: str = "ocpo-coord"
    jwks_url: str = ""
    local_signing_key_path: Path | None = None
    # OpenID Connect: the issuer URL alone is enough; discovery names the JWKS, and the
    # issuer is then what every token's ``iss`` must be.
    oidc_issuer: str = ""
    # Either way the keys are kept this long; a token naming an unknown kid refetches
    # them at once, at most once every 10 s.
    jwks_cache_seconds: int = 300
    # Clocks differ: a token issued a few seconds "in the future" (iat, nbf) or expired a
    # few seconds ago is still taken within this margin.
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    # The claim that names the user's login (Keycloak: preferred_username).
    jwt_user_claim: str = "preferred_username"
    token_ttl_minutes: int = 480

    graphiql: bool | None = None
    introspection: bool | None = None
    max_page_size: int = 100
    # totalCount stops here ("1,000 or more"): counting further would make every page
    # pay for the size of what the reader may see.
    count_cap: int = 1_000

    # /metrics: with a token, for any client presenting it as a bearer token; without
    # one, for clients on the loopback interface only.
    metrics_token: str = ""

    log_format: LogFormat = LogFormat.JSON
    log_level: str = "INFO"
    # Browser origins allowed to call the API, comma-separated; none: no CORS headers at all.
    cors_origins: Annotated[list[str], NoDecode] = []

    @field_validator("log_level", mode="before")
    @classmethod
    def _known_level(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().upper()
            if value not in _LOG_LEVELS:
                raise ValueError(f"unknown log level {value!r}: one of {', '.join(_LOG_LEVELS)}")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part for part in (item.strip() for item in value.split(",")) if part]
        if isinstance(value, list):
            return [_origin(item) if isinstance(item, str) else item for item in value]
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> "Settings":
        default_database = not self.database_url
        if default_database:
            self.database_url = f"sqlite:///{self.state_dir / 'ocpo.db'}"
        if self.local_signing_key_path is None:
            self.local_signing_key_path = self.state_dir / "signing-key.pem"
        if self.file_store_dir is None:
            self.file_store_dir = self.state_dir / "files"
        if self.environment is Environment.PRODUCTION:
            problems = self._production_problems(default_database=default_database)
            if problems:
                raise ValueError("refusing to start in production:\n- " + "\n- ".join(problems))
        return self

    def _production_problems(self, *, default_database: bool) -> list[str]:
        """Every development default that must not reach production, all named at once."""
        problems = []
        if not self.jwks_url and not self.oidc_issuer:
            problems.append(
                "OCPO_JWKS_URL must be set in production, or OCPO_OIDC_ISSUER: "
                "the local signing key is for development only"
            )
        if default_database:
            problems.append(
                "OCPO_DATABASE_URL must be set in production: the default is a SQLite file in the state directory"
            )
        if not self.oidc_issuer and (
            "jwt_issuer" not in self.model_fields_set or self.jwt_issuer in ("", _LOCAL_ISSUER)
        ):
            problems.append("OCPO_JWT_ISSUER must be set in production to the identity provider's issuer")
        if "jwt_audience" not in self.model_fields_set or not self.jwt_audience:
            problems.append(
                "OCPO_JWT_AUDIENCE must be set in production to the audience the identity provider "
                "puts in this service's tokens"
            )
        if self.graphiql:
            problems.append("OCPO_GRAPHIQL must not be turned on in production")
        if self.introspection:
            problems.append(
                "OCPO_INTROSPECTION must not be turned on in production: it publishes the whole schema"
            )
        return problems

    @property
    def token_issuer(self) -> str:
        """The ``iss`` every token must carry: the OIDC issuer when one is configured."""
        return self.oidc_issuer.rstrip("/") if self.oidc_issuer else self.jwt_issuer

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


def _origin(value: str) -> str:
    """``scheme://host[:port]`` exactly as a browser sends it in ``Origin``, or ``*``."""
    value = value.rstrip("/")
    if value == "*":
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        raise ValueError(f"CORS origin {value!r} must look like https://host[:port], with no path")
    return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
