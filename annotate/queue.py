"""Which sentence an annotator gets next.

A sentence is open to an annotator when they have not labelled or skipped it and fewer
than the target's overlap of other annotators have labelled it or hold it right now.
Handing out a sentence is serialised per target (a row lock on PostgreSQL, the write lock
of an IMMEDIATE transaction on SQLite), so the last open slot goes to one annotator only.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotate.models import Annotation, Assignment, Label, Sentence, Target
from annotate.roles import ANNOTATOR

#: How long a shown sentence stays reserved for its annotator.
ASSIGNMENT_TIMEOUT = datetime.timedelta(seconds=getattr(settings, "ASSIGNMENT_TIMEOUT_SECONDS", 600))


def _count(queryset: QuerySet) -> Coalesce:
    counted = queryset.order_by().values("sentence_id").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def open_sentences(
    *, annotator: AbstractBaseUser, target: Target, now: datetime.datetime
) -> QuerySet[Sentence]:
    """Sentences the annotator may be given, in queue order."""
    mine = Annotation.objects.filter(target=target, sentence=OuterRef("pk"), annotator_id=annotator.pk)
    labels = Annotation.objects.filter(target=target, sentence=OuterRef("pk")).exclude(label=Label.SKIP)
    held = Assignment.objects.filter(target=target, sentence=OuterRef("pk"), expires_at__gt=now).exclude(
        annotator_id=annotator.pk
    )
    return (
        Sentence.objects.filter(~Exists(mine))
        .alias(taken=_count(labels) + _count(held))
        .filter(taken__lt=target.overlap)
        .order_by("article_id", "position")
    )


def next_sentence(*, annotator: AbstractBaseUser, target: Target) -> Sentence | None:
    """The sentence to show the annotator now, reserving it; None when the queue is empty.

    The sentence already reserved for the annotator is kept until they label it or it
    expires, so reloading the page never skips a sentence.
    """
    now = timezone.now()
    with transaction.atomic():
        Target.objects.select_for_update().filter(pk=target.pk).values_list("pk").first()
        current = (
            Assignment.objects.filter(annotator_id=annotator.pk, target=target, expires_at__gt=now)
            .select_related("sentence__article")
            .first()
        )
        if current is not None:
            done = Annotation.objects.filter(
                annotator_id=annotator.pk, target=target, sentence_id=current.sentence_id
            ).exists()
            if not done:
                return current.sentence
        sentence = (
            open_sentences(annotator=annotator, target=target, now=now).select_related("article").first()
        )
        if sentence is None:
            Assignment.objects.filter(annotator_id=annotator.pk, target=target).delete()
            return None
        _assign(annotator=annotator, target=target, sentence=sentence, now=now)
        return sentence


def assign(*, annotator: AbstractBaseUser, target: Target, sentence: Sentence) -> None:
    """Reserve a given sentence for the annotator (to show it again after an undo)."""
    with transaction.atomic():
        _assign(annotator=annotator, target=target, sentence=sentence, now=timezone.now())


def _assign(
    *, annotator: AbstractBaseUser, target: Target, sentence: Sentence, now: datetime.datetime
) -> None:
    Assignment.objects.update_or_create(
        annotator_id=annotator.pk,
        target=target,
        defaults={"sentence": sentence, "shown_at": now, "expires_at": now + ASSIGNMENT_TIMEOUT},
    )


def release_expired(*, now: datetime.datetime | None = None) -> int:
    """Delete expired reservations; they already stopped counting, this only tidies up."""
    deleted, _ = Assignment.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


@dataclass(frozen=True)
class Progress:
    done: int
    assigned: int
    today: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.assigned)) if self.assigned else 100


def progress_for(*, annotator: AbstractBaseUser, target: Target) -> Progress:
    """Labels done (skips included) against the annotator's share of the corpus.

    The share is the corpus times the overlap, spread over the active annotators.
    """
    start_of_day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    mine = Annotation.objects.filter(annotator_id=annotator.pk, target=target).aggregate(
        done=Count("id"), today=Count("id", filter=Q(updated_at__gte=start_of_day))
    )
    sentences = Sentence.objects.count()
    annotators = get_user_model().objects.filter(groups__name=ANNOTATOR, is_active=True).count()
    share = min(sentences, math.ceil(sentences * target.overlap / max(1, annotators)))
    return Progress(done=mine["done"], assigned=max(share, mine["done"]), today=mine["today"])
