"""The label loop: which sentence an annotator gets, recording their label, the next card.

One key press from the labelling page is `loop.label_and_next`; `z` is `loop.undo_and_next`.
Read the package in this order:

    rule.py          which sentence is OPEN for an annotator: the one rule (overlap, dynamic
                     overlap's extra annotator while labels disagree or the stored
                     posterior is below the target's threshold, others' live
                     reservations, the annotator's own labels and skips), and ROOM, the
                     test a stance label must pass; SQL fragments every statement is built of
    statements.py    every hand-written statement, each readable whole (pinned by
                     tests/test_queue_statements.py, with an EXPLAIN check that it walks an index)
    locks.py         the target's lock, taken first by every path (and the target and
                     sentence read with it)
    cursors.py       where each annotator's searches start (in order, shuffled, ranked), and
                     the rewinds when a sentence opens
    orders.py        random (the default: annotate/shuffle.py's fixed shuffle), in order,
                     uncertainty (least confident, margin, entropy) and mix
    evaluation.py    the evaluation mix: which places of an annotator's stream are evaluation
                     items (onboarding, then a seeded share), and reserving the next item
    reservations.py  holding the shown sentence; handing out the next one
    record.py        writing a label and its history (create, repeat, relabel, skip, undo)
    card.py          what the card shows, read in one statement after the commit
    loop.py          label_and_next / undo_and_next: one transaction each
    sql.py           running a statement; raw rows to model instances through the ORM's converters

What the card shows as a suggestion (the control set) is `suggestions.in_control_set`, and
when (the target's suggestion mode: shown, after the first label, hidden) is
`card.suggestion_to_show` and `card.held_back`; an evaluation item never shows one. The
progress counts are `annotate/progress.py`'s, read in the card's statement. Marking and
unmarking evaluation items (annotate/evaluation_items.py) and lifting a pause
(annotate/evaluation.py) take step 1 below too.

LOCK ORDER — one order for every path that changes labels or reservations (label and
relabel from the card, relabel from the history panel, skip, undo, the API's label, relabel
and undo, `import_labels`, corpus imports rewinding cursors, and a summary's stored
posteriors rewinding them, annotate/review.py's `posteriors_store`):

    1. the target's row        (`locks.lock_target`, or `locks.target_and_sentence`, which
                                takes it with its read); several targets in id order
    2. the annotation's row    (SELECT ... FOR UPDATE of the annotator's label, or its
                                INSERT ... ON CONFLICT)
    3. the annotator's reservation, then the search cursors (theirs, or every cursor of the
       target on a rewind)

Step 2's statement fires the tally triggers inside it (annotate/tally_sql.py; on PostgreSQL
once a statement, annotate/tally_pg.py), which lock after it, in this order: the sentence
tallies (in sentence order), the target's disagreement count, the annotator tallies, the
target's change counter, and last the annotator's evaluation answer tallies (in key order;
annotate/answer_tally.py). Nothing else writes those rows.

On SQLite the IMMEDIATE transaction takes the one write lock at BEGIN, so step 1 is that.
Each public entry point opens its own transaction and takes step 1 in its first statement
that touches labels; functions named `*_locked` run inside a caller's transaction that
already holds step 1 and never take it themselves. Two transactions therefore never each
hold one of these locks while waiting for the other's: a repeated label racing a skip of
the same sentence deadlocked on PostgreSQL when one path took the annotation's row first
(tests/test_lock_order.py).
"""
