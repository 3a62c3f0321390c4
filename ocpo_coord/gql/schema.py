"""The GraphQL schema, its limits, and its router."""

from functools import partial
from typing import Any

import orjson
import strawberry
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
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from ocpo_coord.access.gql import AccessMutation, AccessQuery
from ocpo_coord.audit.gql import AuditQuery
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
from ocpo_coord.gql.node import NodeQuery
from ocpo_coord.gql.refusals import AuditRefusals
from ocpo_coord.gql.suggestions import HideSuggestions
from ocpo_coord.handover.gql import HandoverMutation, HandoverQuery
from ocpo_coord.intel.gql import IntelMutation, IntelQuery
from ocpo_coord.note.gql import NoteMutation
from ocpo_coord.notification.gql import NotificationMutation, NotificationQuery
from ocpo_coord.sharing_admin.gql import SharingAdminMutation, SharingAdminQuery
from ocpo_coord.stix.gql import StixQuery
from ocpo_coord.task.gql import TaskMutation, TaskQuery

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


class OcpoSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Domain errors keep their message and gain a code; anything else rolls back."""
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
        context: Any = execution_context.context if execution_context else None
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
    # Factories, not instances: each operation gets fresh extension state.
    extensions: list[Any] = [
        partial(AddValidationRules, _LIMIT_RULES),
        partial(MaxTokensLimiter, max_token_count=4000),
        partial(ParserCache, maxsize=256),
        partial(ValidationCache, maxsize=256),
        partial(MaskErrors, should_mask_error=lambda error: not _expected(error)),
    ]
    if serving:
        extensions.append(AuditRefusals)
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


# The schema `strawberry export-schema ocpo_coord.gql.schema:schema` writes to
# graphql/schema.graphql.
schema = build_schema(serving=False)


class _Router(GraphQLRouter[Any, None]):
    def encode_json(self, data: object) -> bytes:
        # orjson rather than the standard library's encoder: a page of fifty nodes with
        # their markings is thousands of values, and the standard encoder took about
        # 2 % of the service's CPU per page (0.6 ms), orjson a tenth of that.
        return orjson.dumps(data)


def graphql_router() -> GraphQLRouter[Any, None]:
    settings = get_settings()
    return _Router(
        build_schema(introspection=settings.introspection_enabled),
        context_getter=get_context,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        include_in_schema=False,
    )
