"""The OpenAPI schema's common parts: every operation documents the errors it can answer."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import Direction

from annotate.api.docs import documentation_apply
from annotate.api.errors import ErrorSerializer

ERRORS = {
    "400": "Invalid input: `detail` says what is wrong, `errors` lists it field by field.",
    "401": "Not authenticated: send `Authorization: Token <key>` or log in.",
    "403": "Your role does not allow this.",
    "404": "No such object (or not yours), or no such page.",
}


class StanceAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        takes_input = self.method in ("POST", "PUT", "PATCH") or any(
            parameter["in"] == "query" for parameter in self._get_parameters()
        )
        for code, description in ERRORS.items():
            if code == "400" and not takes_input:
                continue
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                responses[code] = {**response, "description": description}
        return responses


def documentation_hook(
    endpoints: list[tuple[str, str, str, Any]], **kwargs: object
) -> list[tuple[str, str, str, Any]]:
    """drf-spectacular's preprocessing hook: the views' documentation (annotate.api.docs) is
    applied before their schemas are read."""
    documentation_apply(views=[callback.cls for _path, _regex, _method, callback in endpoints])
    return endpoints
