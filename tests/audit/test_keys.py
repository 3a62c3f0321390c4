"""The audit log's checkpoint key: production refuses to start without one; development
creates one, once, whoever starts first."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ocpo_coord.app import create_app
from ocpo_coord.audit.keys import AuditKeyError, checkpoint_signer, create_key_file
from ocpo_coord.config import Settings

PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "jwks_url": "https://sso.example.org/realms/ocpo/protocol/openid-connect/certs",
    "jwt_issuer": "https://sso.example.org/realms/ocpo",
    "jwt_audience": "ocpo-coord",
    "database_url": "sqlite:///unused.db",
}


def test_production_refuses_to_start_without_the_audit_key(tmp_path: Path) -> None:
    settings = Settings(**PRODUCTION, state_dir=tmp_path)
    with pytest.raises(AuditKeyError, match="OCPO_AUDIT_KEY_PATH must be set in production"):
        create_app(settings=settings)
    missing = Settings(**PRODUCTION, state_dir=tmp_path, audit_key_path=tmp_path / "absent.key")
    with pytest.raises(AuditKeyError, match="cannot read the audit log key"):
        create_app(settings=missing)
    assert not (tmp_path / "absent.key").exists()  # production never makes one up


def test_a_key_of_another_installation_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.key"
    create_key_file(path, "another-installation")
    settings = Settings(environment="test", state_dir=tmp_path, audit_key_path=path)
    with pytest.raises(AuditKeyError, match="not of this installation"):
        checkpoint_signer(settings)


def test_processes_starting_at_once_share_one_development_key(tmp_path: Path) -> None:
    settings = Settings(environment="development", state_dir=tmp_path)
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = list(pool.map(lambda _: checkpoint_signer(settings).verifier().text(), range(16)))
    assert len(set(keys)) == 1
    assert settings.audit_key_path is not None
    assert settings.audit_key_path.stat().st_mode & 0o077 == 0
    assert [p.name for p in tmp_path.iterdir()] == ["audit-log.key"]
