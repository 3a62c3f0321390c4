"""The coordinators' web page: a static shell that signs in with a bearer token and reads
the task board, the responsibility matrix and deconfliction hits through GraphQL."""
