"""Admins: the target's model versions, retraining in the background, queue settings."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_tasks_db.models import DBTaskResult

from annotate.forms import QueueSettingsForm
from annotate.model_history import Score, cv_score, slice_score
from annotate.models import ModelVersion, Target
from annotate.roles import require_admin
from annotate.targets import target_update
from annotate.tasks import retrain_target
from annotate.views.request import SignedInRequest

RETRAIN_TASK_PATH = f"{retrain_target.func.__module__}.{retrain_target.func.__qualname__}"


#: What each state is called on the page: django-tasks calls a queued task "Ready", the word
#: a trained model version has, so both get words of their own.
TASK_STATES = {"READY": "Queued", "RUNNING": "Running", "FAILED": "Failed", "SUCCESSFUL": "Trained"}
VERSION_STATES: dict[str, str] = {
    ModelVersion.Status.TRAINING: "Training",
    ModelVersion.Status.READY: "Trained",
    ModelVersion.Status.FAILED: "Failed",
}
UNFINISHED = ("READY", "RUNNING")


@dataclass(frozen=True)
class RetrainTask:
    """A retrain task as the page shows it."""

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


def version_row(version: ModelVersion, target: Target) -> VersionRow:
    metrics = version.metrics or {}
    return VersionRow(
        version, version_state(version, target), cv_score(metrics, version.train_size), slice_score(metrics)
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
    tasks = DBTaskResult.objects.filter(task_path=RETRAIN_TASK_PATH, args_kwargs__args=[target.pk]).order_by(
        "-enqueued_at"
    )[:5]
    return [
        RetrainTask(
            status=task.status,
            state=TASK_STATES.get(task.status, task.status.capitalize()),
            reason=_reason(task.traceback),
            enqueued_at=task.enqueued_at,
            started_at=task.started_at,
            finished_at=task.finished_at,
            return_value=task.return_value,
        )
        for task in tasks
    ]


def _context(
    request: SignedInRequest, target: Target, form: QueueSettingsForm | None = None
) -> dict[str, object]:
    tasks = retrain_tasks(target)
    rows = [version_row(v, target) for v in ModelVersion.objects.filter(target=target)[:20]]
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
    }


@require_GET
@vary_on_headers("HX-Request")
def model_page(request: SignedInRequest, target_id: int) -> HttpResponse:
    require_admin(request.user, "Managing models")
    target = get_object_or_404(Target, pk=target_id)
    if request.htmx:
        return render(request, "annotate/models.html#retrain-status", _context(request, target))
    return render(request, "annotate/models.html", _context(request, target))


@require_POST
def model_retrain(request: SignedInRequest, target_id: int) -> HttpResponse:
    require_admin(request.user, "Managing models")
    target = get_object_or_404(Target, pk=target_id)
    # No flash message: it would outlive the retrain. The status fragment says it instead.
    retrain_target.enqueue(target.pk)
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
