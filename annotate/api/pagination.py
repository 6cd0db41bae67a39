"""Pagination: page numbers everywhere, a cursor for sentences so deep pages stay fast."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

#: A position in a cursor: an id, 1 to 18 ASCII digits (within a signed 64-bit column).
ID = re.compile(r"[1-9][0-9]{0,17}")
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
PAGE_SIZE_PARAM = "page_size"


class StrictPageSize:
    """A page_size that is not a whole number from 1 to the maximum is an error, not ignored."""

    # Typed as DRF's pagination classes type them (optional); the rule reads the constants.
    page_size: int | None = DEFAULT_PAGE_SIZE
    page_size_query_param: str | None = PAGE_SIZE_PARAM
    page_size_query_description = f"Items a page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})."
    max_page_size: int | None = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(PAGE_SIZE_PARAM)
        if raw is None:
            return DEFAULT_PAGE_SIZE
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValidationError({PAGE_SIZE_PARAM: [f"Must be from 1 to {MAX_PAGE_SIZE}."]})
        return size

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)  # type: ignore[misc]
        for parameter in parameters:
            if parameter["name"] == PAGE_SIZE_PARAM:
                parameter["schema"].update(minimum=1, maximum=MAX_PAGE_SIZE)
        return parameters


class PageNumberPagination(StrictPageSize, pagination.PageNumberPagination):
    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


class IdCursorPagination(StrictPageSize, pagination.CursorPagination):
    """Keyset pagination on the primary key: every page costs one indexed range scan."""

    ordering = "id"

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        """A cursor this API did not hand out is a 400. DRF answers most with a 404, and one
        whose position is not an id (p=abc, or past 64 bits) reached the query as a 500."""
        refused = {self.cursor_query_param: ["Not a cursor this API handed out: follow `next`."]}
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError(refused) from None
        # DRF decodes the position as the query's text (its stubs say int, hence str()).
        if cursor is not None and cursor.position is not None and ID.fullmatch(str(cursor.position)) is None:
            raise ValidationError(refused)
        return cursor
