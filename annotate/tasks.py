"""Background tasks, run by `python manage.py db_worker` (django-tasks with django-tasks-db)."""

from __future__ import annotations

from django_tasks import task

from annotate.models import Target
from annotate.suggestions import retrain


@task()
def retrain_target(target_id: int) -> dict[str, object]:
    """Retrain a target's model; the result (or the error) is stored with the task."""
    result = retrain(target=Target.objects.get(pk=target_id))
    return {
        "version": result.version.pk if result.version else None,
        "train_size": result.train_size,
        "f_avg": result.metrics.f_avg,
        "macro_f1": result.metrics.macro_f1,
        "accuracy": result.metrics.accuracy,
        "seconds": round(result.seconds, 2),
    }
