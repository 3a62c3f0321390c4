"""A synthetic theatre, bulk-loaded with Core ``insert()`` executemany in batches.

Realistic skew: agency sizes follow a Zipf curve (a few big missions, many small
partners); one small host-nation agency sees only what is released to it. Three
readers are named for the measurements: ``bench.broad`` (the biggest agency, SECRET,
with sharing agreements from the next ten), ``bench.middle`` and ``bench.narrow``.
The audit log is a valid hash chain, so ``audit verify`` walks it end to end.
"""

import hashlib
import itertools
import math
import random
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, func, select, text

from ocpo_coord.audit.canonical import GENESIS_HASH, chain_hash
from ocpo_coord.bench.generate_handover import Moved, Parties, completed_handover
from ocpo_coord.db import copy
from ocpo_coord.evidence.store import FileStore
from ocpo_coord.models import (
    Agency,
    AgencyTheatre,
    AuditEvent,
    Case,
    CaseAgency,
    CaseCrimeType,
    CaseMember,
    CustodyEvent,
    Entity,
    Evidence,
    IntelCase,
    IntelItem,
    Record,
    RecordEntity,
    RecordReach,
    RecordRelease,
    Selector,
    SharingAgreement,
    Task,
    Theatre,
    User,
)
from ocpo_coord.models.enums import (
    ActivityArea,
    CrimeType,
    EvidenceKind,
    RecordKind,
    Role,
    SelectorKind,
    Tlp,
)
from ocpo_coord.visibility.reach import rows_of as reach_rows
from ocpo_coord.visibility.rule import RecordFacts, RecordRow, ReleaseRow, ReleaseView

# The columns the index is derived from, as ``reach`` reads them.
_RECORD_ROW = tuple(f.name for f in fields(RecordRow))

FULL_SCALE = {
    "agencies": 40,
    "users": 5_000,
    "cases": 200_000,
    "intel_items": 1_000_000,
    "tasks": 300_000,
    "selectors": 3_000_000,
    "audit_entries": 2_000_000,
}
BATCH = 5_000
_START = datetime(2016, 1, 1, tzinfo=UTC)
_SPAN_SECONDS = 10 * 365 * 24 * 3600
_THEATRES = (("KOS", "Kosovo", 0.62), ("HTI", "Haiti", 0.35), ("GNB", "Guinea-Bissau", 0.03))
_NAMED = ("UNMIK", "EULEX", "KFOR", "MINUSTAH", "OMIK", "INTERPOL", "UNODC", "KP", "HNP", "UNDP")
_TLP = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)
_TLP_WEIGHTS = (0.0002, 0.30, 0.50, 0.1198, 0.08)
_CLASS_WEIGHTS = (0.30, 0.45, 0.20, 0.05)
# Share of releases the narrow agency receives at full scale: a few hundred records
# (the same number at every scale, see ``_Theatre``).
_NARROW_RELEASE = 0.00025
_NARROW_WEIGHT = 0.0002
# Evidence of a handed-over case: how many items a case has (0-3), the share that are
# files (the rest are physical items), and the files' sizes: log-normal around 256 KiB
# (scans and documents; photographs and extraction reports above), at most 16 MiB.
_EVIDENCE_PER_CASE = (0.35, 0.35, 0.20, 0.10)
_FILE_SHARE = 0.75
_FILE_MEDIAN = 256 * 1024
_FILE_SIGMA = 1.0
_FILE_MAX = 16 * 1024 * 1024


def sizes(scale: float) -> dict[str, int]:
    """Row counts at ``scale`` (1.0 = a decade of a theatre with several missions)."""
    counts = {name: max(1, round(full * scale)) for name, full in FULL_SCALE.items()}
    counts["agencies"] = max(12, min(40, counts["agencies"] * 4))
    counts["users"] = max(60, counts["users"])
    return counts


