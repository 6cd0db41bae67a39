"""Doing an annotator's label round trip from another connection while the test's thread works."""

from __future__ import annotations

import threading

from django.db import connection

from annotate.labelling import label_and_next
from annotate.models import Article


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
