"""Cursor pages: a `Page` holds one page and, iterated, walks every page after it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from ._errors import RenderowlError

T = TypeVar("T")


class Page(Generic[T]):
    """One page of a list (`data`, `has_more`, `next_cursor`). Iterating it yields every item of this page
    and of all the pages after it, fetching each as it is reached."""

    def __init__(self, data: list[T], has_more: bool, next_cursor: str | None, fetch: Callable[[str], Page[T]],
                 cursor: str | None = None):
        self.data = data
        self.has_more = bool(has_more)
        self.next_cursor = next_cursor
        self.cursor = cursor  # the cursor this page was asked for with (None: the first page)
        self._fetch = fetch

    def next_page(self) -> Page[T] | None:
        """The following page, or None on the last one.

        A next cursor equal to this page's own would fetch the same page for ever (a broken proxy or
        server): that is an error with the code `invalid_response`, not an endless loop.
        """
        if not self.has_more or not self.next_cursor:
            return None
        if self.next_cursor == self.cursor:
            raise RenderowlError(
                "The API answered a page whose next cursor is the cursor it was asked for; paging would not end.",
                code="invalid_response",
            )
        return self._fetch(self.next_cursor)

    def iter_pages(self) -> Iterator[Page[T]]:
        page: Page[T] | None = self
        while page is not None:
            yield page
            page = page.next_page()

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.data

    def __repr__(self):
        return f"Page({len(self.data)} items, has_more={self.has_more})"
