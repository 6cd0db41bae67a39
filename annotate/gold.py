"""A sentence's gold label: the one rule that training, agreement and export share.

A curator's adjudication wins. Otherwise the strict majority of the sentence's non-skipped
labels decides; a single label counts until more arrive; a tie stays unresolved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby

from django.db.models import Count

from annotate.models import Adjudication, Annotation, Label, Target


class Method:
    ADJUDICATED = "adjudicated"
    MAJORITY = "majority"
    SINGLE = "single"
    UNRESOLVED = "unresolved"
    # Under the Dawid-Skene rule (annotate.aggregation): the model's most probable label,
    # and a known label given besides the adjudications (an evaluation item's).
    DAWID_SKENE = "dawid_skene"
    CLAMPED = "clamped"


@dataclass(frozen=True)
class Gold:
    sentence_id: int
    label: str | None  # None when unresolved
    method: str
    votes: int  # non-skipped labels the decision rests on
    counts: dict[str, int]
    # Under the Dawid-Skene rule, the model's probability of each stance label.
    posterior: dict[str, float] | None = None

    @property
    def resolved(self) -> bool:
        return self.label is not None


def decide(sentence_id: int, counts: dict[str, int], adjudicated: str | None = None) -> Gold:
    """The gold label from one sentence's label counts (skips already left out)."""
    votes = sum(counts.values())
    if adjudicated:
        return Gold(sentence_id, adjudicated, Method.ADJUDICATED, votes, counts)
    if votes == 0:
        return Gold(sentence_id, None, Method.UNRESOLVED, 0, counts)
    label, top = Counter(counts).most_common(1)[0]
    if votes == 1:
        return Gold(sentence_id, label, Method.SINGLE, votes, counts)
    if top * 2 > votes:
        return Gold(sentence_id, label, Method.MAJORITY, votes, counts)
    return Gold(sentence_id, None, Method.UNRESOLVED, votes, counts)


def gold_labels(*, target: Target) -> Iterator[Gold]:
    """Gold decisions for every sentence of the target that has a label or an adjudication.

    Streams in sentence order (adjudicated sentences without labels come last) from two
    queries, so memory stays flat for large corpora.
    """
    votes = (
        Annotation.objects.filter(target=target)
        .exclude(label=Label.SKIP)
        .values("sentence_id", "label")
        .annotate(n=Count("id"))
        .order_by("sentence_id", "label")
    )
    decided = dict(Adjudication.objects.filter(target=target).values_list("sentence_id", "label"))
    for sentence_id, rows in groupby(votes.iterator(chunk_size=5000), key=lambda row: row["sentence_id"]):
        counts = {row["label"]: row["n"] for row in rows}
        yield decide(sentence_id, counts, decided.pop(sentence_id, None))
    # Adjudicated sentences whose labels were all skips or undone.
    for sentence_id, label in sorted(decided.items()):
        yield decide(sentence_id, {}, label)
