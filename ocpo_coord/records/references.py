"""Agency-prefixed references with a random part, for cases and handovers alike.

Sequential numbers would tell a user how many of an agency's records exist, including
those above their clearance; a random part tells nothing.
"""

import secrets
from collections.abc import Awaitable, Callable

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32: no I, L, O, U


async def fresh_reference(prefix: str, taken: Callable[[str], Awaitable[bool]], *, length: int = 6) -> str:
    while True:
        candidate = prefix + "".join(secrets.choice(ALPHABET) for _ in range(length))
        if not await taken(candidate):
            return candidate
