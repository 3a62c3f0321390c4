"""PostgreSQL writes the package's JSON Lines itself: one text column per record or line.

Building each record's object in Python (rows, then links, then a dictionary, then
orjson) cost most of an export. Here the database builds the same bytes with
``row_to_json`` over rows whose columns are named and ordered as the package writes
them (sorted keys, as orjson's OPT_SORT_KEYS), and the lines are streamed out with
COPY. The portable path (``export_portable``) stays the reference: a test checks on
PostgreSQL that both give the same bytes.

How the values match orjson's: strings, numbers, booleans, nulls, UUIDs and dates
come out of ``row_to_json`` as orjson writes them; timestamps do not (PostgreSQL drops
trailing zeros of the fraction), so they are formatted as ``isoformat`` does, in UTC.
Lists are sorted with the "C" collation: code point order, as Python's ``sorted``.

Shape of a statement: the moving lines of one kind joined to their records and domain
rows, with the sharing rule (``readable``) in the WHERE clause as on the portable path;
each kind of link aggregated per record in one grouped subquery over the handover's
moving records (a hash join, not a lookup per record); then LATERAL rows that name
each object's fields, which ``row_to_json`` turns into the line.
"""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Join,
    Select,
    Subquery,
    TypeDecorator,
    func,
    literal_column,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from ocpo_coord.auth.principal import Principal
from ocpo_coord.handover.package_repository import DOMAIN, domain_columns, moving
from ocpo_coord.models import (
    Agency,
    CaseAgency,
    CaseCrimeType,
    CaseMember,
    CustodyEvent,
    HandoverLine,
    IntelCase,
    Position,
    Record,
    RecordRelease,
    TaskDependency,
    TaskSupportingAgency,
    Theatre,
    User,
)
from ocpo_coord.models.base import table_of
from ocpo_coord.models.enums import Classification
from ocpo_coord.visibility.readable import readable

_CLASSIFICATION = (
    "CASE record.classification "
    + " ".join(f"WHEN {int(level)} THEN '{level.name}'" for level in Classification)
    + " END"
)


def iso(expr: str) -> str:
    """A timestamp as ``datetime.isoformat`` writes it in UTC: the fraction only when
    there is one, and then all six digits."""
    utc = f"({expr}) AT TIME ZONE 'UTC'"
    whole = f"""to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')"""
    fraction = f"""to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
    return f"CASE WHEN date_trunc('second', {utc}) = {utc} THEN {whole} ELSE {fraction} END"


def fields(name: str, values: dict[str, str]) -> FromClause:
    """A LATERAL row of these SQL expressions, named ``name``, columns in sorted key
    order: ``row_to_json(name)`` is then the object as orjson writes it."""
    columns = ", ".join(f'{expr} AS "{key}"' for key, expr in sorted(values.items()))
    return text(f"SELECT {columns}").columns().lateral(name)


def _list(name: str) -> str:
    """A grouped subquery's list, or an empty one for a record that has none."""
    return f"coalesce({name}, '{{}}')"


def _value(column: Any, expr: str) -> str:
    """A domain column as the portable writer's orjson renders its Python value."""
    kind = column.type
    while isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    python = kind.python_type
    if issubclass(python, datetime):
        return iso(expr)
    if issubclass(python, (str, uuid.UUID, int, bool, date)):
        return expr
    raise TypeError(f"{column.table.name}.{column.name}: no package rendering for {column.type!r}")


class _Links:
    """The grouped subqueries of one kind's links, each keyed by ``record_id``, and what
    the record's ``links`` object is made of."""

    def __init__(self, handover_id: uuid.UUID, kind: str) -> None:
        self.handover_id = handover_id
        self.kind = kind
        self.grouped: list[Subquery] = []

    def group(self, name: str, key: Any, joined: Join | FromClause, **lists: ColumnElement[Any]) -> Subquery:
        """Per moving record of this kind, one list per keyword, from ``joined``."""
        line = table_of(HandoverLine)
        statement = (
            select(key.label("record_id"), *(value.label(label) for label, value in lists.items()))
            .select_from(joined.join(line, line.c.subject_id == key))
            .where(moving(self.handover_id), line.c.kind == self.kind)
            .group_by(key)
        )
        found = statement.subquery(name)
        self.grouped.append(found)
        return found


def _sorted(value: ColumnElement[Any], *, codes: bool = True) -> ColumnElement[Any]:
    order = value.collate("C") if codes else value
    return func.array_agg(aggregate_order_by(value, order)).filter(value.is_not(None))


