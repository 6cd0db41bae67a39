"""The target's lock: step 1 of the one lock order (annotate/queue/__init__.py).

Handing out sentences, the room test and moving or rewinding search cursors hold it (a row
lock on PostgreSQL; on SQLite the IMMEDIATE transaction already holds the write lock), so
the last open slot of a sentence goes to one annotator only and no search passes a sentence
that has just opened again. The target's settings are read with it, so switching the queue
order or the overlap needs no restart.

An archived target is read-only: both locks refuse it (Target.refuse_if_archived, a
TargetArchived error) once they hold it, so an archive that commits first stops every
label after it; `lock_target(..., archived_ok=True)` is for the paths that write no label
(new sentences rewinding cursors, a page finding there is nothing to hand out).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from annotate.models import Sentence, Target
from annotate.queue import sql, statements
from annotate.queue.card import Suggested


def lock_target(target_id: int, *, archived_ok: bool = False) -> Target:
    """Lock the target's row until the transaction ends; the target as read under it.

    Raises TargetArchived for an archived target unless `archived_ok`."""
    locking = connection.features.has_select_for_update
    rows = sql.fetch(
        statements.LOCK_TARGET_FOR_UPDATE if locking else statements.LOCK_TARGET, {"target": target_id}
    )
    if not rows:
        raise Target.DoesNotExist(f"No target {target_id}.")
    target = sql.instance(Target, statements.TARGET_FIELDS, rows[0])
    if not archived_ok:
        target.refuse_if_archived()
    return target


@dataclass
class Locked:
    """A target read under its lock, a sentence, the active model's suggestion for it
    (None without an active version or a suggestion; the control set is not applied), and
    whether the sentence is one of the target's evaluation items."""

    target: Target
    sentence: Sentence
    suggested: Suggested | None
    evaluation: bool = False


def target_and_sentence(*, target_id: int, sentence_id: int) -> Locked:
    """Lock a target (as `lock_target`) and read it, a sentence and the active suggestion
    for it, in one statement.

    Raises Target.DoesNotExist when either is missing (and then holds no lock), and
    TargetArchived for an archived target.
    """
    locking = connection.features.has_select_for_update
    query = statements.TARGET_AND_SENTENCE_FOR_UPDATE if locking else statements.TARGET_AND_SENTENCE
    rows = sql.fetch(query, {"target": target_id, "sentence": sentence_id})
    if not rows:
        raise Target.DoesNotExist(f"No target {target_id} or no sentence {sentence_id}.")
    row, width = rows[0], len(statements.TARGET_FIELDS)
    target = sql.instance(Target, statements.TARGET_FIELDS, row[:width])
    target.refuse_if_archived()
    sentence = sql.instance(Sentence, statements.SENTENCE_FIELDS, row[width : width + 6])
    label, confidence, evaluation = row[width + 6], row[width + 7], bool(row[width + 8])
    suggested = Suggested(label=label, confidence=confidence) if label is not None else None
    return Locked(target=target, sentence=sentence, suggested=suggested, evaluation=evaluation)
