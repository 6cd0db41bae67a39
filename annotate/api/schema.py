"""The OpenAPI schema's common parts: every operation documents the errors it can answer."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import Direction
from rest_framework import serializers

ERRORS = {
    "400": "Invalid input: `detail` says what is wrong, `errors` lists it field by field.",
    "401": "Not authenticated: send `Authorization: Token <key>` or log in.",
    "403": "Your role does not allow this.",
    "404": "No such object (or not yours), or no such page.",
}


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in one message.")
    # The serializer's metaclass moves declared fields off the class, so the `errors`
    # property stays; the stubs only see a field assigned over it.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For invalid input: the messages of each field.",
    )


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
