"""Every record kind is declared once its service is imported, with a GraphQL type once
its module is; a kind that is not is a fault of the program, never a not-found answer."""

import subprocess
import sys

from ocpo_coord.gql.node import graphql_type, undeclared_types
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.kinds import kind_spec, undeclared
from ocpo_coord.schema import build_schema


def test_the_assembled_schema_declares_every_kind() -> None:
    build_schema(serving=False)
    assert undeclared() == []
    assert undeclared_types() == []
    names = {graphql_type(kind).__strawberry_definition__.name for kind in RecordKind}
    assert names == {"Case", "IntelItem", "Evidence", "Task", "Note", "Entity", "PlannedOperation"}
    assert all(kind_spec(kind).kind is kind for kind in RecordKind)


def test_an_undeclared_kind_is_an_error_of_the_program() -> None:
    code = (
        "from ocpo_coord.models.enums import RecordKind\n"
        "from ocpo_coord.records.kinds import kind_spec\n"
        "try:\n    kind_spec(RecordKind.NOTE)\n"
        "except RuntimeError as error:\n    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "record kind note is not declared: its service was never imported"
