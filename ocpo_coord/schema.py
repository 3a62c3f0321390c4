"""The GraphQL schema, its limits, and its router."""

from collections.abc import Iterable
from functools import partial
from typing import Any

import orjson
import strawberry
from fastapi import Request
from fastapi.responses import HTMLResponse
from graphql import GraphQLError, GraphQLInputObjectType, GraphQLNonNull, Undefined
from graphql.utilities.get_default_value_ast import get_default_value_ast
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult

from ocpo_coord.access.gql import AccessMutation, AccessQuery
from ocpo_coord.api.deps import request_id
from ocpo_coord.api.errors import internal_error_message
from ocpo_coord.api.unavailable import raise_outage, set_aside_outage
from ocpo_coord.case.gql import CaseMutation, CaseQuery
from ocpo_coord.config import get_settings
from ocpo_coord.coordination.gql import CoordinationMutation, CoordinationQuery
from ocpo_coord.deconfliction.gql import DeconflictionMutation, DeconflictionQuery
from ocpo_coord.directory.gql import DirectoryQuery
from ocpo_coord.entity.gql import EntityMutation, EntityQuery
from ocpo_coord.evidence.gql import EvidenceMutation
from ocpo_coord.exceptions import OcpoError
from ocpo_coord.gql.common import camel
from ocpo_coord.gql.context import get_context
from ocpo_coord.gql.execution import LeanExecutionContext
from ocpo_coord.gql.idempotency import IdempotentMutations, raise_refusal
from ocpo_coord.gql.node import NodeQuery, undeclared_types
from ocpo_coord.gql.refusals import AuditRefusals
from ocpo_coord.gql.suggestions import HideSuggestions
from ocpo_coord.handover.gql import HandoverMutation, HandoverQuery
from ocpo_coord.intel.gql import IntelMutation, IntelQuery
from ocpo_coord.note.gql import NoteMutation
from ocpo_coord.notification.gql import NotificationMutation, NotificationQuery
from ocpo_coord.oversight.gql import AuditQuery
from ocpo_coord.records.kinds import undeclared
from ocpo_coord.sharing.gql import SharingAdminMutation, SharingAdminQuery
from ocpo_coord.stix.gql import StixQuery
from ocpo_coord.task.gql import TaskMutation, TaskQuery
from ocpo_coord.web.ide import GRAPHIQL_PAGE

Query = merge_types(
    "Query",
    (
        DirectoryQuery,
        AccessQuery,
        AuditQuery,
        NodeQuery,
        CaseQuery,
        IntelQuery,
        TaskQuery,
        EntityQuery,
        SharingAdminQuery,
        HandoverQuery,
        CoordinationQuery,
        DeconflictionQuery,
        NotificationQuery,
        StixQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        AccessMutation,
        CaseMutation,
        IntelMutation,
        TaskMutation,
        NoteMutation,
        EvidenceMutation,
        EntityMutation,
        SharingAdminMutation,
        HandoverMutation,
        CoordinationMutation,
        DeconflictionMutation,
        NotificationMutation,
    ),
)


def _expected(error: GraphQLError) -> bool:
    """Domain errors and errors in the operation itself (syntax, validation, limits)
    are the caller's to read; anything raised by our code otherwise is masked."""
    original = error.original_error
    # Variable coercion wraps GraphQL's own error: the caller's mistake, not ours.
    return original is None or isinstance(original, OcpoError | GraphQLError)


def _masked(error: GraphQLError, request_id: str) -> GraphQLError:
    """An unexpected error as REST answers one: the request id to quote, nothing of
    the cause (which the server logs); where it happened, so the rest of the answer
    can be read."""
    return GraphQLError(
        internal_error_message(request_id),
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL_ERROR"},
    )


class OcpoSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Domain errors keep their message and gain a code; anything else rolls back."""
        context: Any = execution_context.context if execution_context else None
        if context is not None and hasattr(context, "http_request"):
            # An outage is answered 503 for the whole operation (see ``_Router``).
            errors = set_aside_outage(errors, context.http_request)
        rollback = False
        for error in errors:
            original = error.original_error
            if original is None or (
                isinstance(original, GraphQLError) and not isinstance(original, OcpoError)
            ):
                continue
            if isinstance(original, OcpoError):
                error.extensions = {
                    **(error.extensions or {}),
                    "code": original.code,
                    "field": camel(original.field),
                }
            else:
                rollback = True
        if rollback and context is not None and hasattr(context, "http_request"):
            context.http_request.state.rollback = True
        super().process_errors([e for e in errors if not _expected(e)], execution_context)


# The limits' validation rules, made once. ValidationCache keys its entries on the rule
# classes as well as the document, and each limiter instance makes new classes: with
# a limiter per operation, every operation was validated afresh.
_LIMIT_RULES = (
    QueryDepthLimiter(max_depth=10).validation_rules + MaxAliasesLimiter(max_alias_count=30).validation_rules
)


def build_schema(*, introspection: bool = True, serving: bool = True) -> strawberry.Schema:
    """The schema; ``serving=False`` leaves out the request-time auditing, so the schema
    can also be executed synchronously (export, introspection by tools)."""
    missing = sorted({*undeclared(), *undeclared_types()})
    if missing:
        raise RuntimeError(f"record kinds not declared: {', '.join(k.value for k in missing)}")
    # Factories, not instances: each operation gets fresh extension state.
    extensions: list[Any] = [
        partial(AddValidationRules, _LIMIT_RULES),
        partial(MaxTokensLimiter, max_token_count=4000),
        partial(ParserCache, maxsize=256),
        partial(ValidationCache, maxsize=256),
    ]
    if serving:
        # Served over HTTP, the router masks (``_Router.process_result``).
        extensions.extend((AuditRefusals, IdempotentMutations))
    else:
        extensions.append(partial(MaskErrors, should_mask_error=lambda error: not _expected(error)))
    if not introspection:
        extensions.extend([DisableIntrospection, HideSuggestions])
    built = OcpoSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=LeanExecutionContext,
    )
    _drop_object_defaults(built)
    return built


def _drop_object_defaults(built: strawberry.Schema) -> None:
    """Input fields whose default is an object (default markings, empty attributes)
    cannot be written in introspection, which then fails for GraphiQL and other tools.
    They lose their GraphQL default and become optional; a field left out still gets
    the default from the model."""
    for graphql_type in built._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLInputObjectType):
            continue
        for field in graphql_type.fields.values():
            if field.default_value is Undefined:
                continue
            try:
                get_default_value_ast(field)
            except TypeError:
                field.default_value = Undefined
                # Still optional for the client, as the model's default makes it.
                if isinstance(field.type, GraphQLNonNull):
                    field.type = field.type.of_type


# The schema `strawberry export-schema ocpo_coord.schema:schema` writes to
# graphql/schema.graphql.
schema = build_schema(serving=False)


# A GraphQL request's JSON is an operation and its variables: a few levels deep. Far
# deeper nesting is an attack on whatever walks it afterwards (coercion, validation).
MAX_JSON_DEPTH = 32


def _deeper_than(value: object, limit: int) -> bool:
    containers: list[tuple[object, int]] = [(value, 1)]
    while containers:
        current, depth = containers.pop()
        if depth > limit:
            return True
        children = current.values() if isinstance(current, dict) else current
        assert isinstance(children, Iterable)
        containers.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class _Router(GraphQLRouter[Any, None]):
    def decode_json(self, data: str | bytes) -> object:
        """The body, or a 400 in the service's error shape (strawberry's own is plain text)."""
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise OcpoError("the request body is not valid JSON") from None
        if isinstance(value, dict | list) and _deeper_than(value, MAX_JSON_DEPTH):
            raise OcpoError(f"the request body is nested more than {MAX_JSON_DEPTH} levels deep")
        return value

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Mask every unexpected error of the answer, wherever it was raised: in a
        resolver, or in the operation's own steps (an extension, the executor), whose
        errors a schema extension never sees."""
        raise_outage(request)
        raise_refusal(request)
        errors = getattr(result, "errors", None)
        if errors:
            quoted = request_id(request)
            result.errors = [error if _expected(error) else _masked(error, quoted) for error in errors]
        return await super().process_result(request, result)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL from the package's own files, never a CDN (``web/ide.py``)."""
        return HTMLResponse(GRAPHIQL_PAGE)

    def encode_json(self, data: object) -> bytes:
        # orjson rather than the standard library's encoder: a page of fifty nodes with
        # their markings is thousands of values, which orjson writes in C.
        return orjson.dumps(data)


def graphql_router() -> GraphQLRouter[Any, None]:
    settings = get_settings()
    return _Router(
        build_schema(introspection=settings.introspection_enabled),
        context_getter=get_context,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        include_in_schema=False,
    )
