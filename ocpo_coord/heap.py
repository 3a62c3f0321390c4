"""The garbage collector's settings for a long-running service process.

A request allocates thousands of short-lived containers (SQL expression trees, ORM
rows, GraphQL results). With CPython's defaults (a young-generation collection every
700 net allocations) that set off three or four collections per page, and now and then
a full one, which walks every object in the process: the ORM's mappings, the schemas,
the routes, hundreds of thousands of objects that live as long as the process. The
settings below make collections rare and keep those objects out of them.

Memory is still freed as before: objects without reference cycles go when their last
reference does, whatever the thresholds; only cyclic garbage waits a little longer.
"""

import gc

# Collect the young generation every 10,000 net allocations instead of 700: a few
# pages' worth of garbage, a few megabytes at most.
YOUNG_THRESHOLD = 10_000


def settle() -> None:
    """Move what exists once the service has started out of the collector's sight
    (``gc.freeze``), and collect the young generation less often. Called once per
    process, when the service starts; each worker process calls it for itself."""
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(YOUNG_THRESHOLD, young), middle, old)
