"""Lists of ids reach PostgreSQL as one array parameter, never as one parameter per id.

An ``IN`` list is written out per value, so a bulk job's statements change text with
each list's length, and a statement repeated with lists of one length is prepared by
the driver and may run under a generic plan several times slower than the array's
(``db/queries.among``). Every statement of a handover's export and import and of a STIX
import and of the reads after them is watched here: no ``IN`` list among them may carry ids."""

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event

from ocpo_coord.bench.generate_stix import stix_bundle
from ocpo_coord.handover.importer import import_package
from tests.conftest import auth
from tests.fixtures.handover import IN, act, exported

ONLY_POSTGRES = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
_IN_LIST = re.compile(r"\bIN \(((?:%\(\w+\)s(?:::[\w\[\]]+)?(?:, )?)+)\)")
_NAME = re.compile(r"%\((\w+)\)s")
# The one list kept as an IN list, for the reason its builder gives
# (``deconfliction/repository.py:_collisions``): a create asks for one entity, and the
# join keeps a generic plan for one parameter, where the array's was planned afresh.
_KEPT = ("SELECT DISTINCT mine.entity_id, theirs.kind",)


@contextmanager
def _lists_of_ids() -> Iterator[list[str]]:
    """The statements sent meanwhile whose IN lists carry ids."""
    found: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if many or not isinstance(parameters, dict) or statement.startswith(_KEPT):
            return
        for members in _IN_LIST.findall(statement):
            values = [parameters.get(name) for name in _NAME.findall(members)]
            if any(isinstance(v, (uuid.UUID, str)) and _is_uuid(v) for v in values):
                found.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", watch)
    try:
        yield found
    finally:
        event.remove(Engine, "before_cursor_execute", watch)


def _is_uuid(value: object) -> bool:
    if isinstance(value, uuid.UUID):
        return True
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@ONLY_POSTGRES
async def test_a_handover_export_and_import_send_no_ids_as_in_lists(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    with _lists_of_ids() as found:
        _, summary = await exported(client, db_url, package)
        imported = await act(other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=package))
    assert imported.created == summary.records > 0
    assert found == [], "\n".join(sorted(set(found)))


@ONLY_POSTGRES
async def test_a_stix_import_and_the_reads_after_it_send_no_ids_as_in_lists(
    client: httpx.AsyncClient, db_url: str
) -> None:
    bundle = stix_bundle(120, seed="lists", shared=["+377 44 218 907"], theatre="KOS")
    headers = auth("eulex.prosecutor")
    with _lists_of_ids() as found:
        answer = await client.post(
            "/api/v1/stix/import", json=bundle, params={"theatre": "KOS"}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["created"]
        again = await client.post(
            "/api/v1/stix/import", json=bundle, params={"theatre": "KOS"}, headers=headers
        )
        assert again.json()["created"] == []
        for path in (
            "/api/v1/intel-items?limit=50",
            "/api/v1/entities?limit=50",
            "/api/v1/deconfliction-hits",
        ):
            listed = await client.get(path, headers=headers)
            assert listed.status_code == 200, (path, listed.text)
    assert found == [], "\n".join(sorted(set(found)))
