"""PostgreSQL privileges of the service's role: the audit tables take inserts only.

Migrations run as the role that owns the schema; the service runs as another role,
granted here. On the audit tables it may only read and insert (and take integrated
entries off the queue), and since it owns none of them it cannot alter them or
disable their triggers: rewriting the log takes the owner's credentials, and even
then a kept checkpoint shows it.
"""

from sqlalchemy import Connection, text

AUDIT_TABLES = (
    "audit_event",
    "audit_log_entry",
    "audit_tree_node",
    "audit_checkpoint",
    "audit_witness",
    "audit_cosignature",
    # What a predecessor's installation proved about the records it handed over.
    "handover_import_checkpoint",
    "handover_import_proof",
)
QUEUE = "audit_pending"
_READ_ONLY = ("alembic_version",)


def grant_service_role(conn: Connection, role: str) -> None:
    """Grant ``role`` what the service needs, and on the audit tables no more."""
    if conn.dialect.name != "postgresql":
        raise ValueError("roles are PostgreSQL's; SQLite has none")
    name = conn.dialect.identifier_preparer.quote(role)
    guarded = ", ".join((*AUDIT_TABLES, QUEUE, *_READ_ONLY))
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {name}"))
    conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}"))
    conn.execute(text(f"REVOKE ALL ON {guarded} FROM {name}"))
    conn.execute(text(f"GRANT SELECT, INSERT ON {', '.join(AUDIT_TABLES)} TO {name}"))
    conn.execute(text(f"GRANT SELECT, INSERT, DELETE ON {QUEUE} TO {name}"))
    conn.execute(text(f"GRANT SELECT ON {', '.join(_READ_ONLY)} TO {name}"))
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}"))
