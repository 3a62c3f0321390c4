"""Service settings, read from the environment with the ``OCPO_`` prefix."""

from datetime import date
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, PositiveFloat, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ocpo_coord.logging_setup import LogFormat


class ApiDocs(StrEnum):
    """Who may read /docs, /redoc and /openapi.json."""

    PUBLIC = "public"
    SIGNED_IN = "signed_in"
    OFF = "off"


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

    # The audit log's checkpoint signing key (Ed25519, a C2SP signer key; its name is
    # ``installation_name``, the log's origin). Production names a file; development
    # creates one in ``state_dir``.
    audit_key_path: Path | None = None
    # Whether the service runs the audit sequencer (one active among all processes);
    # off when ``ocpo-coord audit sequence`` runs as a worker of its own.
    audit_sequencer: bool = True
    # How often the sequencer looks for committed entries: it bounds the delay from
    # commit to a signed checkpoint.
    audit_integration_seconds: float = 0.5

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
    # No token is accepted that lives longer than this from its issue (``iat``).
    max_token_lifetime_minutes: int = 24 * 60
    # /docs, /redoc and /openapi.json: public by default outside production, off in it.
    api_docs: ApiDocs | None = None

    # Bounds on waiting for the database, in seconds: a new connection, one statement's
    # answer (the server cancels it; the service gives up 2 s later), a free connection
    # from the pool, and the readiness probe. Past them the request is answered 503.
    db_connect_timeout_seconds: float = 5.0
    db_statement_timeout_seconds: float = 30.0
    db_pool_timeout_seconds: float = 10.0
    ready_timeout_seconds: float = 1.0

    # What one client may hold of the HTTP server (``http_server``): the size of a
    # request's headers, the time they may take, and silence in the middle of a body.
    max_header_bytes: int = 32 * 1024
    header_timeout_seconds: float = 10.0
    body_idle_timeout_seconds: float = 30.0

    # Requests served at once by one process; the next are answered 503 at once
    # (``api/admission``). 0: no limit.
    max_requests_in_flight: int = 32

    graphiql: bool | None = None
    introspection: bool | None = None
    max_page_size: int = 100
    # SQLite lets one transaction write at a time: how long a request waits for its turn
    # before it is answered 503 with Retry-After. Bounded, so a stuck writer cannot
    # hold every client forever; long enough to outlast any ordinary request queue.
    sqlite_wait_seconds: PositiveFloat = 30.0
    # totalCount stops here ("1,000 or more"): counting further would make every page
    # pay for the size of what the reader may see.
    count_cap: int = 1_000

    # /metrics: with a token, for any client presenting it as a bearer token; without
    # one, for clients on the loopback interface only.
    metrics_token: str = ""

    # Development only: the day the service takes for today, so that the demo's 2007-2009
    # story reads as it happened (overdue work, tours, the matrix). Refused in production.
    demo_today: date | None = None

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

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        return supported_database_url(value) if value else value

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
        if self.audit_key_path is None and self.environment is not Environment.PRODUCTION:
            self.audit_key_path = self.state_dir / "audit-log.key"
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
        if "*" in self.cors_origins:
            problems.append("OCPO_CORS_ORIGINS must name the origins in production, not '*'")
        for name, url in (("OCPO_JWKS_URL", self.jwks_url), ("OCPO_OIDC_ISSUER", self.oidc_issuer)):
            if url and urlsplit(url).scheme != "https" and not _loopback(url):
                problems.append(
                    f"{name} must be an https URL in production: keys fetched over http can be forged"
                )
        if self.graphiql:
            problems.append("OCPO_GRAPHIQL must not be turned on in production")
        if self.demo_today is not None:
            problems.append(
                "OCPO_DEMO_TODAY is for development only: production always runs on the real time"
            )
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
    def api_docs_mode(self) -> ApiDocs:
        if self.api_docs is not None:
            return self.api_docs
        return ApiDocs.OFF if self.environment is Environment.PRODUCTION else ApiDocs.PUBLIC

    @property
    def introspection_enabled(self) -> bool:
        if self.introspection is not None:
            return self.introspection
        return self.environment is Environment.DEVELOPMENT

    @property
    def signing_key_path(self) -> Path:
        assert self.local_signing_key_path is not None
        return self.local_signing_key_path


_DATABASES = ("sqlite", "postgresql")


def supported_database_url(value: str) -> str:
    """A URL of a database this service runs on, refused early and by name otherwise."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    hint = "use sqlite:///path/to/file.db or postgresql://user@host:5432/database"
    try:
        parsed = make_url(value)
    except ArgumentError:
        raise ValueError(f"not a database URL; {hint}") from None
    backend = "postgresql" if parsed.get_backend_name() == "postgres" else parsed.get_backend_name()
    if backend not in _DATABASES:
        raise ValueError(f"{backend} is not supported (SQLite and PostgreSQL are); {hint}")
    return value


def _loopback(url: str) -> bool:
    """A provider on this host (a sidecar): nothing on the network sees the keys pass."""
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


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
