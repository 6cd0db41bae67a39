"""Background retraining: a target's policy, and one model task at a time per target.

A target retrains in the background once `retrain_every` gold labels (default 50) are new
or changed since the last retrain was queued or run, and no sooner than
`retrain_floor_minutes` (default 10) after the last one was queued. Gold labels are
counted by a database trigger (GoldChanges: a sentence's gold label appeared, changed or
went), so the label itself costs nothing more. After a label commits, `retrain_if_due`
decides from the target as the label loop read it under its lock (the policy fields and
when the last retrain was queued) and, unless the policy is off or the floor has not
passed, one query for the counter: the annotator's request gains at most that one query,
and the training runs in the worker (`manage.py db_worker`).

Never two at once: a retrain or an activation (annotate.activation) is queued only if no
model task of that target is queued or running, decided under the target's lock (step 1
of the lock order in annotate/queue/__init__.py), so two labels crossing the line
together, or a label and the admin's button, queue one task.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from annotate.models import GoldChanges, ModelVersion, Target
from annotate.queue.locks import lock_target
from annotate.tasks import activate_version, retrain_target

RETRAIN_TASK_PATH = f"{retrain_target.func.__module__}.{retrain_target.func.__qualname__}"
ACTIVATE_TASK_PATH = f"{activate_version.func.__module__}.{activate_version.func.__qualname__}"
UNFINISHED = ("READY", "RUNNING")
#: A task queued longer ago than this no longer blocks another: its worker was killed.
STALE_AFTER = datetime.timedelta(hours=6)


def gold_changes(*, target_id: int) -> int:
    """The target's gold change counter, 0 before its first gold label."""
    return GoldChanges.objects.filter(target_id=target_id).values_list("changes", flat=True).first() or 0


def mark_trained(*, target_id: int, gold_mark: int) -> None:
    """New gold labels count from here: the counter as it was when a retrain read its labels."""
    Target.objects.filter(pk=target_id, retrain_gold_mark__lt=gold_mark).update(retrain_gold_mark=gold_mark)


def floor_passed(target: Target, now: datetime.datetime) -> bool:
    last = target.retrain_enqueued_at
    return last is None or now - last >= datetime.timedelta(minutes=target.retrain_floor_minutes)


def is_due(target: Target, golds: int, now: datetime.datetime) -> bool:
    return (
        target.retrain_every > 0
        and golds - target.retrain_gold_mark >= target.retrain_every
        and floor_passed(target, now)
    )


def retrain_if_due(*, target: Target, now: datetime.datetime | None = None) -> bool:
    """After a label: queue a retrain if the target's policy says so. Whether it did.

    `target` as the label loop read it (its policy fields and last queueing); call it after
    the label's transaction has committed. At most one query unless a retrain is queued.
    """
    now = now or timezone.now()
    if target.retrain_every <= 0 or not floor_passed(target, now):
        return False
    if not is_due(target, gold_changes(target_id=target.pk), now):
        return False
    return retrain_enqueue(target_id=target.pk, now=now, by_policy=True).queued


@dataclass(frozen=True)
class Queued:
    queued: bool
    reason: str  # why not, when it was not


def model_task_pending(*, target_id: int, now: datetime.datetime | None = None) -> bool:
    """Whether a retrain or an activation of the target is queued or running."""
    now = now or timezone.now()
    return DBTaskResult.objects.filter(
        task_path__in=[RETRAIN_TASK_PATH, ACTIVATE_TASK_PATH],
        status__in=UNFINISHED,
        args_kwargs__args__0=target_id,
        enqueued_at__gt=now - STALE_AFTER,
    ).exists()


BUSY = "a retrain or an activation of this target is already queued or running"


def retrain_enqueue(
    *, target_id: int, now: datetime.datetime | None = None, by_policy: bool = False
) -> Queued:
    """Queue a retrain of the target unless one (or an activation) is queued or running.

    `by_policy`: only if the policy says it is due, checked again under the lock.
    """
    now = now or timezone.now()
    with transaction.atomic():
        lock_target(target_id)  # step 1 of the lock order: the decision is serialised per target
        target = Target.objects.get(pk=target_id)
        golds = gold_changes(target_id=target_id)
        if by_policy and not is_due(target, golds, now):
            return Queued(False, "not due")
        if model_task_pending(target_id=target_id, now=now):
            return Queued(False, BUSY)
        retrain_target.enqueue(target_id)
        Target.objects.filter(pk=target_id).update(retrain_enqueued_at=now, retrain_gold_mark=golds)
    return Queued(True, "")


def activation_enqueue(*, version: ModelVersion, by_id: int | None) -> Queued:
    """Queue making a ready version active (writing its suggestions takes a while)."""
    if version.status != ModelVersion.Status.READY:
        return Queued(False, f"v{version.pk} is not a trained version")
    with transaction.atomic():
        target = lock_target(version.target_id)
        if target.active_version_id == version.pk:
            return Queued(False, f"v{version.pk} is already active")
        if model_task_pending(target_id=version.target_id):
            return Queued(False, BUSY)
        activate_version.enqueue(version.target_id, version.pk, by_id)
    return Queued(True, "")
