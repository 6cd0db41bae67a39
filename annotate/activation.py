"""Which model version is active: by evidence after a retrain, or by an admin's choice.

A retrained version becomes active only if it scores at least as well as the active one
(`version_compare`). The figure is F_avg (the mean F1 of pro and contra). Where possible
both versions are scored on the same gold labels: the evaluation slice as it is now (the
control set, never trained on), the active version's stored model file scored again beside
the new one. That needs at least MIN_SLICE_TO_DECIDE gold labels there, every class the
models know among them, and a slice no larger than the one the active version was trained
beside (a larger share would hold sentences it trained on). Otherwise the two versions'
grouped cross-validated F_avg decide, each on its own training labels. The comparison is
stored on the new version (`ModelVersion.comparison`, `decision`, `decided_at`), whichever
way it went; a version that loses stays ready, its suggestions are never written, and an
admin may still activate it.

Switching is one transaction that takes the target's lock first, the one lock order of
annotate/queue/__init__.py, then the version's row: a retrain switches only if the
version it was compared with is still the active one, so an admin's activation in the
meantime is not undone by a retrain that was compared with something else.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotate import classifier, training
from annotate.classifier import TrainingError
from annotate.embedding_store import vectors_for
from annotate.models import Decision, ModelVersion, Suggestion, Target
from annotate.queue.locks import lock_target
from annotate.score_intervals import with_intervals

#: Fewest gold labels on the evaluation slice for it to decide between two versions: below
#: this one sentence moves accuracy by more than three points, and grouped
#: cross-validation decides instead.
MIN_SLICE_TO_DECIDE = 30
FIGURE = "F_avg"


class ActivationError(ValueError):
    """A version that cannot be made active; the message says why."""


@dataclass(frozen=True)
class Comparison:
    """A new version against the active one: on what, both values and sizes, the decision."""

    activate: bool
    basis: str  # "slice", "cv", or "none" (nothing to compare with)
    figure: str  # what was compared, in words
    new: float | None
    active: float | None
    new_n: int | None
    active_n: int | None
    against: int | None  # the version that was active when it was compared
    reason: str  # one sentence for the page and the command

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def decision(self) -> str:
        return Decision.ACTIVATED if self.activate else Decision.KEPT

    def overtaken(self, active_id: int | None) -> Comparison:
        """The same comparison, kept: another version became active while this one trained."""
        return Comparison(
            **{
                **self.as_dict(),
                "activate": False,
                "reason": f"{self.reason}; but v{active_id} was made active meanwhile, so it was kept",
            }
        )


def _decided(
    basis: str, figure: str, new: float, active: float, new_n: int, active_n: int, against: int, why: str = ""
) -> Comparison:
    better = new >= active - 1e-9  # "at least as well": a tie keeps the newer labels
    verb = "activated" if better else "kept inactive"
    sign = "≥" if better else "<"
    reason = f"{verb}: {FIGURE} {new:.3f} {sign} v{against}'s {active:.3f} {figure}"
    return Comparison(better, basis, figure, new, active, new_n, active_n, against, reason + why)


def _slice_is_fair(active: ModelVersion, share: float) -> str:
    """Why the active version cannot be scored on today's slice, or "" when it can."""
    held = (active.metrics or {}).get("evaluation_slice")
    if not isinstance(held, dict):
        return f"v{active.pk} was trained before the evaluation slice, perhaps on its sentences"
    if share > float(held.get("share") or 0) + 1e-9:
        return (
            f"the evaluation slice grew since v{active.pk} was trained ({float(held.get('share') or 0):.0%} "
            f"to {share:.0%}), so it may have trained on part of it"
        )
    return ""


