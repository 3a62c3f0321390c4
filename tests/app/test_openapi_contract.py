"""The OpenAPI description as tools nobody here wrote read it.

``openapi-spec-validator`` accepts ``/openapi.json``; schemathesis, with every check it has
(not only "no server error": undeclared methods and their ``Allow`` header, documented
status codes, schema-valid input accepted, schema-invalid input refused, ...), finds
nothing at a bounded number of examples per operation. ``OCPO_CONTRACT_EXAMPLES`` raises
that bound; ``OCPO_CONTRACT_LONG=1`` (set by CI) adds a longer run on SQLite, with more
examples (``OCPO_CONTRACT_LONG_EXAMPLES``, 6) and schemathesis's stateful phase.

What the description cannot say is left to the service: an agency code that does not
exist, a cursor it never gave out, an end before a start. A request valid by the
description may be refused for those (422, with the domain's message), never by schema
validation itself, which would mean the description promises what the service refuses.
"""

import json
import os
import re
from typing import Any

import httpx
import pytest
import schemathesis
from openapi_spec_validator import validate
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import CaseMetadata

from ocpo_coord.app import create_app
from tests.app.test_fuzz_api import Case, served
from tests.conftest import auth

LOGIN = "unmik.chief"


async def test_the_description_passes_openapi_spec_validator(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    validate(response.json())


def test_string_enums_have_string_defaults(db_url: str) -> None:
    description = create_app(database_url=db_url).openapi()
    schemas = description["components"]["schemas"]
    assert schemas["MarkingsInput"]["properties"]["classification"]["default"] == "RESTRICTED"
    assert schemas["AgreementCreate"]["properties"]["max_classification"]["default"] == "RESTRICTED"


def test_update_bodies_declare_null_only_where_null_is_taken(db_url: str) -> None:
    """PATCH bodies: a field that refuses null is not described as ``string | null``."""
    schemas = create_app(database_url=db_url).openapi()["components"]["schemas"]
    title = schemas["CaseUpdate"]["properties"]["title"]
    assert title.get("type") == "string", title
    assert "anyOf" not in title
    assert "default" not in title
    # markings: null is taken (it clears nothing but means "keep"); it stays nullable.
    assert {"type": "null"} in schemas["CaseUpdate"]["properties"]["markings"]["anyOf"]


async def test_an_undeclared_method_names_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    headers = auth(LOGIN)
    answers = {
        "/api/v1/cases": await client.delete("/api/v1/cases", headers=headers),
        "/api/v1/sharing-groups/{id}": await client.request(
            "OPTIONS", "/api/v1/sharing-groups/00000000-0000-4000-8000-000000000000", headers=headers
        ),
        "/api/v1/tasks/summary": await client.patch("/api/v1/tasks/summary", headers=headers),
    }
    allowed = {path: (a.status_code, a.headers.get("allow")) for path, a in answers.items()}
    assert allowed == {
        "/api/v1/cases": (405, "GET, POST"),
        "/api/v1/sharing-groups/{id}": (405, "DELETE, GET, PATCH"),
        "/api/v1/tasks/summary": (405, "GET"),
    }


async def test_a_body_that_is_not_utf8_json_is_a_documented_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/cases",
        content=b'{"title": "\xff"}',
        headers={**auth(LOGIN), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "BAD_REQUEST"
    description = (await client.get("/openapi.json")).json()
    assert "400" in description["paths"]["/api/v1/cases"]["post"]["responses"]
    # Where no body is read, no 400 is promised.
    assert "400" not in description["paths"]["/api/v1/cases"]["get"]["responses"]


async def test_numbers_are_not_taken_for_dates_booleans_or_integers(client: httpx.AsyncClient) -> None:
    headers = auth(LOGIN)
    answers = [
        await client.get("/api/v1/audit-events", params={"since": "0.5"}, headers=headers),
        await client.post(
            "/api/v1/cases",
            json={"title": "Fuel at Jarinje", "theatre": "KOS", "markings": {"nohost": 0}},
            headers=headers,
        ),
        await client.post(
            "/api/v1/handover-checklist", json={"title": "Brief", "sort_order": False}, headers=headers
        ),
    ]
    answers.append(
        await client.post(
            "/api/v1/intel-items",
            json={
                "title": "Truck at Jarinje",
                "content": "Loaded after midnight.",
                "information_date": 1212364800,
                "source_reliability": "B",
                "information_credibility": "2",
                "theatre": "KOS",
            },
            headers=headers,
        )
    )
    assert [a.status_code for a in answers] == [422] * 4, [a.text for a in answers]
    assert [a.json()["detail"]["field"] for a in answers] == [
        "since",
        "markings.nohost",
        "sort_order",
        "information_date",
    ]


def test_bounds_are_described_as_json_schema_has_them(db_url: str) -> None:
    """``minimum``, never pydantic's own ``ge`` that no tool reads."""
    description = json.dumps(create_app(database_url=db_url).openapi())
    assert not re.findall(r'"(ge|le|gt|lt)": ', description)
    version = json.loads(description)["components"]["schemas"]["CaseUpdate"]["properties"]["expected_version"]
    assert {"type": "integer", "minimum": 1} in version["anyOf"]


@schemathesis.check
def refused_only_for_what_the_description_cannot_say(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    """A 422 to schema-valid input comes from the service's own rules, not from the
    framework's validation of the schema (whose answers list ``errors``); cross-field
    rules of the models ("Value error, ...") are the service's own too."""
    meta = case.meta
    if not isinstance(meta, CaseMetadata) or meta.generation.mode is not GenerationMode.POSITIVE:
        return None
    if any(component.mode is not GenerationMode.POSITIVE for component in meta.components.values()):
        return None
    if response.status_code != 422:
        return None
    errors = response.json()["detail"].get("errors") or []
    schema_errors = [e for e in errors if not str(e.get("message", "")).startswith("Value error")]
    assert not schema_errors, f"input valid by the description refused by schema validation: {schema_errors}"
    return None


def test_schemathesis_with_all_checks_finds_nothing(db_url: str, backend: str) -> None:
    examples = int(os.environ.get("OCPO_CONTRACT_EXAMPLES", "2" if backend == "sqlite" else "1"))
    _contract_run(db_url, examples=examples, stateful=False)


# The longer run: more examples per operation, and the stateful phase, which chains
# operations through the links schemathesis infers (an id a POST answered, fed to the GET,
# PATCH and DELETE of that record). CI sets OCPO_CONTRACT_LONG (about two minutes on two
# cores, SQLite only: the same description and rules serve both databases).
LONG = os.environ.get("OCPO_CONTRACT_LONG", "") not in ("", "0")


@pytest.mark.skipif(not LONG, reason="the longer schemathesis run: set OCPO_CONTRACT_LONG=1 (CI does)")
def test_a_longer_schemathesis_run_finds_nothing(db_url: str, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the longer run is on SQLite; the bounded run covers PostgreSQL")
    examples = int(os.environ.get("OCPO_CONTRACT_LONG_EXAMPLES", "6"))
    _contract_run(db_url, examples=examples, stateful=True)


def _contract_run(db_url: str, *, examples: int, stateful: bool) -> None:
    config = SchemathesisConfig.from_dict(
        {
            "headers": auth(LOGIN),
            "generation": {"max-examples": examples, "deterministic": True},
            "checks": {
                "enabled": True,
                # 412: an If-Match that is not the current version (RFC 9110); 422: see the module's
                # docstring and the check above.
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "403", "404", "409", "412", "422"]
                },
                # A failed precondition refuses the request before its body is read.
                "negative_data_rejection": {
                    "expected-statuses": [
                        "400",
                        "401",
                        "403",
                        "404",
                        "405",
                        "406",
                        "409",
                        "412",
                        "413",
                        "415",
                        "422",
                        "428",
                        "429",
                    ]
                },
            },
            # The stateful phase follows links inferred from the answers (the description
            # declares none); bounded in steps, it runs only in the longer run.
            "phases": {"stateful": {"enabled": stateful, "max-steps": 12}},
        }
    )
    failures: list[str] = []
    errors: list[str] = []
    links: list[int] = []  # the stateful phase's inferred links, when it runs
    with served(db_url) as app:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
        for event in from_schema(schema).execute():
            if isinstance(event, events.PhaseStarted) and event.payload is not None:
                links.append(event.payload.transitions_selected)
            if isinstance(event, events.NonFatalError):
                errors.append(f"{event.label}: {event.value}")
            if not isinstance(event, events.ScenarioFinished):
                continue
            recorder = event.recorder
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    interaction = recorder.interactions.get(case_id)
                    answer: Any = interaction.response if interaction else None
                    failures.append(
                        f"{check.name} on {recorder.label}: {check.failure_info.failure.title}\n"
                        f"  {check.failure_info.failure.message.splitlines()[0]}\n"
                        f"  {recorder.cases[case_id].value.as_curl_command()[:400]}\n"
                        f"  -> {answer.status_code if answer else '-'} "
                        f"{(answer.content[:300] if answer else b'')!r}"
                    )
    assert not errors, "\n".join(errors)
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)
    if stateful:
        assert sum(links) > 0, "the stateful phase found no link to follow"
