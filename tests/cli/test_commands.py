"""The ocpo-coord command, run as a user runs it: a real process on a fresh database."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ocpo_coord.auth.tokens import verify_token
from ocpo_coord.config import Settings


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocpo_coord.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCPO_")}
    env["OCPO_STATE_DIR"] = str(tmp_path / "state")
    return env


def test_migrate_seed_twice_and_mint_a_token(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert _run(["migrate"], cli_env).returncode == 0
    first = _run(["seed", "demo"], cli_env)
    assert first.returncode == 0, first.stderr
    assert "demo data loaded" in first.stdout
    second = _run(["seed", "demo"], cli_env)
    assert "already present" in second.stdout
    minted = _run(["token", "unmik.analyst"], cli_env)
    assert minted.returncode == 0, minted.stderr
    token = minted.stdout.strip()
    settings = Settings(state_dir=tmp_path / "state")
    assert verify_token(settings, token)["preferred_username"] == "unmik.analyst"
    # The key lives in the state directory, readable by its owner only.
    key = tmp_path / "state" / "signing-key.pem"
    assert key.exists()
    assert key.stat().st_mode & 0o077 == 0


def test_token_for_unknown_user_fails_clearly(cli_env: dict[str, str]) -> None:
    assert _run(["migrate"], cli_env).returncode == 0
    result = _run(["token", "nobody"], cli_env)
    assert result.returncode == 1
    assert "no user with login 'nobody'" in result.stderr


def test_serve_answers_over_http(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert _run(["migrate"], cli_env).returncode == 0
    assert _run(["seed", "demo"], cli_env).returncode == 0
    token = _run(["token", "kp.investigator"], cli_env).stdout.strip()
    server = subprocess.Popen(
        [sys.executable, "-m", "ocpo_coord.cli", "serve", "--port", "0"],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = None
        for line in server.stdout:
            if "Uvicorn running on" in line:
                port = int(line.rsplit(":", 1)[1].split()[0])
                break
        assert port, "server did not start"
        response = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/cases", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200
        assert response.json()["total_count"] == 5
    finally:
        server.terminate()
        server.wait(timeout=20)
        if server.stdout is not None:
            server.stdout.close()
