"""Idempotency-Key for REST creates (IETF draft-ietf-httpapi-idempotency-key-header).

The first request with a key creates and its answer is kept; a retry with the same
key and the same body gets that answer again and creates nothing. The same key with
another body is refused (422); a twin arriving while the first is still running gets
409 and may retry.
"""

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.api.concurrency import etag
from ocpo_coord.audit.canonical import canonical_json
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import Conflict, InvalidInput
from ocpo_coord.models import IdempotencyRecord

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Any unique string (a UUID is ideal); a retry with the same key creates nothing new.",
    ),
]

P = TypeVar("P", bound=BaseModel)


async def idempotent_create(
    session: AsyncSession,
    *,
    actor: Actor,
    request: Request,
    key: str | None,
    body: BaseModel,
    create: Callable[[], Awaitable[P]],
) -> P | JSONResponse:
    if key is None:
        return await create()
    route = f"{request.method} {request.url.path}"
    digest = hashlib.sha256(canonical_json(body.model_dump(mode="json")).encode()).hexdigest()
    kept = await session.get(IdempotencyRecord, (actor.principal.user_id, key))
    if kept is not None:
        if kept.route != route or kept.request_hash != digest:
            raise InvalidInput("was already used with a different request", field="Idempotency-Key")
        if kept.response_body is None:
            raise Conflict("a request with this key is still being processed", field="Idempotency-Key")
        version = kept.response_body.get("version")
        headers = {"Idempotent-Replayed": "true"}
        if isinstance(version, int):
            headers["ETag"] = etag(version)
        return JSONResponse(kept.response_body, status_code=kept.status_code, headers=headers)
    record = IdempotencyRecord(
        user_id=actor.principal.user_id, key=key, route=route, request_hash=digest, created_at=actor.now
    )
    session.add(record)
    try:
        # Claim the key before doing the work: a concurrent twin waits on this row
        # and then fails its own insert instead of creating a second record.
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict("a request with this key is still being processed", field="Idempotency-Key") from exc
    created = await create()
    record.status_code = 201
    record.response_body = created.model_dump(mode="json")
    await session.flush()
    return created
