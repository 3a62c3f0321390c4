"""Who is acting, in which request, and at what instant: passed to every service."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from ocpo_coord.auth.principal import Principal
from ocpo_coord.models.base import utcnow


@dataclass(frozen=True, slots=True)
class Actor:
    principal: Principal
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # One instant per request, so every expiry in one request is judged alike.
    now: datetime = field(default_factory=utcnow)
