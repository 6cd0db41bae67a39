"""Which sentence an annotator gets next.

A sentence is open to an annotator when they have not labelled or skipped it and fewer
than the target's overlap of other annotators have labelled it or hold it right now.
Handing out a sentence is serialised per target (a row lock on PostgreSQL, the write lock
of an IMMEDIATE transaction on SQLite), so the last open slot goes to one annotator only.
"""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Exists, IntegerField, Max, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotate.models import (
    Annotation,
    Assignment,
    Label,
    QueueCursor,
    QueueOrder,
    Sentence,
    Suggestion,
    Target,
    Uncertainty,
)
from annotate.roles import ANNOTATOR

#: How long a shown sentence stays reserved for its annotator.
ASSIGNMENT_TIMEOUT = datetime.timedelta(seconds=getattr(settings, "ASSIGNMENT_TIMEOUT_SECONDS", 600))


def _count(queryset: QuerySet) -> Coalesce:
    counted = queryset.order_by().values("sentence_id").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _open_to(
    queryset: QuerySet, *, annotator: AbstractBaseUser, target: Target, now: datetime.datetime, ref: str
) -> QuerySet:
    """Filter rows whose sentence (at `ref`) the annotator may be given."""
    sentence = OuterRef(ref)
    mine = Annotation.objects.filter(target=target, sentence=sentence, annotator_id=annotator.pk)
    labels = Annotation.objects.filter(target=target, sentence=sentence).exclude(label=Label.SKIP)
    held = Assignment.objects.filter(target=target, sentence=sentence, expires_at__gt=now).exclude(
        annotator_id=annotator.pk
    )
    return (
        queryset.filter(~Exists(mine))
        .alias(taken=_count(labels) + _count(held))
        .filter(taken__lt=target.overlap)
    )


def open_sentences(
    *, annotator: AbstractBaseUser, target: Target, now: datetime.datetime
) -> QuerySet[Sentence]:
    """Sentences the annotator may be given, in article and position order."""
    return _open_to(Sentence.objects.all(), annotator=annotator, target=target, now=now, ref="pk").order_by(
        "article_id", "position"
    )


def _from(article_id: int, position: int) -> Q:
    """Sentences at or after (article_id, position) in queue order.

    Written as a range on article_id minus the article's earlier positions, not as an OR:
    with the OR, SQLite scans the (article, position) index from its start (0.5 s at a
    million sentences); with the range it seeks straight to the cursor (2 ms).
    """
    return Q(article_id__gte=article_id) & ~Q(article_id=article_id, position__lt=position)


def _frontier(
    *, annotator: AbstractBaseUser, target: Target, start: tuple[int, int]
) -> tuple[int, int] | None:
    """The first sentence from `start` that is neither the annotator's nor full of labels.

    Reservations are left out on purpose: they expire, so the cursor must not pass them.
    """
    sentence = OuterRef("pk")
    mine = Annotation.objects.filter(target=target, sentence=sentence, annotator_id=annotator.pk)
    labels = Annotation.objects.filter(target=target, sentence=sentence).exclude(label=Label.SKIP)
    return (
        Sentence.objects.filter(_from(*start))
        .filter(~Exists(mine))
        .alias(labelled=_count(labels))
        .filter(labelled__lt=target.overlap)
        .order_by("article_id", "position")
        .values_list("article_id", "position")
        .first()
    )


def first_open(*, annotator: AbstractBaseUser, target: Target, now: datetime.datetime) -> Sentence | None:
    """The first open sentence in queue order, with its article.

    The search starts at the annotator's cursor and selects ids only, so it walks the
    (article, position) index over a bounded stretch whatever the corpus size and however
    much of it is labelled; the article is joined in only for the sentence found.
    """
    cursor = QueueCursor.objects.filter(annotator_id=annotator.pk, target=target).first()
    start = (cursor.article_id, cursor.position) if cursor else (0, 0)
    frontier = _frontier(annotator=annotator, target=target, start=start)
    if frontier is None:
        return None
    if cursor is None:
        QueueCursor.objects.create(
            annotator_id=annotator.pk, target=target, article_id=frontier[0], position=frontier[1]
        )
    elif frontier != start:
        cursor.article_id, cursor.position = frontier
        cursor.save(update_fields=["article_id", "position"])
    found = (
        open_sentences(annotator=annotator, target=target, now=now)
        .filter(_from(*frontier))
        .values_list("pk", flat=True)
        .first()
    )
    return None if found is None else Sentence.objects.select_related("article").get(pk=found)


def rewind_cursors(*, target: Target, sentence: Sentence) -> None:
    """A sentence lost a label (undo, relabel to skip) or was added: searches must see it again."""
    QueueCursor.objects.filter(target=target).filter(
        Q(article_id__gt=sentence.article_id)
        | Q(article_id=sentence.article_id, position__gt=sentence.position)
    ).update(article_id=sentence.article_id, position=sentence.position)


UNCERTAINTY_ORDER = {
    Uncertainty.LEAST_CONFIDENT: "confidence",
    Uncertainty.MARGIN: "margin",
    Uncertainty.ENTROPY: "-entropy",
}