@dataclass
class World:
    """What the measurements need to know about the generated theatre."""

    scale: float
    counts: dict[str, int]
    seconds: float
    readers: dict[str, str]
    handover_id: uuid.UUID | None = None
    handover_cases: int = 0
    # Records on the handover's accepted lines: the cases, their children, linked intelligence.
    handover_records: int = 0
    handover_exporter: str = ""
    # Evidence files generated for the handover's cases, and their bytes.
    evidence_files: int = 0
    evidence_file_bytes: int = 0
    selector_pool: list[tuple[str, str]] = field(default_factory=list)

    rows: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _batches(rows: Iterable[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class _Loader:
    def __init__(self, engine: Engine, seed: int) -> None:
        self.engine = engine
        self.rng = random.Random(seed)
        self.rows = 0

    def insert(self, table: Any, rows: Iterable[dict[str, Any]]) -> None:
        target: Table = table.__table__
        if self.engine.dialect.name == "postgresql":
            self._copy(target, rows)
            return
        with self.engine.begin() as conn:
            for chunk in _batches(rows):
                conn.execute(target.insert(), chunk)
                self.rows += len(chunk)

    def _copy(self, target: Table, rows: Iterable[dict[str, Any]]) -> None:
        """PostgreSQL: one ``COPY`` streamed from ``rows``. Columns a row leaves out get
        the model's scalar default, or NULL."""
        columns = list(target.columns)
        defaults = {
            c.name: c.default.arg if c.default is not None and c.default.is_scalar else None  # type: ignore[attr-defined]
            for c in columns
        }
        with self.engine.begin() as conn:
            self.rows += copy.copy_rows(conn, target, list(defaults), (defaults | row for row in rows))

    def stamp(self) -> datetime:
        return _START + timedelta(seconds=self.rng.random() * _SPAN_SECONDS)


def _releasable(counts: dict[str, int]) -> int:
    """Records that may carry releases (entities: one per three selectors)."""
    return counts["cases"] + counts["intel_items"] + counts["tasks"] + counts["selectors"] // 3


def _zipf(n: int) -> list[float]:
    weights = [1.0 / (rank + 1) ** 1.2 for rank in range(n)]
    weights[-1] = _NARROW_WEIGHT  # the narrow host-nation agency
    return weights


class _Theatre:
    """Builds one theatre's rows; the order of the steps follows the foreign keys."""

    def __init__(self, loader: _Loader, counts: dict[str, int]) -> None:
        self.load = loader
        self.rng = loader.rng
        self.counts = counts
        self.theatres: list[uuid.UUID] = []
        self.agencies: list[uuid.UUID] = []
        self.codes: dict[uuid.UUID, str] = {}
        self.agency_theatre: dict[uuid.UUID, uuid.UUID] = {}
        self.users_of: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.all_users: list[uuid.UUID] = []
        self.cum: list[float] = []
        self.case_ids: list[uuid.UUID] = []
        # Restricted or TLP:RED: not part of the benchmark handover.
        self.case_restricted: dict[uuid.UUID, bool] = {}
        self.intel_ids: list[uuid.UUID] = []
        self.evidence_ids: list[uuid.UUID] = []
        self.restricted_cases: set[uuid.UUID] = set()
        self.case_members: dict[uuid.UUID, set[uuid.UUID]] = {}
        # The narrow reader receives the same few hundred releases at every scale: what
        # makes a reader narrow is how little it may see, not how big the theatre is, and
        # a page compared across scales must be the same page (full, with a count and a
        # deep page), not the whole of a handful of records at 1 %.
        self.narrow_release = min(1.0, _NARROW_RELEASE * _releasable(FULL_SCALE) / _releasable(counts))

    def directory(self) -> dict[str, str]:
        now = datetime.now(UTC)
        self.theatres = [uuid.uuid4() for _ in _THEATRES]
        self.load.insert(
            Theatre,
            (
                {"id": tid, "code": code, "name": name, "country": name, "regions": [], "created_at": now}
                for tid, (code, name, _) in zip(self.theatres, _THEATRES, strict=True)
            ),
        )
        n = self.counts["agencies"]
        codes = [_NAMED[i] if i < len(_NAMED) - 2 else f"AG{i:02d}" for i in range(n - 1)] + ["GNBPJ"]
        self.agencies = [uuid.uuid4() for _ in range(n)]
        self.codes = dict(zip(self.agencies, codes, strict=True))
        host = {codes.index(c) for c in ("KP",) if c in codes} | {n - 1}
        agencies = []
        for i, (aid, code) in enumerate(zip(self.agencies, codes, strict=True)):
            agencies.append(
                {
                    "id": aid,
                    "code": code,
                    "name": f"{code} (benchmark)",
                    "kind": "host_nation" if i in host else "mission",
                    "parent_organisation": "NONE",
                    "host_nation": i in host,
                    "created_at": now,
                }
            )
            theatre = self.theatres[2] if i == n - 1 else self.theatres[0 if i % 3 else 1]
            self.agency_theatre[aid] = theatre
        self.load.insert(Agency, agencies)
        self.load.insert(
            AgencyTheatre, ({"agency_id": a, "theatre_id": t} for a, t in self.agency_theatre.items())
        )
        weights = _zipf(n)
        self.cum = list(itertools.accumulate(weights))
        # Users follow the agencies' sizes; every agency has at least one.
        users = []
        readers = {"broad": (0, 3), "middle": (min(5, n - 2), 2), "narrow": (n - 1, 1)}
        for label, (index, clearance) in readers.items():
            users.append(self._user(f"bench.{label}", self.agencies[index], clearance, now, staff=True))
        for aid in self.agencies:
            users.append(self._user(f"bench.{aid.hex[:8]}.0", aid, 2, now, staff=True))
        for k in range(self.counts["users"] - len(users)):
            aid = self._agency()
            users.append(self._user(f"bench.u{k}", aid, self.rng.choice((1, 1, 2, 2, 3)), now))
        self.load.insert(User, users)
        # Agreements: the next ten agencies share their GREEN/AMBER with the biggest.
        until = now + timedelta(days=3650)
        self.load.insert(
            SharingAgreement,
            (
                {
                    "id": uuid.uuid4(),
                    "title": f"agreement {i}",
                    "grantor_agency_id": self.agencies[i],
                    "grantee_agency_id": self.agencies[0],
                    "valid_from": _START,
                    "valid_until": until,
                    "max_classification": 2,
                    "created_at": now,
                }
                for i in range(1, min(11, n - 1))
            ),
        )
        return {label: f"bench.{label}" for label in readers}

    def _user(
        self, login: str, agency: uuid.UUID, clearance: int, now: datetime, *, staff: bool = False
    ) -> dict[str, Any]:
        """``staff``: the agency's administrator (and the named readers), who hold every
        role the benchmark exercises; other users are analysts and investigators, one in
        forty also a coordinator, as in an agency where only a few are told of every hit."""
        uid = uuid.uuid4()
        self.users_of.setdefault(agency, []).append(uid)
        self.all_users.append(uid)
        return {
            "id": uid,
            "login": login,
            "display_name": login,
            "agency_id": agency,
            "roles": [
                Role.ANALYST.value,
                Role.INVESTIGATOR.value,
                Role.HANDOVER_AUDITOR.value,
                Role.AGENCY_ADMIN.value,
            ]
            if staff
            else [Role.ANALYST.value, Role.INVESTIGATOR.value]
            + ([Role.COORDINATOR.value] if self.rng.random() < 0.025 else []),
            "clearance": clearance,
            "active": True,
            "created_at": now,
        }

    def _agency(self) -> uuid.UUID:
        return self.rng.choices(self.agencies, cum_weights=self.cum)[0]

    def _record(
        self, kind: RecordKind, *, parent: uuid.UUID | None = None, restricted: uuid.UUID | None = None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        rng = self.rng
        rid = uuid.uuid4()
        owner = self._agency()
        tlp = rng.choices(_TLP, weights=_TLP_WEIGHTS)[0]
        stamp = self.load.stamp()
        record = {
            "id": rid,
            "kind": kind.value,
            "originator_agency_id": owner,
            "custodian_agency_id": owner,
            "owner_agency_id": owner,
            "created_by_id": rng.choice(self.users_of[owner]),
            "theatre_id": self.agency_theatre[owner],
            "parent_id": parent,
            "restricted_case_id": restricted,
            "classification": rng.choices((0, 1, 2, 3), weights=_CLASS_WEIGHTS)[0],
            "tlp": tlp.value,
            "orcon": rng.random() < 0.1,
            "nohost": rng.random() < 0.15,
            "tear_line_of_id": None,
            "provenance": "",
            "version": 1,
            "created_at": stamp,
            "updated_at": stamp,
        }
        releases = []
        if tlp in (Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT):
            targets = {self._agency() for _ in range(rng.randint(1, 3))} - {owner}
            if rng.random() < self.narrow_release:
                targets.add(self.agencies[-1])
            releases = [self._release(rid, agency=a, stamp=stamp) for a in targets]
        elif tlp is Tlp.RED:
            releases = [self._release(rid, user=rng.choice(self.all_users), stamp=stamp)]
        return record, releases

    @staticmethod
    def _release(
        rid: uuid.UUID, *, stamp: datetime, agency: uuid.UUID | None = None, user: uuid.UUID | None = None
    ) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "record_id": rid,
            "agency_id": agency,
            "sharing_group_id": None,
            "user_id": user,
            "created_at": stamp,
        }

    def _records(self, kind: RecordKind, count: int, domain: Any, build: Any) -> None:
        """Records of one kind, then their domain rows and releases, batch by batch."""
        for start in range(0, count, BATCH):
            records: list[dict[str, Any]] = []
            releases: list[dict[str, Any]] = []
            rows: list[dict[str, Any]] = []
            extra: list[tuple[Any, dict[str, Any]]] = []
            for _ in range(min(BATCH, count - start)):
                record, rel = build(records, rows, extra)
                records.append(record)
                releases.extend(rel)
            self.load.insert(Record, records)
            self.load.insert(domain, rows)
            self.load.insert(RecordRelease, releases)
            grouped: dict[Any, list[dict[str, Any]]] = {}
            for table, row in extra:
                grouped.setdefault(table, []).append(row)
            for member in grouped.get(CaseMember, []):
                self.case_members.setdefault(member["case_id"], set()).add(member["user_id"])
            self.load.insert(RecordReach, self._reach(records, releases))
            for table, table_rows in grouped.items():
                self.load.insert(table, table_rows)

    def _reach(
        self, records: list[dict[str, Any]], releases: list[dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """The visibility index rows, from the same rule the service files them by."""
        by_record: dict[uuid.UUID, list[ReleaseView]] = {}
        for release in releases:
            by_record.setdefault(release["record_id"], []).append(
                ReleaseRow(release.get("agency_id"), release.get("sharing_group_id"), release.get("user_id"))
            )
        for record in records:
            restricted = record["restricted_case_id"]
            facts = RecordFacts(
                RecordRow(**{name: record[name] for name in _RECORD_ROW}),
                releases=by_record.get(record["id"], []),
                restricted_members=self.case_members.get(restricted, set()) if restricted else set(),
            )
            yield from reach_rows(facts)

    def cases(self) -> None:
        crimes = list(CrimeType)

        def build(records: list[Any], rows: list[Any], extra: list[Any]) -> tuple[Any, Any]:
            restricted = self.rng.random() < 0.03
            record, releases = self._record(RecordKind.CASE)
            rid = record["id"]
            if restricted:
                record["restricted_case_id"] = rid
                self.restricted_cases.add(rid)
            owner = record["owner_agency_id"]
            self.case_ids.append(rid)
            self.case_restricted[rid] = restricted or record["tlp"] == Tlp.RED.value
            rows.append(
                {
                    "id": rid,
                    "reference": f"{rid.hex[:6].upper()}-{len(self.case_ids)}",
                    "title": f"Case {len(self.case_ids)}",
                    "summary": "Synthetic case for the benchmark.",
                    "status": "open",
                    "judicial_stage": "investigation",
                    "priority": "medium",
                    "lead_agency_id": owner,
                    "restricted": restricted,
                    "opened_on": record["created_at"].date(),
                }
            )
            extra.append((CaseCrimeType, {"case_id": rid, "crime_type": self.rng.choice(crimes).value}))
            extra.append((CaseAgency, {"case_id": rid, "agency_id": owner, "role": "participant"}))
            if restricted:
                for uid in set(self.rng.sample(self.users_of[owner], min(3, len(self.users_of[owner])))):
                    extra.append((CaseMember, {"case_id": rid, "user_id": uid}))
            return record, releases

        self._records(RecordKind.CASE, self.counts["cases"], Case, build)

    def intel(self) -> None:
        def build(records: list[Any], rows: list[Any], extra: list[Any]) -> tuple[Any, Any]:
            record, releases = self._record(RecordKind.INTEL_ITEM)
            rid = record["id"]
            self.intel_ids.append(rid)
            n = len(self.intel_ids)
            rows.append(
                {
                    "id": rid,
                    "title": f"Report {n}",
                    "content": "Synthetic intelligence report for the benchmark.",
                    "information_date": record["created_at"].date(),
                    "source_reliability": self.rng.choice("ABCDEF"),
                    "information_credibility": self.rng.choice("123456"),
                    "source_description": "",
                }
            )
            if self.case_ids and self.rng.random() < 0.5:
                for case in {self.rng.choice(self.case_ids) for _ in range(self.rng.randint(1, 3))}:
                    extra.append((IntelCase, {"intel_id": rid, "case_id": case}))
            return record, releases

        self._records(RecordKind.INTEL_ITEM, self.counts["intel_items"], IntelItem, build)

    def tasks(self) -> None:
        areas = list(ActivityArea)

        def build(records: list[Any], rows: list[Any], extra: list[Any]) -> tuple[Any, Any]:
            parent = self.rng.choice(self.case_ids) if self.case_ids and self.rng.random() < 0.5 else None
            restricted = parent if parent is not None and parent in self.restricted_cases else None
            record, releases = self._record(RecordKind.TASK, parent=parent, restricted=restricted)
            rows.append(
                {
                    "id": record["id"],
                    "title": "Synthetic task",
                    "description": "",
                    "activity_area": self.rng.choice(areas).value,
                    "lead_agency_id": record["owner_agency_id"],
                    "status": "proposed",
                    "priority": "medium",
                }
            )
            return record, releases

        self._records(RecordKind.TASK, self.counts["tasks"], Task, build)

    def entities(self) -> list[tuple[str, str]]:
        """Entities with three selectors each; a shared pool makes cross-agency hits."""
        pool = [f"+3774{n:07d}" for n in range(max(100, self.counts["selectors"] // 10))]
        per_entity = 3
        selectors: list[dict[str, Any]] = []

        def build(records: list[Any], rows: list[Any], extra: list[Any]) -> tuple[Any, Any]:
            record, releases = self._record(RecordKind.ENTITY)
            rid = record["id"]
            rows.append(
                {"id": rid, "entity_kind": "person", "label": f"Person {rid.hex[:8]}", "attributes": {}}
            )
            for k in range(per_entity):
                phone = self.rng.choice(pool)
                kind = SelectorKind.PHONE.value if k else SelectorKind.NAME.value
                value = phone if k else f"person {rid.hex[:10]}"
                selectors.append(
                    {"id": uuid.uuid4(), "entity_id": rid, "kind": kind, "value": value, "normalized": value}
                )
            if self.intel_ids:
                extra.append(
                    (
                        RecordEntity,
                        {"record_id": self.rng.choice(self.intel_ids), "entity_id": rid, "role": "subject"},
                    )
                )
            return record, releases

        count = max(1, self.counts["selectors"] // per_entity)
        for start in range(0, count, BATCH):
            self._records(RecordKind.ENTITY, min(BATCH, count - start), Entity, build)
            self.load.insert(Selector, selectors)
            selectors.clear()
        return [(SelectorKind.PHONE.value, phone) for phone in pool[:50]]

    def audit(self) -> None:
        """A valid chain: each entry hashed over its canonical form and the previous hash."""
        previous = GENESIS_HASH
        count = self.counts["audit_entries"]
        actions = ("intel_item.create", "case.update", "intel_item.read", "task.update")

        def rows() -> Iterator[dict[str, Any]]:
            nonlocal previous
            for seq in range(1, count + 1):
                entry = {
                    "id": uuid.uuid4(),
                    "at": _START + timedelta(seconds=seq * (_SPAN_SECONDS / (count + 1))),
                    "actor_id": self.rng.choice(self.all_users),
                    "actor_name": "benchmark user",
                    "agency_id": self.agencies[0],
                    "request_id": f"bench-{seq}",
                    "action": actions[seq % len(actions)],
                    "record_kind": "intel_item",
                    "record_id": self.rng.choice(self.intel_ids) if self.intel_ids else None,
                    "before": None,
                    "after": {"version": seq % 7 + 1},
                    "detail": "",
                }
                digest = chain_hash(previous, entry)
                yield {**entry, "seq": seq, "prev_hash": previous, "hash": digest}
                previous = digest

        self.load.insert(AuditEvent, rows())
        if self.load.engine.dialect.name == "postgresql":
            with self.load.engine.begin() as conn:
                conn.execute(
                    text("SELECT setval(pg_get_serial_sequence('audit_event', 'seq'), :n)"), {"n": count}
                )

    def handover_cases(self, cases: int) -> list[uuid.UUID]:
        return [c for c in self.case_ids if not self.case_restricted[c]][:cases]

    def evidence(self, cases: list[uuid.UUID], files: FileStore | None) -> tuple[int, int]:
        """Evidence items of ``cases``, most of them files whose bytes go to ``files``
        (none are kept without a store); how many files, and their bytes.

        Only the handover's cases get evidence: it is what a handover carries that
        other records do not, and its bytes are what the export copies."""
        rng = self.rng
        parents = [c for c in cases for _ in range(rng.choices(range(4), weights=_EVIDENCE_PER_CASE)[0])]
        kept = [0, 0]

        def build(records: list[Any], rows: list[Any], extra: list[Any]) -> tuple[Any, Any]:
            record, releases = self._record(RecordKind.EVIDENCE, parent=parents[len(self.evidence_ids)])
            rid = record["id"]
            self.evidence_ids.append(rid)
            n = len(self.evidence_ids)
            row: dict[str, Any] = {
                "id": rid,
                "evidence_kind": EvidenceKind.PHYSICAL.value,
                "title": f"Exhibit {n}",
                "description": "Synthetic evidence for the benchmark.",
                "sha256": None,
                "file_name": None,
                "size_bytes": None,
                "storage_location": "Evidence room",
                "content_stored": False,
                "collected_at": record["created_at"],
            }
            if rng.random() < _FILE_SHARE:
                size = min(_FILE_MAX, max(1024, int(rng.lognormvariate(math.log(_FILE_MEDIAN), _FILE_SIGMA))))
                row["evidence_kind"] = EvidenceKind.FILE.value
                row["file_name"] = f"exhibit-{n}.bin"
                row["size_bytes"] = size
                data = rng.randbytes(size)
                if files is None:
                    row["sha256"] = hashlib.sha256(data).hexdigest()
                else:
                    row["sha256"] = files.add_bytes(data).sha256
                    row["content_stored"] = True
                    kept[0] += 1
                    kept[1] += size
            rows.append(row)
            owner = record["owner_agency_id"]
            extra.append(
                (
                    CustodyEvent,
                    {
                        "id": uuid.uuid4(),
                        "evidence_id": rid,
                        "holder_agency_id": owner,
                        "holder_user_id": record["created_by_id"],
                        "received_at": record["created_at"],
                        "location": "Evidence room",
                        "note": "logged",
                    },
                )
            )
            return record, releases

        self._records(RecordKind.EVIDENCE, len(parents), Evidence, build)
        return kept[0], kept[1]

    def handover(self, chosen: list[uuid.UUID]) -> Moved:
        """A completed handover of the ``chosen`` cases, with their children and linked
        intelligence, from the second agency to the biggest: what export reads once a
        handover is signed off. The biggest agency's reader exports it."""
        outgoing, incoming = self.agencies[1], self.agencies[0]
        parties = Parties(
            outgoing=outgoing,
            incoming=incoming,
            theatre=self.theatres[0],
            codes=self.codes,
            user_of={agency: users[0] for agency, users in self.users_of.items()},
        )
        return completed_handover(self.load.engine, self.load.insert, parties, chosen)


def generate(
    engine: Engine, scale: float, *, handover_cases: int, files: FileStore | None = None, seed: int = 8
) -> World:
    """Fill an empty, migrated database with a theatre at ``scale``; the evidence
    files of the handover's cases go to ``files``."""
    started = time.perf_counter()
    counts = sizes(scale)
    loader = _Loader(engine, seed)
    theatre = _Theatre(loader, counts)
    readers = theatre.directory()
    theatre.cases()
    theatre.intel()
    theatre.tasks()
    pool = theatre.entities()
    theatre.audit()
    chosen = theatre.handover_cases(handover_cases)
    evidence_files, evidence_file_bytes = theatre.evidence(chosen, files)
    moved = theatre.handover(chosen)
    if engine.dialect.name == "postgresql":
        # What autovacuum does to freshly loaded tables in any running installation:
        # statistics for the planner, and the visibility map, without which an index
        # walk of the visibility index reads the table's pages as well.
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    with engine.connect() as conn:
        records = int(conn.execute(select(func.count()).select_from(Record.__table__)).scalar_one())  # type: ignore[attr-defined]
    counts["records"] = records
    counts["evidence"] = len(theatre.evidence_ids)
    return World(
        scale=scale,
        counts=counts,
        seconds=time.perf_counter() - started,
        readers=readers,
        handover_id=moved.handover_id,
        handover_cases=moved.cases,
        handover_records=moved.records,
        handover_exporter=readers["broad"],
        evidence_files=evidence_files,
        evidence_file_bytes=evidence_file_bytes,
        selector_pool=pool,
        rows=loader.rows,
    )


def generate_directory(engine: Engine, scale: float, *, seed: int = 8) -> None:
    """Only theatres, agencies, users and agreements, with the same codes and logins as
    ``generate``: a second installation that a handover package can be imported into."""
    _Theatre(_Loader(engine, seed), sizes(scale)).directory()


__all__ = ["FULL_SCALE", "World", "generate", "generate_directory", "sizes"]
