"""A request whose transaction PostgreSQL aborted against another's (a deadlock it
broke, a serialization failure) is run again, whole, a bounded number of times.

Writers take row locks in one order, but two requests can still meet in opposite
orders (two records touched both ways, a grant change against a record write). The
database then aborts one of them; nothing of it was kept, its audit entries
included, so running the same request again is what the caller would do, without
the caller seeing an error. That is safe only while nothing of the answer has left:
the aborted attempt's answer (the 503 of ``unavailable.answer_conflict``) is held
back, never sent, and the body is kept to be read again. A body too large to keep,
or of unknown length, is not kept: such a request is answered that 503, with
Retry-After, and the caller sends it again.
"""

import asyncio
import random

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Attempts in all, the first included.
ATTEMPTS = 4
# The largest body kept to be read again.
MAX_KEPT_BODY = 1 << 20


class RetryConflicts:
    """ASGI middleware: inside the error handlers' answers, outside nothing that keeps
    state of the request but ``scope["state"]`` (reset to what it held before each run)."""

    def __init__(self, app: ASGIApp, *, attempts: int = ATTEMPTS, max_body: int = MAX_KEPT_BODY) -> None:
        self.app = app
        self.attempts = attempts
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._replayable(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        kept = await _read_body(receive)
        state = scope.setdefault("state", {})
        before = dict(state)
        for attempt in range(1, self.attempts + 1):
            state.clear()
            state.update(before)
            last = attempt == self.attempts
            held_back = False

            async def send_unless_aborted(message: Message, last: bool = last) -> None:
                nonlocal held_back
                if message["type"] == "http.response.start" and not last:
                    held_back = bool(state.get("transaction_conflict"))
                if not held_back:
                    await send(message)

            attempt_scope = dict(scope)
            try:
                await self.app(attempt_scope, _replay(kept, receive), send_unless_aborted)
            finally:
                if not held_back:
                    # The answered attempt's routing (its route, path parameters) is what
                    # the layers outside report, as if it had been the only run.
                    scope.update(attempt_scope)
            if not held_back:
                return
            # The other transaction holds its locks until it ends: leave it a moment,
            # spread out so that two aborted requests do not meet again in step.
            await asyncio.sleep(random.uniform(0.005, 0.02) * attempt)

    def _replayable(self, headers: Headers) -> bool:
        if "transfer-encoding" in headers:
            return False
        length = headers.get("content-length", "0")
        return length.isdigit() and int(length) <= self.max_body


async def _read_body(receive: Receive) -> list[Message]:
    """The request's messages up to the end of its body (or the client leaving)."""
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replay(kept: list[Message], receive: Receive) -> Receive:
    """The kept messages, then whatever the client sends next (its leaving)."""
    pending = list(kept)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
