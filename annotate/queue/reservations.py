"""Holding the sentence an annotator is shown, and handing out the next one.

A shown sentence is reserved for rule.ASSIGNMENT_TIMEOUT; while it holds it counts toward
the overlap for the others (rule.py), so two annotators asking at once cannot both take the
last slot. An annotator holds one reservation a target; a new one replaces it.
"""

from __future__ import annotations

import random

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotate.models import Assignment, QueueCursor, QueueOrder, Sentence, Target
from annotate.queue import evaluation, orders, sql, statements
from annotate.queue.cursors import move_cursor_locked
from annotate.queue.locks import lock_target
from annotate.queue.rule import ASSIGNMENT_TIMEOUT, rule_params

__all__ = [
    "ASSIGNMENT_TIMEOUT",
    "first_with_work",
    "next_sentence",
    "next_sentence_id",
    "reserve_next_locked",
]


def reserve_next_locked(*, annotator: User, target: Target) -> int | None:
    """Hand out the annotator's oldest returned label first; else keep their live
    reservation or reserve the next sentence, an evaluation
    item at the places the evaluation mix picks (queue/evaluation.py), else the next open
    one in the target's order; its id (None when nothing is open or their queue is paused:
    their stale reservation is then released).

    `target` is as read under its lock, which the caller holds.
    """
    params = rule_params(annotator=annotator, target=target, now=timezone.now())
    order = target.queue_order
    ranked = order in (QueueOrder.UNCERTAINTY, QueueOrder.MIX) and target.active_version_id is not None
    # The random order, the uncertainty orders before a model ranks, and the mix order's
    # random share walk the shuffle; only they move its cursor. A first batch in article
    # order would be whatever was imported first (on NewsMTSC, in order trailed random by
    # 6.6 F_avg points at 200 labels; neither start led for every measure:
    # benchmarks/active_learning.py).
    shuffled = (
        order == QueueOrder.RANDOM
        or (order in (QueueOrder.UNCERTAINTY, QueueOrder.MIX) and not ranked)
        or (order == QueueOrder.MIX and random.random() < target.random_share)
    )
    cursors = move_cursor_locked(params, shuffled=shuffled)
    if cursors.paused:
        # A curator is to look at their evaluation answers first (annotate/evaluation.py).
        release_locked(annotator=annotator, target=target)
        return None
    if cursors.returned is not None:
        # A label a curator returned with a comment comes first (annotate/returns.py),
        # before the live reservation and any open sentence. Reserved, so a skip changed
        # to a stance label there has its room; the sentence the reservation held goes
        # back among the open ones (the in-order cursor has not passed it).
        sql.fetch(statements.RESERVE, {**params, "sentence": cursors.returned})
        return cursors.returned
    if cursors.reserved is not None:
        # A label from the card leaves its reservation behind, but the cursor's read
        # leaves out a labelled one: a live reservation here is still unlabelled.
        return cursors.reserved
    if evaluation.is_evaluation_place(target=target, annotator_id=annotator.pk, place=cursors.done):
        item = evaluation.reserve_evaluation_locked(params, target_id=target.pk, annotator_id=annotator.pk)
        if item is not None:
            return item
    if shuffled:
        # Everything before the shuffle cursor is finished: the walk sees every open sentence.
        found = orders.reserve_shuffled_locked(params, cursors=cursors)
    else:
        if ranked:
            found = orders.most_uncertain_locked(
                params, annotator_id=annotator.pk, target=target, cursors=cursors
            )
            if found is not None:
                sql.fetch(statements.RESERVE, {**params, "sentence": found})
                return found
        # In order, and the uncertainty orders for sentences the model has not scored yet.
        found = orders.reserve_in_order_locked(params, cursors=cursors)
    if found is None:
        release_locked(annotator=annotator, target=target)
    return found


def reserve_again_locked(*, annotator: User, target: Target, sentence_id: int) -> bool:
    """Reserve an undone sentence for the annotator again, unless it has no room for them
    any more (others labelled or hold it up to the overlap meanwhile); whether it was."""
    params = {**rule_params(annotator=annotator, target=target, now=timezone.now()), "sentence": sentence_id}
    return bool(sql.fetch(statements.RESERVE_IF_ROOM, params))


def release_locked(*, annotator: User, target: Target, sentence_id: int | None = None) -> None:
    """Give up the annotator's reservation (of that sentence only, when given): a used one
    must not count toward the overlap beside its label."""
    held = Assignment.objects.filter(annotator_id=annotator.pk, target=target)
    if sentence_id is not None:
        held = held.filter(sentence_id=sentence_id)
    held.delete()


def next_sentence_id(*, annotator: User, target: Target) -> tuple[Target, int | None]:
    """Reserve the sentence to show the annotator now (one transaction); the target as
    read under its lock, and the sentence's id (None when nothing is open).

    The sentence already reserved for the annotator is kept until they label it or it
    expires, so reloading the page never skips a sentence. An archived target hands out
    nothing (its labels cannot change).
    """
    with transaction.atomic():
        target = lock_target(target.pk, archived_ok=True)
        if target.is_archived:
            return target, None
        return target, reserve_next_locked(annotator=annotator, target=target)


def next_sentence(*, annotator: User, target: Target) -> Sentence | None:
    """The sentence to show the annotator now, reserving it; None when nothing is open."""
    _, sentence_id = next_sentence_id(annotator=annotator, target=target)
    if sentence_id is None:
        return None
    return Sentence.objects.select_related("article").filter(pk=sentence_id).first()


def first_with_work(*, annotator: User, targets: list[Target]) -> Target | None:
    """The first of the targets with a sentence open to the annotator, reserving nothing
    (None when none has one): one query for their cursors, then one a target until one
    has work, each searching from the annotator's cursor as the hand-out does."""
    cursors = dict(
        (target_id, (article_id, position))
        for target_id, article_id, position in QueueCursor.objects.filter(
            annotator_id=annotator.pk, target__in=targets
        ).values_list("target_id", "article_id", "position")
    )
    now = timezone.now()
    for target in targets:
        start_article, start_position = cursors.get(target.pk, (0, 0))
        params = {
            **rule_params(annotator=annotator, target=target, now=now),
            "start_article": start_article,
            "start_position": start_position,
        }
        if sql.fetch(statements.ANY_OPEN, params):
            return target
    return None
