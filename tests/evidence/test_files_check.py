"""``ocpo-coord files check``: a fixity sweep of the evidence file store."""

import hashlib
import os
import sys
from pathlib import Path

import anyio
import httpx
from sqlmodel import col, select

from ocpo_coord.evidence.store import FileStore
from ocpo_coord.models import Evidence
from tests.conftest import auth
from tests.fixtures.queries import rows


async def test_files_check_names_missing_altered_and_orphaned_files(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    # An item whose file the database says is kept: its bytes go to the service's store,
    # not to the store swept below, where it is therefore missing.
    data = b"scan of the seized ledger"
    digest = hashlib.sha256(data).hexdigest()
    cases = (
        await client.get("/api/v1/cases", params={"agency": "UNMIK", "limit": 1}, headers=auth("unmik.chief"))
    ).json()
    item = await client.post(
        "/api/v1/evidence",
        json={
            "case_id": cases["items"][0]["id"],
            "evidence_kind": "file",
            "title": "Ledger scan",
            "file_name": "ledger.pdf",
            "sha256": digest,
        },
        headers=auth("unmik.chief"),
    )
    assert item.status_code == 201, item.text
    sent = await client.put(
        f"/api/v1/evidence/{item.json()['id']}/file", content=data, headers=auth("unmik.chief")
    )
    assert sent.status_code in (200, 201), sent.text
    kept = {
        d
        for d in await rows(db_url, select(Evidence.sha256).where(col(Evidence.content_stored).is_(True)))
        if d
    }
    assert digest in kept
    store = FileStore(tmp_path / "files")
    # Another kept file is there but altered...
    altered = next(iter(sorted(kept - {digest})), None)
    if altered is not None:
        store.path(altered).parent.mkdir(parents=True, exist_ok=True)
        store.path(altered).write_bytes(b"not the file")
    # ... and two files nothing names: a copy nobody refers to and a leftover temporary.
    orphan = store.add_bytes(b"an orphan").sha256
    (store.root / "incoming").mkdir(exist_ok=True)
    (store.root / "incoming" / "0123abcd").write_bytes(b"half a file")

    env = {k: v for k, v in os.environ.items() if not k.startswith("OCPO_")}
    env |= {
        "OCPO_STATE_DIR": str(tmp_path / "state"),
        "OCPO_DATABASE_URL": db_url,
        "OCPO_FILE_STORE_DIR": str(store.root),
    }
    done = await anyio.run_process(
        [sys.executable, "-m", "ocpo_coord.cli", "files", "check"], env=env, check=False
    )
    assert done.returncode == 1, (done.stdout, done.stderr)
    out = done.stdout.decode()
    assert f"missing: {digest}" in out, out
    assert f"orphaned: {orphan[:2]}/{orphan}" in out, out
    assert "orphaned: incoming/0123abcd" in out, out
    if altered is not None:
        assert f"altered: {altered[:2]}/{altered}" in out, out
    assert b"Traceback" not in done.stderr
