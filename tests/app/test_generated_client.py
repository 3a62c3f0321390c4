"""A client generated from ``/openapi.json`` by ``openapi-python-client`` walks the README's
tour: who am I, the cases one may read and their filters, the 404 of a case one may not
read, and an evidence file sent and fetched back.

The client is generated once per test run into a temporary directory (the generator is
not fast enough to run per test) and imported from there; its requests go to the app
over the same in-process HTTP as every other test. The generator runs from a tool
environment of its own (``.venv-tools/``, made on first use): it pins a command-line
library older than the one this project's own command needs, so the two cannot share
one environment. The generated client needs only httpx and attrs.
"""

import fcntl
import hashlib
import importlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from ocpo_coord.app import create_app
from tests.conftest import token_for

PACKAGE = "ocpo_generated_client"
GENERATOR = "openapi-python-client==0.29.1"
TOOLS = Path(__file__).resolve().parents[2] / ".venv-tools"


def _generator() -> Path:
    """The generator's command, installed into its own environment once (workers take
    turns through a lock file, so only one of them installs it)."""
    home = TOOLS / "openapi-python-client"
    command = home / "bin" / "openapi-python-client"
    TOOLS.mkdir(exist_ok=True)
    with (TOOLS / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not command.exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(home)], check=True)
            installed = subprocess.run(
                [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet", GENERATOR],
                capture_output=True,
                text=True,
                check=False,
            )
            assert installed.returncode == 0, f"could not install {GENERATOR}: {installed.stderr[-2000:]}"
    return command


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    generator = str(_generator())
    root = tmp_path_factory.mktemp("client")
    description = root / "openapi.json"
    description.write_text(json.dumps(create_app(database_url="sqlite://").openapi()))
    result = subprocess.run(
        [
            generator,
            "generate",
            "--path",
            str(description),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        check=False,
        # The generator formats its output with ruff, installed beside it.
        env={**os.environ, "PATH": f"{Path(generator).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def api(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


def signed_in(package: ModuleType, app: Any, login: str) -> Any:
    client = package.AuthenticatedClient(base_url="http://ocpo.test", token=token_for(login))
    transport = httpx.ASGITransport(app=app)
    client.set_async_httpx_client(
        httpx.AsyncClient(
            transport=transport,
            base_url="http://ocpo.test",
            headers={"Authorization": f"Bearer {token_for(login)}"},
        )
    )
    return client


async def test_a_generated_client_walks_the_readme_tour(generated: ModuleType, db_url: str) -> None:
    app = create_app(database_url=db_url)
    analyst = signed_in(generated, app, "unmik.analyst")
    chief = signed_in(generated, app, "unmik.chief")
    police = signed_in(generated, app, "kp.investigator")
    models = api(generated, "models")
    try:
        me = await api(generated, "api.directory.me_api_v1_me_get").asyncio(client=analyst)
        assert me.login == "unmik.analyst"

        list_cases = api(generated, "api.cases.list_cases_api_v1_cases_get")
        cases = await list_cases.asyncio(client=analyst, limit=20)
        assert cases.items, "the analyst reads cases"
        filtered = await list_cases.asyncio(
            client=analyst, crime_type=models.CrimeType.DRUG_TRAFFICKING, theatre="KOS"
        )
        assert all(c.theatre == "KOS" for c in filtered.items)

        get_case = api(generated, "api.cases.get_case_api_v1_cases_case_id_get")
        missing = await get_case.asyncio_detailed(uuid.UUID(int=0), client=police)
        assert missing.status_code == 404
        assert isinstance(missing.parsed, models.ErrorBody)
        assert missing.parsed.detail.code == "NOT_FOUND"

        own = await list_cases.asyncio(client=chief, agency="UNMIK", limit=1)
        content = b"scan of the seized ledger"
        create = api(generated, "api.evidence.create_evidence_api_v1_evidence_post")
        item = await create.asyncio(
            client=chief,
            body=models.EvidenceCreate(
                case_id=own.items[0].id,
                evidence_kind=models.EvidenceKind.FILE,
                title="Ledger scan",
                file_name="ledger.pdf",
                sha256=hashlib.sha256(content).hexdigest(),
            ),
        )
        assert isinstance(item, models.EvidencePublic), item
        put = api(generated, "api.evidence.put_evidence_file_api_v1_evidence_evidence_id_file_put")
        types = api(generated, "types")
        # The generated code sends ``payload`` as the body as it is; an async client needs
        # bytes there (a BytesIO is a synchronous stream to httpx).
        stored = await put.asyncio(
            item.id, client=chief, body=types.File(payload=content, file_name="ledger.pdf")
        )
        assert isinstance(stored, models.EvidencePublic), stored
        assert stored.content_stored is True
        fetch = api(generated, "api.evidence.get_evidence_file_api_v1_evidence_evidence_id_file_get")
        back = await fetch.asyncio_detailed(item.id, client=chief)
        assert back.status_code == 200
        assert back.content == content
    finally:
        for client in (analyst, chief, police):
            await client.get_async_httpx_client().aclose()
        await app.state.sessionmaker.kw["bind"].dispose()