def _released(links: _Links) -> None:
    releases, agency, user = table_of(RecordRelease), table_of(Agency).alias("a"), table_of(User).alias("u")
    joined = releases.outerjoin(agency, agency.c.id == releases.c.agency_id).outerjoin(
        user, user.c.id == releases.c.user_id
    )
    links.group(
        "released", releases.c.record_id, joined, codes=_sorted(agency.c.code), logins=_sorted(user.c.login)
    )


def _case_links(links: _Links) -> dict[str, str]:
    crimes, members, agencies = (
        table_of(CaseCrimeType),
        table_of(CaseMember),
        table_of(CaseAgency).alias("ca"),
    )
    agency, user = table_of(Agency).alias("a"), table_of(User).alias("u")
    links.group("crimes", crimes.c.case_id, crimes, names=_sorted(crimes.c.crime_type))
    links.group(
        "members",
        members.c.case_id,
        members.join(user, user.c.id == members.c.user_id),
        logins=_sorted(user.c.login),
    )
    joined = agencies.outerjoin(agency, agency.c.id == agencies.c.agency_id).join(
        fields("x", {"agency": "a.code", "role": "ca.role"}), true()
    )
    order = (agency.c.code.collate("C").nulls_first(), agencies.c.role.collate("C"))
    rows = func.array_agg(aggregate_order_by(func.row_to_json(literal_column("x")), *order))
    links.group("case_agencies", agencies.c.case_id, joined, rows=rows)
    return {
        "lead_agency": "lead.code",
        "crime_types": _list("crimes.names"),
        "agencies": _list("case_agencies.rows"),
        "members": _list("members.logins"),
    }


def _intel_links(links: _Links) -> dict[str, str]:
    cases = table_of(IntelCase)
    links.group("intel_cases", cases.c.intel_id, cases, ids=_sorted(cases.c.case_id, codes=False))
    return {"case_ids": _list("intel_cases.ids")}


def _evidence_links(links: _Links) -> dict[str, str]:
    custody = table_of(CustodyEvent).alias("ce")
    agency, user = table_of(Agency).alias("a"), table_of(User).alias("u")
    held = {
        "holder_agency": "a.code",
        "holder": "u.login",
        "received_at": iso("ce.received_at"),
        "location": "ce.location",
        "note": "ce.note",
    }
    joined = (
        custody.outerjoin(agency, agency.c.id == custody.c.holder_agency_id)
        .outerjoin(user, user.c.id == custody.c.holder_user_id)
        .join(fields("x", held), true())
    )
    order = (custody.c.received_at, custody.c.id)
    rows = func.array_agg(aggregate_order_by(func.row_to_json(literal_column("x")), *order))
    links.group("custody", custody.c.evidence_id, joined, rows=rows)
    return {"custody": _list("custody.rows")}


def _task_links(links: _Links) -> dict[str, str]:
    support, deps, agency = (
        table_of(TaskSupportingAgency),
        table_of(TaskDependency),
        table_of(Agency).alias("a"),
    )
    links.group(
        "support",
        support.c.task_id,
        support.join(agency, agency.c.id == support.c.agency_id),
        codes=_sorted(agency.c.code),
    )
    links.group("deps", deps.c.task_id, deps, ids=_sorted(deps.c.depends_on_id, codes=False))
    return {
        "lead_agency": "lead.code",
        "supporting_agencies": _list("support.codes"),
        "depends_on": _list("deps.ids"),
        "assignee": "assignee.login",
        "assignee_position": "assignee_position.title",
    }


_KIND_LINKS = {
    "case": _case_links,
    "intel_item": _intel_links,
    "evidence": _evidence_links,
    "task": _task_links,
}
# Domain columns that only mean something in this installation: they travel as codes
# and logins in ``links`` and are emptied in ``data``.
_LOCAL_IDS = {
    "case": ("lead_agency_id",),
    "task": ("lead_agency_id", "assignee_position_id", "assignee_user_id"),
}


def _domain_joins(kind: str, joined: Join, domain: FromClause) -> Join:
    """The rows a kind's links name through its domain row: lead agency, assignee."""
    if kind in ("case", "task"):
        lead = table_of(Agency).alias("lead")
        joined = joined.outerjoin(lead, lead.c.id == domain.c.lead_agency_id)
    if kind == "task":
        user, position = table_of(User).alias("assignee"), table_of(Position).alias("assignee_position")
        joined = joined.outerjoin(user, user.c.id == domain.c.assignee_user_id).outerjoin(
            position, position.c.id == domain.c.assignee_position_id
        )
    return joined


