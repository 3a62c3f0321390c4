"""Who may read a record, decided in one place: the rule (`rule.py`) with its SQL and
in-memory faces, the caller's scopes, the `record_reach` index and the flush hooks that
keep it in step, readable statements, the write policy, and the visible pages.

Nothing here imports a domain. Importing any part of it installs the index's flush
hooks, so every session that writes a record keeps the index in step.
"""

from ocpo_coord.visibility import reach as reach
