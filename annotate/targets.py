"""Creating, editing and archiving targets: the admins' form, the queue settings, the admin.

An edit of a target in use takes its lock first (step 1 of the one lock order,
annotate/queue/__init__.py), then writes the row, then (a new overlap, dynamic overlap,
maximum or posterior threshold) drops the search cursors (step 3): a label in flight either finishes with the old overlap before the edit,
or runs after it with the new one, and no search passes a sentence the new overlap reopens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from annotate.models import Adjudication, Assignment, Target, TargetExample
from annotate.queue.locks import lock_target
from annotate.summary import queue_recompute

#: What a target is: its name, description, guidelines and other names (the target form's
#: first part).
DESCRIPTION_FIELDS = ("name", "description", "guidelines", "aliases")
#: How the queue hands the target's sentences out, and how the card shows a suggestion:
#: on the target form and the models page's queue settings.
QUEUE_FIELDS = (
    "overlap",
    "dynamic_overlap",
    "max_overlap",
    "posterior_threshold",
    "queue_order",
    "uncertainty_measure",
    "random_share",
    "control_share",
    "suggestion_mode",
)
#: The evaluation mix, its onboarding and its pause: the models page's queue settings only.
EVALUATION_FIELDS = (
    "evaluation_rate",
    "evaluation_onboarding",
    "min_label_ms",
    "evaluation_threshold",
    "evaluation_min_items",
    "evaluation_pause",
)
#: Background retraining: the models page's form of its own.
RETRAIN_FIELDS = ("retrain_every", "retrain_floor_minutes")

#: The fields an edit (the target form) may change; the others (the active model) have
#: their own services.
EDITABLE = (*DESCRIPTION_FIELDS, *QUEUE_FIELDS)
#: What target_update may change besides: the models page's evaluation and retraining
#: settings (their own forms), under the same lock.
UPDATABLE = (*EDITABLE, *EVALUATION_FIELDS, *RETRAIN_FIELDS)


@dataclass(frozen=True)
class ExampleInput:
    label: str
    text: str
    why: str


def clean_aliases(aliases: Iterable[str]) -> list[str]:
    """Aliases stripped, inner spaces collapsed, blanks and repeats (any case) dropped, in
    the order given."""
    seen: set[str] = set()
    kept = []
    for alias in aliases:
        alias = " ".join(alias.split())
        if alias and alias.casefold() not in seen:
            seen.add(alias.casefold())
            kept.append(alias)
    return kept


def target_create(*, values: Mapping[str, object], examples: Iterable[ExampleInput] = ()) -> Target:
    """A new target with its examples. `values` are checked already (the form)."""
    unknown = set(values) - set(UPDATABLE)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    with transaction.atomic():
        target = Target.objects.create(**values)
        _replace_examples(target=target, examples=examples)
    return target


def target_update(
    *, target_id: int, values: Mapping[str, object], examples: Iterable[ExampleInput] | None = None
) -> Target:
    """Change a target's fields (and, when given, replace its written examples), under its
    lock; an archived target may be edited too (its labels stay as they are). The target
    as written. Raises Target.DoesNotExist."""
    unknown = set(values) - set(UPDATABLE)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    with transaction.atomic():
        target = lock_target(target_id, archived_ok=True)
        changed = [name for name, value in values.items() if getattr(target, name) != value]
        for name in changed:
            setattr(target, name, values[name])
        if changed:
            # Target.save drops the cursors when an overlap setting is among the fields (step 3).
            target.save(update_fields=changed)
        if "posterior_threshold" in changed and target.posterior_threshold is not None:
            # The stored posteriors hold every one below the threshold the last summary
            # knew (annotate/review.py): a new one needs a new summary to be complete.
            transaction.on_commit(lambda: queue_recompute(target=target))
        if examples is not None:
            _replace_examples(target=target, examples=examples)
    return target


def _replace_examples(*, target: Target, examples: Iterable[ExampleInput]) -> None:
    """The written examples are replaced as a whole; promoted ones (with a sentence) stay."""
    TargetExample.objects.filter(target=target, sentence__isnull=True).delete()
    TargetExample.objects.bulk_create(
        TargetExample(target=target, label=e.label, text=e.text, why=e.why) for e in examples
    )


def target_archive(*, target_id: int, archived: bool) -> Target:
    """Archive a target (read-only from then on: labels and gold labels kept, no new ones,
    its reservations released) or bring it back into use. Under its lock, so every label
    path either commits before the archive or is refused after it."""
    with transaction.atomic():
        target = lock_target(target_id, archived_ok=True)
        if archived == target.is_archived:
            return target
        target.archived_at = timezone.now() if archived else None
        target.save(update_fields=["archived_at"])
        if archived:
            Assignment.objects.filter(target=target).delete()
    return target


@dataclass(frozen=True)
class Promoted:
    example: TargetExample
    created: bool  # False: the sentence was an example of the target already


def example_promote(*, target: Target, sentence_id: int, why: str = "") -> Promoted:
    """Make an adjudicated sentence an example of its gold label for the target (once a
    target: the second time returns the first). Raises Adjudication.DoesNotExist for a
    sentence without a gold label from a curator."""
    adjudication = Adjudication.objects.select_related("sentence").get(target=target, sentence_id=sentence_id)
    example, created = TargetExample.objects.get_or_create(
        target=target,
        sentence_id=sentence_id,
        defaults={"label": adjudication.label, "text": adjudication.sentence.text, "why": why},
    )
    return Promoted(example=example, created=created)
