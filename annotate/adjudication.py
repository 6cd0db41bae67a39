"""Adjudication: curators settle the gold label of sentences whose annotators disagree.

The review queue lists the open disagreements worst first, read from the sentence
tallies through a partial index in the queue's order (agreement, then more labels first,
then sentence), so the first page costs the same whether there are ten disagreements or a
hundred thousand. A settled label wins over the annotators' in annotate/gold.py's rule.

Every gold change goes through this module (the adjudication page, the Django admin),
and each writes its AdjudicationEvent in the same transaction: settle, change, undo.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from annotate.models import (
    STANCE_LABELS,
    Adjudication,
    AdjudicationEvent,
    Annotation,
    DisagreementCount,
    EvaluationItem,
    Label,
    Sentence,
    SentenceTally,
    Target,
)
from annotate.queue.cursors import rewind_cursors_locked
from annotate.queue.locks import lock_target


@dataclass(frozen=True)
class GoldChange:
    """What a settle, change or undo did: the adjudication as it now stands (None when an
    undo removed it) and the history event written (None when nothing changed)."""

    adjudication: Adjudication | None
    event: AdjudicationEvent | None


class NothingToUndo(ValidationError):
    """The sentence has no gold change left to take back."""


class HistoryMoved(ValidationError):
    """The sentence's gold label changed after the page that asked for the undo was shown."""


def _lock(*, sentence: Sentence, target: Target) -> Adjudication | None:
    """Take the one lock order of every label path (annotate/queue.py): the target's row
    first, then the adjudication's row; the triggers then lock the sentence's tally, the
    disagreement count and the change counter (annotate/tally_sql.py). Two curators on one
    sentence queue here, so the second reads the first's label as its old one and no event
    is lost. (SQLite: the IMMEDIATE transaction already holds the write lock.) An archived
    target refuses here, under its lock (TargetArchived)."""
    lock_target(target.pk)
    return Adjudication.objects.select_for_update().filter(sentence=sentence, target=target).first()


def _event(
    *,
    sentence: Sentence,
    target: Target,
    curator: User,
    action: str,
    old: str,
    new: str,
    undoes: int | None = None,
) -> AdjudicationEvent:
    return AdjudicationEvent.objects.create(
        sentence_id=sentence.pk,
        target_id=target.pk,
        curator_id=curator.pk,
        action=action,
        old_label=old,
        new_label=new,
        undoes_id=undoes,
    )


def adjudication_record(*, curator: User, sentence: Sentence, target: Target, label: str) -> GoldChange:
    """Settle (or change) a sentence's gold label, with its history event in the same
    transaction. The same label again changes nothing and writes no event."""
    if label not in STANCE_LABELS:
        raise ValidationError(f"Unknown label {label!r}; expected one of {', '.join(STANCE_LABELS)}.")
    with transaction.atomic():
        adjudication = _lock(sentence=sentence, target=target)
        if adjudication is not None and adjudication.label == label:
            return GoldChange(adjudication=adjudication, event=None)
        if adjudication is None:
            adjudication = Adjudication.objects.create(
                sentence=sentence, target=target, label=label, curator=curator
            )
            action, old = AdjudicationEvent.Action.SETTLE, ""
        else:
            old = adjudication.label
            adjudication.label, adjudication.curator = label, curator
            adjudication.save(update_fields=["label", "curator", "updated_at"])
            action = AdjudicationEvent.Action.CHANGE
        event = _event(sentence=sentence, target=target, curator=curator, action=action, old=old, new=label)
    return GoldChange(adjudication=adjudication, event=event)


def _undo_stack(*, sentence: Sentence, target: Target) -> tuple[list[AdjudicationEvent], int | None]:
    """The sentence's settles and changes that no undo took back, newest first, and the id
    of its newest event of any kind. One indexed read of the sentence's history."""
    events = list(AdjudicationEvent.objects.filter(sentence=sentence, target=target).order_by("-id"))
    undone = {event.undoes_id for event in events if event.undoes_id is not None}
    stack = [e for e in events if e.action != AdjudicationEvent.Action.UNDO and e.pk not in undone]
    return stack, events[0].pk if events else None


