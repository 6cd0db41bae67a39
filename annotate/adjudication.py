"""Adjudication: curators settle the gold label of sentences whose annotators disagree.

The review queue lists the open disagreements worst first, read from the sentence
tallies through a partial index in the queue's order (agreement, then more labels first,
then sentence), so the first page costs the same whether there are ten disagreements or a
hundred thousand. A settled label wins over the annotators' in annotate/gold.py's rule.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from annotate.models import (
    STANCE_LABELS,
    Adjudication,
    Annotation,
    DisagreementCount,
    Label,
    Sentence,
    SentenceTally,
    Target,
)


def adjudication_record(*, curator: User, sentence: Sentence, target: Target, label: str) -> Adjudication:
    """Settle (or change) a sentence's gold label; the row keeps who decided and when."""
    if label not in STANCE_LABELS:
        raise ValidationError(f"Unknown label {label!r}; expected one of {', '.join(STANCE_LABELS)}.")
    with transaction.atomic():
        adjudication, _ = Adjudication.objects.update_or_create(
            sentence=sentence, target=target, defaults={"label": label, "curator": curator}
        )
    return adjudication


@dataclass
class Disagreement:
    sentence_id: int
    votes: list[tuple[int, str]]  # (annotator id, label), in annotator order
    counts: dict[str, int]
    agreement: float


def open_disagreements(*, target: Target) -> QuerySet[SentenceTally]:
    """Unsettled sentences whose non-skipped labels are not all the same, worst first."""
    return SentenceTally.objects.filter(target=target, agreement__lt=1, adjudicated="").order_by(
        "agreement", "-votes", "sentence_id"
    )


def disagreements(*, target: Target, limit: int) -> list[Disagreement]:
    """The first `limit` open disagreements with their labels (two queries)."""
    tallies = list(open_disagreements(target=target)[:limit])
    votes: dict[int, list[tuple[int, str]]] = defaultdict(list)
    rows = (
        Annotation.objects.filter(target=target, sentence_id__in=[t.sentence_id for t in tallies])
        .exclude(label=Label.SKIP)
        .order_by("annotator_id")
        .values_list("sentence_id", "annotator_id", "label")
    )
    for sentence_id, annotator_id, label in rows:
        votes[sentence_id].append((annotator_id, label))
    return [
        Disagreement(
            sentence_id=t.sentence_id,
            votes=votes[t.sentence_id],
            counts={label: n for label in STANCE_LABELS if (n := getattr(t, label))},
            agreement=t.agreement or 0.0,
        )
        for t in tallies
    ]


def open_count(*, target: Target) -> int:
    """How many open disagreements there are: one row a trigger keeps (annotate/tally_sql.py)."""
    counts = DisagreementCount.objects.filter(target=target).values_list("open_count", flat=True)
    return next(iter(counts), 0)