def _most_uncertain(
    *, annotator: AbstractBaseUser, target: Target, now: datetime.datetime
) -> Sentence | None:
    # Walks the active version's suggestions in uncertainty order (an index) and stops
    # at the first open sentence, instead of scoring every sentence.
    suggestions = Suggestion.objects.filter(model_version_id=target.active_version_id)
    found = (
        _open_to(suggestions, annotator=annotator, target=target, now=now, ref="sentence_id")
        .order_by(UNCERTAINTY_ORDER[target.uncertainty_measure], "sentence_id")
        .select_related("sentence__article")
        .first()
    )
    return found.sentence if found else None


def _random_open(*, annotator: AbstractBaseUser, target: Target, now: datetime.datetime) -> Sentence | None:
    bounds = Sentence.objects.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return None
    start = random.randint(bounds["low"], bounds["high"])
    candidates = _open_to(
        Sentence.objects.select_related("article"), annotator=annotator, target=target, now=now, ref="pk"
    ).order_by("id")
    return candidates.filter(id__gte=start).first() or candidates.first()


def pick_sentence(*, annotator: AbstractBaseUser, target: Target, now: datetime.datetime) -> Sentence | None:
    """The next open sentence by the target's queue order."""
    order = target.queue_order
    if order != QueueOrder.IN_ORDER and target.active_version_id is not None:
        if order == QueueOrder.MIX and random.random() < target.random_share:
            picked = _random_open(annotator=annotator, target=target, now=now)
        else:
            picked = _most_uncertain(annotator=annotator, target=target, now=now)
        if picked is not None:
            return picked
    # Before any model, and for sentences the model has not seen yet.
    return first_open(annotator=annotator, target=target, now=now)


def next_sentence(*, annotator: AbstractBaseUser, target: Target) -> Sentence | None:
    """The sentence to show the annotator now, reserving it; None when the queue is empty.

    The sentence already reserved for the annotator is kept until they label it or it
    expires, so reloading the page never skips a sentence.
    """
    now = timezone.now()
    with transaction.atomic():
        # Lock the target row and read its current order settings: switching the order
        # needs no restart.
        target = Target.objects.select_for_update().get(pk=target.pk)
        current = (
            Assignment.objects.filter(annotator_id=annotator.pk, target=target, expires_at__gt=now)
            .select_related("sentence__article")
            .first()
        )
        if current is not None:
            # Labelling deletes the reservation, so a live one is still unlabelled.
            return current.sentence
        sentence = pick_sentence(annotator=annotator, target=target, now=now)
        if sentence is None:
            Assignment.objects.filter(annotator_id=annotator.pk, target=target).delete()
            return None
        _assign(annotator=annotator, target=target, sentence=sentence, now=now)
        return sentence


def assign(*, annotator: AbstractBaseUser, target: Target, sentence: Sentence) -> None:
    """Reserve a given sentence for the annotator (to show it again after an undo)."""
    with transaction.atomic():
        Target.objects.select_for_update().filter(pk=target.pk).exists()
        _assign(annotator=annotator, target=target, sentence=sentence, now=timezone.now())


def _assign(
    *, annotator: AbstractBaseUser, target: Target, sentence: Sentence, now: datetime.datetime
) -> None:
    # Callers hold the target's lock, so update-then-insert cannot race for this annotator.
    fields = {"sentence": sentence, "shown_at": now, "expires_at": now + ASSIGNMENT_TIMEOUT}
    if not Assignment.objects.filter(annotator_id=annotator.pk, target=target).update(**fields):
        Assignment.objects.create(annotator_id=annotator.pk, target=target, **fields)


@dataclass(frozen=True)
class Progress:
    done: int
    assigned: int
    today: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.assigned)) if self.assigned else 100


#: Below this many sentence ids the corpus is counted exactly (a cheap count).
EXACT_COUNT_BELOW = 20_000


def corpus_size() -> int:
    """The number of sentences, for the progress bar, in constant time.

    A count reads every row, so at a million sentences it would dominate the label round
    trip. Imports hand out sentence ids densely, so a large corpus's size is the span of
    its ids (two index lookups); only deleted articles leave gaps, which make the share in
    the progress bar slightly generous. Small corpora are counted exactly.
    """
    bounds = Sentence.objects.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return 0
    span = bounds["high"] - bounds["low"] + 1
    return Sentence.objects.count() if span < EXACT_COUNT_BELOW else span


def start_of_day() -> datetime.datetime:
    """Midnight today in the site's time zone: where "today" counts start."""
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def annotator_share(*, sentences: int, overlap: int, annotators: int) -> int:
    """One annotator's share of the corpus: the corpus times the overlap, spread evenly."""
    return min(sentences, math.ceil(sentences * overlap / max(1, annotators)))


def progress_for(*, annotator: AbstractBaseUser, target: Target) -> Progress:
    """Labels done (skips included) against the annotator's share of the corpus."""
    mine = Annotation.objects.filter(annotator_id=annotator.pk, target=target).aggregate(
        done=Count("id"), today=Count("id", filter=Q(updated_at__gte=start_of_day()))
    )
    annotators = get_user_model().objects.filter(groups__name=ANNOTATOR, is_active=True).count()
    share = annotator_share(sentences=corpus_size(), overlap=target.overlap, annotators=annotators)
    return Progress(done=mine["done"], assigned=max(share, mine["done"]), today=mine["today"])
