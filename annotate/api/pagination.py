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


class StrictPageSize:
    """A page_size that is not a whole number from 1 to the maximum is an error, not ignored."""

    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    page_size_query_description = f"Items a page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})."
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [f"Must be from 1 to {self.max_page_size}."]})
        return size

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)  # type: ignore[misc]
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
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
        if cursor is not None and cursor.position is not None and ID.fullmatch(cursor.position) is None:
            raise ValidationError(refused)
        return cursor
