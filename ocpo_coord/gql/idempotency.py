"""Idempotency-Key on GraphQL mutations, with the REST semantics (``api/idempotency``).

A mission's link drops after a mutation was sent: the client cannot know whether it
ran. Sent again with the same ``Idempotency-Key`` and the same operation and
variables, it is answered what the first answered (``Idempotent-Replayed: true``) and
runs nothing. The same key with another operation or other variables is refused (422);
a twin arriving while the first still runs gets 409 and may retry. The kept answer
commits with the mutation's own writes, in the request's one transaction, so there is
never one without the other.
"""

import hashlib
import re
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from graphql import ExecutionResult as GraphQLExecutionResult
from sqlalchemy.exc import IntegrityError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from ocpo_coord.audit.canonical import canonical_json
from ocpo_coord.exceptions import Conflict, InvalidInput, OcpoError
from ocpo_coord.models import IdempotencyRecord

HEADER = "Idempotency-Key"
ROUTE = "POST /graphql"
_KEY = re.compile(r"[\x21-\x7e]{8,200}")


def refuse_instead(request: Request, error: OcpoError) -> None:
    """Answer ``error`` (in the REST error shape) instead of the operation's result."""
    request.state.graphql_refusal = error


def raise_refusal(request: Request) -> None:
    refusal = getattr(request.state, "graphql_refusal", None)
    if isinstance(refusal, OcpoError):
        raise refusal


class IdempotentMutations(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context: Any = execution.context
        request = getattr(context, "http_request", None)
        key = request.headers.get(HEADER) if isinstance(request, Request) else None
        actor = getattr(context, "actor", None)
        if key is None or actor is None or execution.operation_type is not OperationType.MUTATION:
            yield
            return
        assert isinstance(request, Request)
        if not _KEY.fullmatch(key):
            refuse_instead(request, InvalidInput("must be 8 to 200 visible ASCII characters", field=HEADER))
            execution.result = GraphQLExecutionResult(data=None)
            yield
            return
        record = await self._claim(context, request, actor, key)
        if record is None:
            execution.result = GraphQLExecutionResult(data=None)
            yield
            return
        if record.response_body is not None:  # a retry: the kept answer, nothing run
            execution.result = GraphQLExecutionResult(data=record.response_body.get("data"))
            context.response.headers["Idempotent-Replayed"] = "true"
            yield
            return
        yield
        result = execution.result
        if isinstance(result, GraphQLExecutionResult) and not result.errors:
            record.status_code = 200
            record.response_body = {"data": result.data}
            await context.session.flush()

    async def _claim(self, context: Any, request: Request, actor: Any, key: str) -> IdempotencyRecord | None:
        """The key's record: kept from an earlier request, or claimed now (None: refused)."""
        execution = self.execution_context
        operation = {
            "query": execution.query,
            "variables": execution.variables or {},
            "operationName": execution.operation_name,
        }
        digest = hashlib.sha256(canonical_json(operation).encode()).hexdigest()
        session = context.session
        kept: IdempotencyRecord | None = await session.get(IdempotencyRecord, (actor.principal.user_id, key))
        if kept is not None:
            if kept.route != ROUTE or kept.request_hash != digest:
                refuse_instead(
                    request, InvalidInput("was already used with a different request", field=HEADER)
                )
                return None
            if kept.response_body is None:
                refuse_instead(
                    request, Conflict("a request with this key is still being processed", field=HEADER)
                )
                return None
            return kept
        record = IdempotencyRecord(
            user_id=actor.principal.user_id, key=key, route=ROUTE, request_hash=digest, created_at=actor.now
        )
        session.add(record)
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError:
            refuse_instead(
                request, Conflict("a request with this key is still being processed", field=HEADER)
            )
            return None
        return record
