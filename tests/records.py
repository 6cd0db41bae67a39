"""What the database holds about labels, for tests to compare before and after."""

from __future__ import annotations

from annotate.models import Annotation, AnnotationEvent


def history(annotator) -> list[tuple[str, str, str]]:
    """The annotator's history events as (action, old label, new label), oldest first."""
    return list(
        AnnotationEvent.objects.filter(annotator=annotator)
        .order_by("id")
        .values_list("action", "old_label", "new_label")
    )


def snapshot() -> tuple[list[dict], list[dict]]:
    """Every annotation and history row, to show that a refused request changed nothing."""
    return (
        list(Annotation.objects.order_by("id").values()),
        list(AnnotationEvent.objects.order_by("id").values()),
    )
