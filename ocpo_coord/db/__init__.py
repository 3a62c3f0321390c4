"""The database: engines and sessions, the statements every repository runs through, and
the connection settings and driver hooks both databases need."""