def version_compare(
    *,
    target: Target,
    metrics: classifier.Metrics,
    train_size: int,
    evaluation: classifier.SliceScore,
    slice_texts: list[str],
    slice_labels: list[str],
    slice_ids: list[int] | None = None,
) -> Comparison:
    """Whether a freshly trained version should replace the target's active one (above)."""
    active = (
        ModelVersion.objects.filter(pk=target.active_version_id, status=ModelVersion.Status.READY).first()
        if target.active_version_id
        else None
    )
    if active is None:
        return Comparison(True, "none", "", None, None, None, None, None, "activated: no version was active")
    if evaluation.metrics is None:
        why = f"the evaluation slice is {evaluation.reason}"
    elif evaluation.n < MIN_SLICE_TO_DECIDE:
        why = (
            f"the evaluation slice has {evaluation.n} gold labels, fewer than the {MIN_SLICE_TO_DECIDE} "
            "needed to decide"
        )
    else:
        why = _slice_is_fair(active, target.control_share)
    if not why and evaluation.metrics is not None:
        try:
            pipeline = training.model_load(active)
            vectors = (
                vectors_for(pipeline=pipeline, sentence_ids=slice_ids) if slice_ids is not None else None
            )
            theirs = classifier.score_slice(pipeline, slice_texts, slice_labels, embeddings=vectors)
        except training.ModelFileError as unreadable:
            why = str(unreadable)
        else:
            if theirs.metrics is not None:
                return _decided(
                    "slice",
                    f"on the evaluation slice, both on the same {evaluation.n} gold labels",
                    evaluation.metrics.f_avg,
                    theirs.metrics.f_avg,
                    evaluation.n,
                    theirs.n,
                    active.pk,
                )
            why = f"v{active.pk} cannot be scored on the slice: {theirs.reason}"
    old = (active.metrics or {}).get("f_avg")
    if not isinstance(old, int | float):
        return Comparison(
            True, "none", "", None, None, None, None, active.pk, f"activated: v{active.pk} has no score"
        )
    cv = (active.metrics or {}).get("cv")
    active_n = int(cv["n"]) if isinstance(cv, dict) and "n" in cv else active.train_size
    new_n = metrics.validation.n if metrics.validation is not None else train_size
    return _decided(
        "cv",
        f"cross-validated on their own training labels ({new_n} against {active_n})",
        metrics.f_avg,
        float(old),
        new_n,
        active_n,
        active.pk,
        f" (not the evaluation slice: {why})",
    )


def retrain_finish(
    *, version: ModelVersion, comparison: Comparison, predicted: int, started: float
) -> Comparison:
    """Mark a retrained version ready, record its comparison and, if it won, make it active.

    Returns the comparison as decided under the lock (kept, when another version became
    active meanwhile). Raises TrainingError when a later run declared this one abandoned.
    """
    version.metrics = with_intervals(version.metrics or {})  # before the lock: a bootstrap
    with transaction.atomic():
        target = lock_target(version.target_id)  # step 1 of the one lock order
        current = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if current.status != ModelVersion.Status.TRAINING:
            raise TrainingError("Another retrain replaced this one before it finished.")
        if comparison.activate and target.active_version_id != comparison.against:
            comparison = comparison.overtaken(target.active_version_id)
        now = timezone.now()
        version.status = ModelVersion.Status.READY
        version.finished_at = version.decided_at = now
        version.duration_s = time.monotonic() - started
        version.sentences_predicted = predicted if comparison.activate else 0
        version.decision = comparison.decision
        version.comparison = comparison.as_dict()
        fields = ["status", "finished_at", "decided_at", "duration_s", "sentences_predicted"]
        fields += ["decision", "comparison", "metrics"]
        if comparison.activate:
            version.activated_at = now
            fields.append("activated_at")
            Target.objects.filter(pk=target.pk).update(active_version=version)
        version.save(update_fields=fields)
    # Outside the lock: at a million sentences this is a long delete, and no one reads them.
    if comparison.activate and comparison.against is not None:
        Suggestion.objects.filter(model_version_id=comparison.against).delete()
    elif not comparison.activate and predicted:
        Suggestion.objects.filter(model_version=version).delete()
    return comparison


@dataclass(frozen=True)
class Activated:
    version: ModelVersion
    previous_id: int | None
    sentences_predicted: int


def version_activate(
    *, target_id: int, version_id: int, by: User | None, workers: int | None = None
) -> Activated:
    """Make a ready version active (an admin's choice: activate, or roll back).

    Its suggestions are written again from its stored model file (checked against its hash)
    for every sentence there is now, then the target switches to it in one transaction; the
    previous version's suggestions go. Runs in the background (annotate.tasks), predicting on
    `workers` processes (settings.MODEL_WORKERS by default, training.suggestions_write).
    """
    version = ModelVersion.objects.filter(pk=version_id, target_id=target_id).first()
    if version is None or version.status != ModelVersion.Status.READY:
        raise ActivationError(f"Version {version_id} is not a trained version; only those can be activated.")
    if Target.objects.filter(pk=version.target_id, active_version_id=version.pk).exists():
        return Activated(version, version.pk, version.sentences_predicted)
    try:
        pipeline = training.model_load(version)
    except training.ModelFileError as unreadable:
        raise ActivationError(str(unreadable)) from None
    Suggestion.objects.filter(model_version=version).delete()  # a run killed half way left some
    predicted = training.suggestions_write(version=version, pipeline=pipeline, workers=workers)
    with transaction.atomic():
        target = lock_target(version.target_id)
        current = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if current.status != ModelVersion.Status.READY:
            raise ActivationError(f"Version {version.pk} is no longer ready.")
        previous = target.active_version_id
        now = timezone.now()
        ModelVersion.objects.filter(pk=version.pk).update(
            activated_at=now, activated_by=by, sentences_predicted=predicted
        )
        Target.objects.filter(pk=target.pk).update(active_version=version)
    if previous is not None and previous != version.pk:
        Suggestion.objects.filter(model_version_id=previous).delete()
    version.refresh_from_db()
    return Activated(version, previous, predicted)
