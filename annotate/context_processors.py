from __future__ import annotations

from django.http import HttpRequest

from annotate.models import Target
from annotate.roles import is_admin, is_curator


def roles(request: HttpRequest) -> dict[str, object]:
    """Role flags for the navigation. Callables, so fragments that never show the
    navigation (the label loop) never run their queries."""
    return {
        "is_admin": lambda: is_admin(request.user),
        "is_curator": lambda: is_curator(request.user),
        "default_target_id": lambda: Target.objects.order_by("id").values_list("id", flat=True).first(),
    }
