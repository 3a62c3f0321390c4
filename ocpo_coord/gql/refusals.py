"""Audits refused reads in GraphQL queries (node, case, ...), as the REST handler does."""

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from ocpo_coord.audit.service import record_refusal
from ocpo_coord.exceptions import Forbidden, NotFound


class AuditRefusals(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        result = self.execution_context.result
        actor = getattr(context, "actor", None)
        if result is None or actor is None or not result.errors:
            return
        for error in result.errors:
            if isinstance(error.original_error, NotFound | Forbidden):
                path = ".".join(str(p) for p in error.path or [])
                await record_refusal(
                    context.session,
                    actor=actor,
                    record_id=None,
                    detail=f"{path}: {error.original_error.message}",
                )
