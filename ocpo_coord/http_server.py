"""The HTTP server's own bounds on what a client may hold: header size, header time,
body idle time.

uvicorn's httptools protocol reads a request's headers whatever their size, and waits
for them, and for a body, as long as the client likes: a 64 MB header is read into
memory, and a connection that sends half a header (or a body a byte now and then)
stays open. None of that reaches the application, so it is bounded here, in the
protocol uvicorn runs (``ocpo-coord serve`` names it):

- headers larger than ``max_header_bytes``: 431, and the connection is closed
  without reading further;
- headers not complete ``header_timeout_seconds`` after their first byte: 408, closed;
- a body with nothing arriving for ``body_idle_timeout_seconds`` while the
  application waits for it: the connection is closed (the application sees the client
  gone). A slow link that keeps sending is never cut; only silence is.
"""

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ocpo_coord.config import Settings, get_settings

PROTOCOL = "ocpo_coord.http_server:BoundedHttpProtocol"


def _refusal(status: int, reason: str, code: str, message: str) -> bytes:
    body = json.dumps({"detail": {"code": code, "message": message, "field": None}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


class BoundedHttpProtocol(HttpToolsProtocol):
    # The configured settings unless a subclass names others (tests).
    settings: Settings | None = None

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        settings = self.settings or get_settings()
        self.max_header_bytes = settings.max_header_bytes
        self.header_timeout = settings.header_timeout_seconds
        self.body_idle_timeout = settings.body_idle_timeout_seconds
        self._awaiting_headers = True
        self._header_bytes = 0
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        counting = self._awaiting_headers
        if counting and self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)
        super().data_received(data)
        if counting and self._awaiting_headers:
            # Every byte of this chunk went to headers still incomplete.
            self._header_bytes += len(data)
            if self._header_bytes > self.max_header_bytes:
                self._refuse(
                    _refusal(
                        431,
                        "Request Header Fields Too Large",
                        "HEADERS_TOO_LARGE",
                        f"the request's headers are larger than {self.max_header_bytes} bytes",
                    )
                )

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._header_bytes = 0
        self._cancel_header_timer()
        super().on_headers_complete()
        if not self.parser.should_upgrade():  # a websocket is not a body
            self._arm_body_timer()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm_body_timer()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._cancel_body_timer()
        self._awaiting_headers = True  # the next request on this connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        self._cancel_body_timer()
        super().connection_lost(exc)

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self._awaiting_headers and not self._refused:
            self._refuse(
                _refusal(
                    408,
                    "Request Timeout",
                    "REQUEST_TIMEOUT",
                    f"the request's headers did not arrive within {self.header_timeout:g} s",
                )
            )

    def _arm_body_timer(self) -> None:
        self._cancel_body_timer()
        self._body_timer = self.loop.call_later(self.body_idle_timeout, self._body_too_slow)

    def _body_too_slow(self) -> None:
        self._body_timer = None
        if self.flow.read_paused:  # the application is not reading: not the client's silence
            self._arm_body_timer()
            return
        self.transport.close()

    def _refuse(self, answer: bytes) -> None:
        self._refused = True
        self._cancel_header_timer()
        self.transport.write(answer)
        self.transport.close()

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
