"""The target's model versions, retraining in the background, queue settings.

Curators and admins see the page; only admins act on it (retrain, activate or roll back a
version, the retrain policy, queue settings): annotate.roles decides both, the template
through the navigation's `is_admin` (annotate.context_processors), so it costs no query.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_tasks_db.models import DBTaskResult

from annotate.forms import ActivateForm, QueueSettingsForm, RetrainPolicyForm
from annotate.model_history import Score, cv_score, slice_score
from annotate.models import ModelVersion, Target
from annotate.retrain_policy import (
    ACTIVATE_TASK_PATH,
    RETRAIN_TASK_PATH,
    activation_enqueue,
    retrain_enqueue,
)
from annotate.roles import require_admin, require_curator
from annotate.score_intervals import HOW as INTERVALS_HOW
from annotate.targets import target_update
from annotate.views.request import SignedInRequest

#: What each state is called on the page: django-tasks calls a queued task "Ready", the word
#: a trained model version has, so both get words of their own.
TASK_STATES = {"READY": "Queued", "RUNNING": "Running", "FAILED": "Failed", "SUCCESSFUL": "Trained"}
ACTIVATION_STATES = {**TASK_STATES, "SUCCESSFUL": "Activated"}
VERSION_STATES: dict[str, str] = {
    ModelVersion.Status.TRAINING: "Training",
    ModelVersion.Status.READY: "Trained",
    ModelVersion.Status.FAILED: "Failed",
}
UNFINISHED = ("READY", "RUNNING")


@dataclass(frozen=True)
class RetrainTask:
    """A retrain or activation task as the page shows it."""

    kind: str  # "retrain" or "activation"
    status: str
    state: str
    reason: str
    enqueued_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    return_value: Any


@dataclass(frozen=True)
class VersionRow:
    version: ModelVersion
    state: str
    cv: Score  # grouped cross-validation on its training labels
    held_out: Score  # the evaluation slice, never trained on
    #: What it can be switched to: "" (active, or not trained), "Activate" or "Roll back to".
    action: str


def version_row(version: ModelVersion, target: Target, active_id: int | None) -> VersionRow:
    metrics = version.metrics or {}
    action = ""
    if version.status == ModelVersion.Status.READY and version.pk != active_id:
        action = "Roll back to" if active_id is not None and version.pk < active_id else "Activate"
    return VersionRow(
        version,
        version_state(version, target),
        cv_score(metrics, version.train_size),
        slice_score(metrics),
        action,
    )


def version_state(version: ModelVersion, target: Target) -> str:
    if version.pk == target.active_version_id:
        return "Active"
    return VERSION_STATES.get(version.status, version.get_status_display())


def _reason(traceback: str | None) -> str:
    """Why a task failed: its traceback's last line ("TrainingError: Only 3 gold labels …");
    the frames above it are server paths an admin does not need."""
    lines = (traceback or "").strip().splitlines()
    return lines[-1] if lines else ""


def retrain_tasks(target: Target) -> list[RetrainTask]:
    tasks = DBTaskResult.objects.filter(
        task_path__in=[RETRAIN_TASK_PATH, ACTIVATE_TASK_PATH], args_kwargs__args__0=target.pk
    ).order_by("-enqueued_at")[:5]
    return [
        RetrainTask(
            kind="activation" if task.task_path == ACTIVATE_TASK_PATH else "retrain",
            status=task.status,
            state=(ACTIVATION_STATES if task.task_path == ACTIVATE_TASK_PATH else TASK_STATES).get(
                task.status, task.status.capitalize()
            ),
            reason=_reason(task.traceback),
            enqueued_at=task.enqueued_at,
            started_at=task.started_at,
            finished_at=task.finished_at,
            return_value=task.return_value,
        )
        for task in tasks
    ]


def _context(
    request: SignedInRequest,
    target: Target,
    form: QueueSettingsForm | None = None,
    policy_form: RetrainPolicyForm | None = None,
) -> dict[str, object]:
    tasks = retrain_tasks(target)
    rows = [
        version_row(v, target, target.active_version_id)
        for v in ModelVersion.objects.filter(target=target).select_related("activated_by")[:20]
    ]
    return {
        "target": target,
        "tasks": tasks,
        # The newest task says what the page is waiting for, or how the last retrain ended;
        # the fragment polls only while a task is unfinished, so it stops once it is done.
        "latest": tasks[0] if tasks else None,
        "running": any(t.status in UNFINISHED for t in tasks),
        "versions": rows,
        "active": next((row.version for row in rows if row.version.pk == target.active_version_id), None),
        "active_row": next((row for row in rows if row.version.pk == target.active_version_id), None),
        "form": form or QueueSettingsForm(instance=target),
        "policy_form": policy_form or RetrainPolicyForm(instance=target),
        "intervals_how": INTERVALS_HOW,
    }


@require_GET
@vary_on_headers("HX-Request")
def model_page(request: SignedInRequest, target_id: int) -> HttpResponse:
    require_curator(request.user, "The models page")
    target = get_object_or_404(Target, pk=target_id)
    if request.htmx:
        return render(request, "annotate/models.html#retrain-status", _context(request, target))
    return render(request, "annotate/models.html", _context(request, target))


@require_POST
def model_retrain(request: SignedInRequest, target_id: int) -> HttpResponse:
    require_admin(request.user, "Managing models")
    target = get_object_or_404(Target, pk=target_id)
    # No flash message: it would outlive the retrain. The status fragment says it instead,
    # as it shows the retrain or activation already queued when this one is refused.
    retrain_enqueue(target_id=target.pk)
    return redirect("models", target_id=target.pk)


@require_POST
def model_activate(request: SignedInRequest, target_id: int) -> HttpResponse:
    """Activate or roll back to a ready version, in the background (its suggestions are written)."""
    require_admin(request.user, "Activating a model version")
    target = get_object_or_404(Target, pk=target_id)
    form = ActivateForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Which version?", content_type="text/plain")
    version = get_object_or_404(ModelVersion, pk=form.cleaned_data["version"], target=target)
    queued = activation_enqueue(version=version, by_id=request.user.pk)
    if not queued.queued:
        messages.error(request, f"v{version.pk} was not activated: {queued.reason}.")
    return redirect("models", target_id=target.pk)


@require_POST
def retrain_policy(request: SignedInRequest, target_id: int) -> HttpResponse:
    require_admin(request.user, "Managing models")
    target = get_object_or_404(Target, pk=target_id)
    form = RetrainPolicyForm(request.POST, instance=target)
    if not form.is_valid():
        return render(
            request, "annotate/models.html", _context(request, target, policy_form=form), status=400
        )
    # Only these two fields: a full save would also reset the annotators' queue cursors.
    form.instance.save(update_fields=list(RetrainPolicyForm.Meta.fields))
    messages.success(request, "Background retraining saved.")
    return redirect("models", target_id=target.pk)


@require_POST
def queue_settings(request: SignedInRequest, target_id: int) -> HttpResponse:
    require_admin(request.user, "Managing models")
    target = get_object_or_404(Target, pk=target_id)
    form = QueueSettingsForm(request.POST, instance=target)
    if not form.is_valid():
        return render(request, "annotate/models.html", _context(request, target, form), status=400)
    # Under the target's lock, as every label (a new overlap drops the search cursors).
    target_update(target_id=target.pk, values=form.cleaned_data)
    messages.success(request, "Queue settings saved; they apply to the next sentence handed out.")
    return redirect("models", target_id=target.pk)
