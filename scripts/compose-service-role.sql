-- Run once by the database container when it creates its data directory.
-- The service's own role: it reads and writes rows, owns nothing and may change no
-- schema. The migrations run as the owner (ocpo); every table and sequence they
-- create is granted to the service as it is created.
CREATE ROLE ocpo_app LOGIN PASSWORD 'ocpo_app' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
GRANT CONNECT ON DATABASE ocpo TO ocpo_app;
GRANT USAGE ON SCHEMA public TO ocpo_app;
ALTER DEFAULT PRIVILEGES FOR ROLE ocpo IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ocpo_app;
ALTER DEFAULT PRIVILEGES FOR ROLE ocpo IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO ocpo_app;
