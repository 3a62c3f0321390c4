"""Conditional writes over REST: ETag out, If-Match in (RFC 9110).

The ETag is the record's version. A PATCH with If-Match runs only against that
version; if someone wrote first, the answer is 412 and nothing changes. Without
If-Match, ``expected_version`` in the body does the same with 409.
"""

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Protocol, TypeVar

from fastapi import Header, Response

from ocpo_coord.exceptions import PreconditionFailed, StaleVersion

_TAG = re.compile(r'^(?:W/)?"v(\d{1,9})"$')

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=100,
        description='The ETag of the version you edited, e.g. "v3".',
    ),
]


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=Versioned)


def etag(version: int) -> str:
    return f'"v{version}"'


def tag_response(response: Response, public: V) -> V:
    response.headers["ETag"] = etag(public.version)
    return public


def parse_if_match(value: str | None) -> int | None:
    if value is None or value.strip() == "*":
        return None
    match = _TAG.match(value.strip())
    if match is None:
        raise PreconditionFailed('must be an ETag this service gave out, e.g. "v3"', field="If-Match")
    return int(match.group(1))


async def conditional(
    if_match: str | None,
    body_version: int | None,
    write: Callable[[int | None], Awaitable[V]],
) -> V:
    """Run ``write`` with the version the caller expects, from If-Match or the body."""
    expected = parse_if_match(if_match)
    if expected is not None and body_version is not None and expected != body_version:
        raise PreconditionFailed("If-Match and expected_version disagree", field="If-Match")
    try:
        return await write(expected if expected is not None else body_version)
    except StaleVersion as exc:
        if expected is None:
            raise
        raise PreconditionFailed(exc.message, field="If-Match") from exc