def adjudication_undo(
    *, curator: User, sentence: Sentence, target: Target, seen_event: int | None = None
) -> GoldChange:
    """Take back the newest gold change of a sentence that is not yet taken back: the label
    before it comes back (with the curator who had set it), or the adjudication goes when
    it was the first settle, and the sentence is an open disagreement again. Undo again to
    go further back. The undo is an event too.

    `seen_event` is the newest history event the asking page showed: when the sentence has
    a newer one (another curator's change), HistoryMoved is raised and nothing changes.
    Raises NothingToUndo when there is no change to take back.
    """
    with transaction.atomic():
        adjudication = _lock(sentence=sentence, target=target)
        stack, newest = _undo_stack(sentence=sentence, target=target)
        if seen_event is not None and newest != seen_event:
            raise HistoryMoved(
                "The gold label of this sentence changed since the page was shown; see it now."
            )
        current = adjudication.label if adjudication is not None else ""
        # A label written outside this module has no event to take back.
        if not stack or stack[0].new_label != current or adjudication is None:
            raise NothingToUndo("This sentence has no gold change to undo.")
        top = stack[0]
        if top.old_label:
            adjudication.label = top.old_label
            adjudication.curator_id = stack[1].curator_id if len(stack) > 1 else curator.pk
            adjudication.save(update_fields=["label", "curator", "updated_at"])
            after: Adjudication | None = adjudication
        else:
            # The cascade removes its evaluation item too: the sentence may need labels
            # again, so searches that passed it as one must see it (the one lock order:
            # the cursors come after the adjudication's row).
            was_item = EvaluationItem.objects.filter(adjudication=adjudication).exists()
            adjudication.delete()
            if was_item:
                rewind_cursors_locked(target=target, sentence=sentence)
            after = None
        event = _event(
            sentence=sentence,
            target=target,
            curator=curator,
            action=AdjudicationEvent.Action.UNDO,
            old=current,
            new=top.old_label,
            undoes=top.pk,
        )
    return GoldChange(adjudication=after, event=event)


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a sentence's gold history as the adjudication page shows it."""

    id: int
    sentence_id: int
    curator: str
    action: str
    old_label: str
    new_label: str
    created_at: datetime.datetime


def gold_histories(
    *, target: Target, sentence_ids: list[int], per_sentence: int
) -> dict[int, list[HistoryEntry]]:
    """The newest `per_sentence` history events of each sentence, newest first: one query
    however long the histories (a window over the sentence index)."""
    if not sentence_ids:
        return {}
    rows = (
        AdjudicationEvent.objects.filter(target=target, sentence_id__in=sentence_ids)
        .annotate(rank=Window(RowNumber(), partition_by=[F("sentence_id")], order_by=[F("id").desc()]))
        .filter(rank__lte=per_sentence)
        .order_by("sentence_id", "-id")
        .values_list(
            "id", "sentence_id", "curator__username", "action", "old_label", "new_label", "created_at"
        )
    )
    histories: dict[int, list[HistoryEntry]] = defaultdict(list)
    for row in rows:
        entry = HistoryEntry(*row)
        histories[entry.sentence_id].append(entry)
    return histories


@dataclass
class Disagreement:
    sentence_id: int
    votes: list[tuple[int, str]]  # (annotator id, label), in annotator order
    counts: dict[str, int]
    agreement: float | None  # None below two labels (only a sentence opened by its id)


def open_disagreements(*, target: Target) -> QuerySet[SentenceTally]:
    """Unsettled sentences whose non-skipped labels are not all the same, worst first."""
    return SentenceTally.objects.filter(target=target, agreement__lt=1, adjudicated="").order_by(
        "agreement", "-votes", "sentence_id"
    )


def disagreements(*, target: Target, limit: int) -> list[Disagreement]:
    """The first `limit` open disagreements with their labels (two queries)."""
    return _with_votes(target=target, tallies=list(open_disagreements(target=target)[:limit]))


def disagreement_of(*, target: Target, sentence: Sentence) -> Disagreement:
    """One sentence as the adjudication card shows it, whatever its labels (the search
    links here): agreed, settled or unlabelled too (two queries)."""
    tally = SentenceTally.objects.filter(target=target, sentence=sentence).first()
    if tally is None:
        return Disagreement(sentence_id=sentence.pk, votes=[], counts={}, agreement=None)
    return _with_votes(target=target, tallies=[tally], keep_agreement=True)[0]


def _with_votes(
    *, target: Target, tallies: list[SentenceTally], keep_agreement: bool = False
) -> list[Disagreement]:
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
            agreement=t.agreement if keep_agreement else (t.agreement or 0.0),
        )
        for t in tallies
    ]


def open_count(*, target: Target) -> int:
    """How many open disagreements there are: one row a trigger keeps (annotate/tally_sql.py)."""
    counts = DisagreementCount.objects.filter(target=target).values_list("open_count", flat=True)
    return next(iter(counts), 0)
