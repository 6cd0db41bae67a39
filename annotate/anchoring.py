"""How the model's suggestions sway each annotator: agreement with the model on labels given
with the suggestion on screen and without it, how often it was accepted, and, in the
"after" suggestion mode, how often a first label given without it was changed to it.

Counted in the database in one GROUP BY over the target's labels (annotate.summary stores
the result with the other figures that read every label, so pages read it in their one
summary query). As the suggestions' sway does, only labels given or changed since the
active model went live count, against that model's suggestion: it never trained on them,
and the suggestion on screen was its own.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, fields
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q

from annotate.models import Annotation, Label, Suggestion, Target


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class AnchoringCounts:
    """One annotator's stance labels (or everyone's), counted against the model."""

    with_suggestion: int = 0  # given with the suggestion on screen
    with_agreeing: int = 0  # ... equal to the model's suggestion
    accepted: int = 0  # ... accepted with one key (Enter, or `accept` in the API)
    without_suggestion: int = 0  # given without one (the control set, hidden mode, ...)
    without_agreeing: int = 0
    revealed: int = 0  # "after" mode: the suggestion revealed after a first label
    first_agreeing: int = 0  # ... whose first label already equalled it
    changed: int = 0  # ... whose final label differs from the first
    changed_to_suggestion: int = 0  # ... a first label other than the suggestion, changed to it

    @property
    def agreement_with(self) -> float | None:
        return _rate(self.with_agreeing, self.with_suggestion)

    @property
    def agreement_without(self) -> float | None:
        return _rate(self.without_agreeing, self.without_suggestion)

    @property
    def acceptance(self) -> float | None:
        return _rate(self.accepted, self.with_suggestion)

    @property
    def first_agreement(self) -> float | None:
        return _rate(self.first_agreeing, self.revealed)

    @property
    def changed_rate(self) -> float | None:
        return _rate(self.changed, self.revealed)

    @property
    def changed_to_suggestion_rate(self) -> float | None:
        """Of the first labels that differed from the suggestion, the share changed to it."""
        return _rate(self.changed_to_suggestion, self.revealed - self.first_agreeing)

    def __add__(self, other: AnchoringCounts) -> AnchoringCounts:
        return AnchoringCounts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(AnchoringCounts)}
        )


@dataclass(frozen=True)
class AnnotatorAnchoring(AnchoringCounts):
    annotator_id: int = 0
    #: As it was when counted: pages and the card name annotators without a query of their own.
    username: str = ""


@dataclass(frozen=True)
class Anchoring:
    since: datetime.datetime  # when the active model went live
    annotators: list[AnnotatorAnchoring]  # by annotator id

    @property
    def overall(self) -> AnchoringCounts:
        return sum(self.annotators, AnchoringCounts())

    def as_dict(self) -> dict[str, Any]:
        return {"since": self.since.isoformat(), "annotators": [asdict(row) for row in self.annotators]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Anchoring:
        return cls(
            since=datetime.datetime.fromisoformat(data["since"]),
            annotators=[AnnotatorAnchoring(**row) for row in data["annotators"]],
        )


def anchoring_figures(*, target: Target, since: datetime.datetime | None) -> Anchoring | None:
    """Each annotator's counts since the active version went live (`since`); None without
    an active version. One query, grouped by annotator."""
    if target.active_version_id is None or since is None:
        return None

    def agrees(column: str) -> Exists:
        return Exists(
            Suggestion.objects.filter(
                model_version_id=target.active_version_id,
                sentence_id=OuterRef("sentence_id"),
                label=OuterRef(column),
            )
        )

    shown, revealed = Q(suggestion_shown=True), Q(first_label__isnull=False)
    rows = (
        Annotation.objects.filter(target=target, updated_at__gte=since)
        .exclude(label=Label.SKIP)
        .alias(matches=agrees("label"), first_matches=agrees("first_label"))
        .values("annotator_id", username=F("annotator__username"))
        .annotate(
            with_suggestion=Count("id", filter=shown),
            with_agreeing=Count("id", filter=shown & Q(matches=True)),
            accepted=Count("id", filter=shown & Q(accepted_suggestion=True)),
            without_suggestion=Count("id", filter=~shown),
            without_agreeing=Count("id", filter=~shown & Q(matches=True)),
            revealed=Count("id", filter=revealed),
            first_agreeing=Count("id", filter=revealed & Q(first_matches=True)),
            changed=Count("id", filter=revealed & ~Q(first_label=F("label"))),
            changed_to_suggestion=Count("id", filter=revealed & Q(matches=True, first_matches=False)),
        )
        .order_by("annotator_id")
    )
    return Anchoring(since=since, annotators=[AnnotatorAnchoring(**row) for row in rows])
