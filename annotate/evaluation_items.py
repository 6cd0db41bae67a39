"""Marking settled sentences as evaluation items (the adjudication page's `e`, the
`evaluation_items` command, the Django admin's action).

An evaluation item's gold label is its adjudication's, so only a settled sentence can be
one, and undoing its first settle removes it (a cascade). Marking and unmarking take the
target's lock first, the one lock order of annotate/queue/__init__.py: a marked sentence
leaves the ordinary orders at once (rule.py), and an unmarked one may need labels again,
so the search cursors that passed it go back to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from annotate.models import Adjudication, EvaluationItem, Sentence, Target
from annotate.queue.cursors import rewind_cursors_locked
from annotate.queue.locks import lock_target


class NotSettled(ValidationError):
    """Only a sentence with a gold label (an adjudication) can be an evaluation item."""


def _unmark_locked(*, target: Target, items: list[EvaluationItem]) -> None:
    sentences = Sentence.objects.filter(pk__in=[item.sentence_id for item in items]).order_by(
        "article_id", "position"
    )
    EvaluationItem.objects.filter(pk__in=[item.pk for item in items]).delete()
    for sentence in sentences:
        rewind_cursors_locked(target=target, sentence=sentence)


def evaluation_item_toggle(*, curator: User, target: Target, sentence: Sentence) -> EvaluationItem | None:
    """Mark a settled sentence as an evaluation item, or unmark it when it is one; the item
    as it now stands (None: unmarked). Raises NotSettled for a sentence without a gold label."""
    with transaction.atomic():
        locked = lock_target(target.pk)
        existing = EvaluationItem.objects.filter(target=locked, sentence=sentence).first()
        if existing is not None:
            _unmark_locked(target=locked, items=[existing])
            return None
        adjudication = Adjudication.objects.filter(target=locked, sentence=sentence).first()
        if adjudication is None:
            raise NotSettled("Only a settled sentence can be an evaluation item: settle it first.")
        return EvaluationItem.objects.create(
            adjudication=adjudication, target=locked, sentence=sentence, marked_by=curator
        )


@dataclass(frozen=True)
class BulkMarked:
    marked: int  # newly marked
    already: int  # were evaluation items already
    unmarked: int
    unsettled: list[int]  # asked-for sentence ids without a gold label (left out)


def evaluation_items_mark(
    *, curator: User, target: Target, sentence_ids: Iterable[int] | None = None, limit: int | None = None
) -> BulkMarked:
    """Mark settled sentences as evaluation items in one transaction: those given, or every
    settled sentence of the target (the first `limit` by sentence id when given)."""
    with transaction.atomic():
        locked = lock_target(target.pk)
        settled = Adjudication.objects.filter(target=locked).order_by("sentence_id")
        wanted: list[int] = []
        if sentence_ids is not None:
            wanted = sorted(set(sentence_ids))
            settled = settled.filter(sentence_id__in=wanted)
        marked_already = set(
            EvaluationItem.objects.filter(target=locked).values_list("sentence_id", flat=True)
        )
        found = list(settled.values_list("pk", "sentence_id"))
        fresh = [(pk, sentence_id) for pk, sentence_id in found if sentence_id not in marked_already]
        if limit is not None:
            fresh = fresh[:limit]
        EvaluationItem.objects.bulk_create(
            EvaluationItem(adjudication_id=pk, target=locked, sentence_id=sentence_id, marked_by=curator)
            for pk, sentence_id in fresh
        )
        present = {sentence_id for _, sentence_id in found}
    return BulkMarked(
        marked=len(fresh),
        already=len(present & marked_already),
        unmarked=0,
        unsettled=[pk for pk in wanted if pk not in present],
    )


def evaluation_items_unmark(*, target: Target, sentence_ids: Iterable[int] | None = None) -> BulkMarked:
    """Unmark the given evaluation items, or all of the target's, in one transaction."""
    with transaction.atomic():
        locked = lock_target(target.pk)
        items = EvaluationItem.objects.filter(target=locked)
        if sentence_ids is not None:
            items = items.filter(sentence_id__in=list(sentence_ids))
        found = list(items)
        _unmark_locked(target=locked, items=found)
    return BulkMarked(marked=0, already=0, unmarked=len(found), unsettled=[])
