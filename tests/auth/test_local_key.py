"""The local signing key is made exactly once, whoever asks first, however many at once."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from ocpo_coord.app import create_app
from ocpo_coord.auth.keys import load_or_create_private_key
from ocpo_coord.config import Environment, Settings

RACERS = 6


def _cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ocpo_coord.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _finished(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out.strip()


async def test_six_first_tokens_at_once_are_all_accepted(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCPO_")}
    env["OCPO_STATE_DIR"] = str(state)
    _finished(_cli(["migrate"], env))
    _finished(_cli(["seed", "demo"], env))
    assert not (state / "signing-key.pem").exists()  # the race is the key's first making

    tokens = [_finished(p) for p in [_cli(["token", "unmik.analyst"], env) for _ in range(RACERS)]]

    # Only the key and the database are left in the state directory: no stray halves.
    assert sorted(p.name for p in state.iterdir() if "signing-key" in p.name) == ["signing-key.pem"]
    # The same installation as the commands': its state directory and its database.
    settings = Settings(
        state_dir=state, environment=Environment.TEST, database_url=f"sqlite:///{state / 'ocpo.db'}"
    )
    app = create_app(database_url=settings.database_url, settings=settings)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ocpo.test") as client:
            for token in tokens:
                answer = await client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
                assert answer.status_code == 200, answer.text
    finally:
        await app.state.sessionmaker.kw["bind"].dispose()


@pytest.mark.parametrize("round_", range(3))
def test_threads_racing_for_a_fresh_key_all_get_the_same_one(tmp_path: Path, round_: int) -> None:
    path = tmp_path / f"round-{round_}" / "signing-key.pem"
    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        keys: list[RSAPrivateKey] = list(pool.map(lambda _: load_or_create_private_key(path), range(RACERS)))
    numbers = {key.private_numbers().d for key in keys}
    assert numbers == {load_or_create_private_key(path).private_numbers().d}
    assert path.stat().st_mode & 0o077 == 0
    assert [p.name for p in path.parent.iterdir()] == ["signing-key.pem"]
