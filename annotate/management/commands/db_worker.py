"""django-tasks-db's `db_worker`, run at a lower CPU priority (settings.WORKER_NICE).

The worker retrains models and embeds sentences, which take every core for minutes
(onnxruntime runs on both); at the same priority as the web processes it slowed the label
round trip 1.5-2.5x while a background retrain ran (benchmarks/load.py --during-retrain).
Niced, the scheduler gives the annotators' requests the CPU first and the retrain the rest.
This command overrides the package's because `annotate` comes before `django_tasks_db` in
INSTALLED_APPS.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django_tasks_db.management.commands.db_worker import Command as WorkerCommand


def lower_priority(*, niceness: int) -> int:
    """Raise this process's niceness to at least `niceness` (never lowers it: an
    unprivileged process could not); the niceness it runs at."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if niceness > current:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    return max(niceness, current)


class Command(WorkerCommand):
    help = "Run a database background worker, at niceness WORKER_NICE (default 10)."

    def handle(self, *args: Any, **options: Any) -> None:
        niceness = lower_priority(niceness=settings.WORKER_NICE)
        self.stdout.write(f"Task worker at niceness {niceness} (WORKER_NICE).")
        super().handle(*args, **options)
