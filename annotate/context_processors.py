from __future__ import annotations

from functools import cache

from django.http import HttpRequest

from annotate.models import Target
from annotate.roles import ADMIN, ANNOTATOR, CURATOR


def roles(request: HttpRequest) -> dict[str, object]:
    """Role flags for the navigation. Callables, so fragments that never show the
    navigation (the label loop) never run their queries; one query serves both flags."""
    user = request.user

    @cache
    def groups() -> frozenset[str]:
        if not user.is_authenticated:
            return frozenset()
        return frozenset(user.groups.values_list("name", flat=True))

    def is_admin() -> bool:
        return user.is_superuser or ADMIN in groups()

    def is_curator() -> bool:
        return user.is_superuser or bool({ADMIN, CURATOR} & groups())

    def is_annotator() -> bool:
        # As annotate.roles.is_annotator: the group, not superuser status.
        return ANNOTATOR in groups()

    @cache
    def default_target_id() -> int | None:
        return Target.objects.order_by("id").values_list("id", flat=True).first()

    return {
        "is_admin": is_admin,
        "is_curator": is_curator,
        "is_annotator": is_annotator,
        "default_target_id": default_target_id,
    }
