"""The REST list envelope and its query parameters."""

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from ocpo_coord.visibility.pagination import Page

T = TypeVar("T")

LimitQuery = Annotated[int, Query(ge=1, le=100, description="Page size (1-100).")]
CursorQuery = Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page.")]


class ListResponse(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None
    total_count: int
    total_count_capped: bool


def envelope(page: Page[T]) -> "ListResponse[T]":
    return ListResponse[T](
        items=page.items,
        next_cursor=page.end_cursors[-1] if page.has_next_page and page.end_cursors else None,
        total_count=page.total_count,
        total_count_capped=page.total_count_capped,
    )


class PageParams(BaseModel):
    """Mixed into each list's query model, so unknown parameters are refused by name."""

    limit: int = Field(default=50, ge=1, le=100, description="Page size (1-100).")
    after: str | None = Field(default=None, max_length=200, description="next_cursor of the previous page.")

    def filters(self) -> dict[str, object]:
        return self.model_dump(exclude={"limit", "after"})