def record_lines(kind: str, handover_id: uuid.UUID, principal: Principal, now: datetime) -> Select[Any]:
    """The package lines of the moving records of one kind that the principal may read,
    in the order the portable writer writes them (by id)."""
    record, line = table_of(Record), table_of(HandoverLine)
    domain = table_of(DOMAIN[kind]).alias("d")
    agency = table_of(Agency)
    originator, owner, custodian = (agency.alias(n) for n in ("originator", "owner", "custodian"))
    place, creator = table_of(Theatre).alias("place"), table_of(User).alias("creator")
    joined = (
        line.join(record, record.c.id == line.c.subject_id)
        .join(domain, domain.c.id == record.c.id)
        .outerjoin(originator, originator.c.id == record.c.originator_agency_id)
        .outerjoin(owner, owner.c.id == record.c.owner_agency_id)
        .outerjoin(custodian, custodian.c.id == record.c.custodian_agency_id)
        .outerjoin(place, place.c.id == record.c.theatre_id)
        .outerjoin(creator, creator.c.id == record.c.created_by_id)
    )
    joined = _domain_joins(kind, joined, domain)
    links = _Links(handover_id, kind)
    _released(links)
    link_fields = _KIND_LINKS[kind](links) if kind in _KIND_LINKS else {}
    for grouped in links.grouped:
        joined = joined.outerjoin(grouped, grouped.c.record_id == record.c.id)
    local = _LOCAL_IDS.get(kind, ())
    data = {
        name: "NULL" if name in local else _value(domain.c[name], f"d.{name}")
        for name in domain_columns(kind)
    }
    markings = {
        "classification": _CLASSIFICATION,
        "tlp": "record.tlp",
        "orcon": "record.orcon",
        "nohost": "record.nohost",
        "releasable_to": _list("released.codes"),
        "named_readers": _list("released.logins"),
    }
    top = {
        "id": "record.id",
        "kind": f"'{kind}'",
        "markings": "row_to_json(markings)",
        "originator_agency": "originator.code",
        "owner_agency": "owner.code",
        "custodian_agency": "custodian.code",
        "theatre": "place.code",
        "parent_id": "record.parent_id",
        "restricted_case_id": "record.restricted_case_id",
        "provenance": "record.provenance",
        "created_at": iso("record.created_at"),
        "created_by": "creator.login",
        "data": "row_to_json(data)",
        "links": "row_to_json(links)",
    }
    for name, values in (("data", data), ("links", link_fields), ("markings", markings), ("line", top)):
        joined = joined.join(fields(name, values), true())
    return (
        select(literal_column("row_to_json(line)").label("line"))
        .select_from(joined)
        .where(moving(handover_id), line.c.kind == kind, readable(principal, now=now))
        .order_by(line.c.subject_id)
    )


def handover_lines(handover_id: uuid.UUID) -> Select[Any]:
    """The lines the receiver may see, as the package writes them, in seq order."""
    line, agency, user = table_of(HandoverLine), table_of(Agency).alias("consent_agency"), table_of(User)
    decider, consenter = user.alias("decider"), user.alias("consenter")
    values = {
        "seq": "handover_line.seq",
        "kind": "handover_line.kind",
        "subject_id": "handover_line.subject_id",
        "title": "handover_line.title",
        "disposition": "handover_line.disposition",
        "reason": "handover_line.reason",
        "decline_outcome": "handover_line.decline_outcome",
        "completion_evidence": "handover_line.completion_evidence",
        "decided_by": "decider.login",
        "decided_at": iso("handover_line.decided_at"),
        "consent_agency": "consent_agency.code",
        "consent_status": "handover_line.consent_status",
        "consent_by": "consenter.login",
    }
    joined = (
        line.outerjoin(decider, decider.c.id == line.c.decided_by_id)
        .outerjoin(consenter, consenter.c.id == line.c.consent_by_id)
        .outerjoin(agency, agency.c.id == line.c.consent_agency_id)
        .join(fields("exported", values), true())
    )
    return (
        select(literal_column("row_to_json(exported)").label("line"))
        .select_from(joined)
        .where(line.c.handover_id == handover_id, line.c.hidden_from_incoming.is_(False))
        .order_by(line.c.seq)
    )
