from __future__ import annotations

from functools import cache

from django.http import HttpRequest

from annotate.models import Target
from annotate.roles import ADMIN, ANNOTATOR, CURATOR, holds


def roles(request: HttpRequest) -> dict[str, object]:
    """Role flags for the navigation. Callables, so fragments that never show the
    navigation (the label loop) never run their queries; one query serves both flags."""
    user = request.user

    @cache
    def groups() -> frozenset[str]:
        if not user.is_authenticated:
            return frozenset()
        return frozenset(user.groups.values_list("name", flat=True))

    # The rule is annotate.roles'; only the group names are read here, once.
    def is_admin() -> bool:
        return holds(user, groups(), ADMIN)

    def is_curator() -> bool:
        return holds(user, groups(), CURATOR, ADMIN)

    def is_annotator() -> bool:
        return holds(user, groups(), ANNOTATOR)

    @cache
    def default_target_id() -> int | None:
        # The first target in use: archived ones are reached from the targets page.
        return Target.objects.in_use().order_by("id").values_list("id", flat=True).first()

    return {
        "is_admin": is_admin,
        "is_curator": is_curator,
        "is_annotator": is_annotator,
        "default_target_id": default_target_id,
    }
