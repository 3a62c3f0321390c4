-- The role the service runs as. It owns nothing: migrations run as the owning role
-- (POSTGRES_USER), which then grants this one what it needs with
-- `ocpo-coord audit grant ocpo_service` (only SELECT and INSERT on the audit log).
CREATE ROLE ocpo_service LOGIN PASSWORD 'ocpo_service';
