"""Every API error is JSON with a `detail` message (and, for invalid input, the field errors)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

from annotate.middleware import DatabaseUnavailableMiddleware, database_unreachable

logger = logging.getLogger(__name__)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in one message.")
    # The serializer's metaclass moves declared fields off the class, so the `errors`
    # property stays; the stubs only see a field assigned over it.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For invalid input: the messages of each field.",
    )


def _messages(errors: Any, prefix: str = "") -> list[str]:
    """Field errors flattened to "field: message" lines, nested fields joined with dots."""
    if isinstance(errors, dict):
        lines = []
        for key, value in errors.items():
            name = prefix if key == "non_field_errors" else f"{prefix}.{key}" if prefix else str(key)
            lines += _messages(value, name)
        return lines
    if isinstance(errors, list):
        return [line for item in errors for line in _messages(item, prefix)]
    return [f"{prefix}: {errors}" if prefix else str(errors)]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: a service's ValidationError is a 400, a 400 carries one readable
    `detail` beside the field-by-field `errors`, a body over DATA_UPLOAD_MAX_MEMORY_SIZE is a
    413, and an unreachable database is the 503 of DatabaseUnavailableMiddleware, in JSON."""
    if database_unreachable(exc):
        request = context["request"]
        logger.warning("Database unavailable for %s %s: %s", request.method, request.path, exc)
        retry = str(DatabaseUnavailableMiddleware.RETRY_AFTER_SECONDS)
        return Response(
            {"detail": "Database unavailable, retry shortly."}, status=503, headers={"Retry-After": retry}
        )
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {"detail": f"The request body is larger than the limit of {limit} bytes."}, status=413
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=serializers.as_serializer_error(exc))
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": "; ".join(_messages(errors)), "errors": errors}
    return response


@csrf_exempt
def not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """Unknown paths under /api/ answer in JSON too, not with the HTML 404 page."""
    hint = "" if request.path.endswith("/") else " API paths end with a slash."
    return JsonResponse({"detail": f"No API endpoint at {request.path}.{hint}"}, status=404)
