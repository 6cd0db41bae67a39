"""Work on other database connections while the test's thread works: a label round trip, or races."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import connection

from annotate.models import Article
from annotate.queue.loop import label_and_next


def label_from_another_connection(*, annotator, target, sentence, wait: float = 10) -> tuple[bool, int]:
    """Label and reserve the next sentence in another thread (its own connection).

    Returns whether that committed within `wait` seconds, and how many articles that
    connection saw stored right after, to show how far an import running meanwhile was.
    Use it from a transactional test (the other connection sees committed rows only).
    """
    committed = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            label_and_next(annotator=annotator, target_id=target.pk, sentence_id=sentence.pk, label="pro")
            seen.append(Article.objects.count())
            committed.set()
        except BaseException as error:  # reported in the calling thread
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    in_time = committed.wait(timeout=wait)
    thread.join(timeout=60)
    assert not errors, errors
    return in_time, seen[0] if seen else -1


@dataclass
class Outcome:
    results: list[object]  # each work's return value, in order (None where it raised)
    refused: int  # works that raised one of the expected exceptions
    errors: list[BaseException]  # anything else they raised


def run_in_threads(
    works: Sequence[Callable[[], object]],
    *,
    together: bool = True,
    expected: type[BaseException] | tuple[type[BaseException], ...] = (),
) -> Outcome:
    """Run each work in its own thread (its own database connection), released at once.

    With `together` a barrier lets them all start at the same moment, so they race.
    Use it from a transactional test: each connection sees committed rows only.
    """
    barrier = threading.Barrier(len(works)) if together else None
    results: list[object] = [None] * len(works)
    errors: list[BaseException] = []
    refused: list[int] = []

    def run(i: int) -> None:
        try:
            if barrier is not None:
                barrier.wait(timeout=10)
            results[i] = works[i]()
        except expected:
            refused.append(i)
        except BaseException as error:  # reported in the calling thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return Outcome(results, len(refused), errors)
