"""Running a queued background task in a test, the way `manage.py db_worker` does."""

from __future__ import annotations

from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult


def run_queued_task() -> DBTaskResult:
    """Run the one queued task and return its row, refreshed."""
    task = DBTaskResult.objects.ready().get()
    task.claim("test-worker")
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=1,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    worker.run_task(task)
    task.refresh_from_db()
    return task
