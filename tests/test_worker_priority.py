"""The task worker runs below the web processes' CPU priority (settings.WORKER_NICE)."""

from __future__ import annotations

import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import get_commands, load_command_class

from annotate.management.commands import db_worker
from stance.settings import env_int_between


def test_manage_py_db_worker_is_stances_niced_worker():
    assert get_commands()["db_worker"] == "annotate"
    assert isinstance(load_command_class("annotate", "db_worker"), db_worker.Command)


def test_the_worker_lowers_its_priority_before_it_takes_tasks(monkeypatch, settings):
    settings.WORKER_NICE = 12
    calls: list[str] = []
    monkeypatch.setattr(db_worker.os, "getpriority", lambda which, who: 0)
    monkeypatch.setattr(db_worker.os, "setpriority", lambda which, who, value: calls.append(f"nice {value}"))
    monkeypatch.setattr(db_worker.WorkerCommand, "handle", lambda self, *a, **kw: calls.append("work"))
    db_worker.Command().handle()
    assert calls == ["nice 12", "work"]


def test_a_worker_already_nicer_is_left_as_it_is(monkeypatch):
    monkeypatch.setattr(db_worker.os, "getpriority", lambda which, who: 15)
    monkeypatch.setattr(db_worker.os, "setpriority", lambda *a: pytest.fail("lowered the niceness"))
    assert db_worker.lower_priority(niceness=10) == 15


def test_lower_priority_really_changes_the_process_niceness_in_a_child():
    # In a child, so the test process keeps its priority.
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's outcome is its exit code
        start = os.getpriority(os.PRIO_PROCESS, 0)
        wanted = min(start + 3, 19)
        db_worker.lower_priority(niceness=wanted)
        os._exit(0 if os.getpriority(os.PRIO_PROCESS, 0) == wanted else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize(
    ("value", "message"), [("20", "at most 19, not 20"), ("-1", "at least 0"), ("x", "whole")]
)
def test_a_worker_niceness_out_of_range_is_refused(monkeypatch, value, message):
    monkeypatch.setenv("WORKER_NICE", value)
    with pytest.raises(ImproperlyConfigured, match=message):
        env_int_between("WORKER_NICE", 10, minimum=0, maximum=19)
