"""The triggers keep every tally equal to a recount of the labels, whatever path wrote them."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from annotate.adjudication import adjudication_record, open_count, open_disagreements
from annotate.gold import decide
from annotate.models import (
    STANCE_LABELS,
    Adjudication,
    Annotation,
    AnnotatorTally,
    DisagreementCount,
    SentenceTally,
    TargetChanges,
)
from annotate.queue.record import annotation_record, annotation_undo
from tests.factories import AnnotationFactory, ArticleFactory, SentenceFactory, TargetFactory, UserFactory

pytestmark = pytest.mark.django_db
LABELS = [*STANCE_LABELS, "skip"]


def recount(target) -> dict[int, dict[str, object]]:
    """The tallies as the labels say they should be: the straightforward computation."""
    found: dict[int, dict[str, object]] = {}
    for sentence_id, label, shown in Annotation.objects.filter(target=target).values_list(
        "sentence_id", "label", "suggestion_shown"
    ):
        row = found.setdefault(sentence_id, Counter())
        row[label] += 1
        if shown and label != "skip":
            row[f"{label}_shown"] += 1
    adjudicated = dict(Adjudication.objects.filter(target=target).values_list("sentence_id", "label"))
    result = {}
    for sentence_id in set(found) | set(adjudicated):
        counts = found.get(sentence_id, Counter())
        votes = {label: counts[label] for label in STANCE_LABELS}
        n = sum(votes.values())
        gold = decide(sentence_id, {k: v for k, v in votes.items() if v}, adjudicated.get(sentence_id))
        result[sentence_id] = {
            **{c: counts[c] for c in ["pro", "contra", "neutral", "skip"]},
            **{f"{c}_shown": counts[f"{c}_shown"] for c in STANCE_LABELS},
            "adjudicated": adjudicated.get(sentence_id, ""),
            "votes": n,
            "agreement": None if n < 2 else sum(k * (k - 1) for k in votes.values()) / (n * (n - 1)),
            "gold": gold.label or "",
        }
    return result


def stored(target) -> dict[int, dict[str, object]]:
    fields = ["pro", "contra", "neutral", "skip", "pro_shown", "contra_shown", "neutral_shown"]
    fields += ["adjudicated", "votes", "agreement", "gold"]
    rows = SentenceTally.objects.filter(target=target).values("sentence_id", *fields)
    # A tally whose labels are all gone stays as a row of zeros; it counts for nothing.
    return {row.pop("sentence_id"): row for row in rows if row["votes"] or row["skip"] or row["adjudicated"]}


def annotator_recount(target) -> dict[int, tuple[int, int]]:
    counts: dict[int, list[int]] = {}
    for annotator_id, label in Annotation.objects.filter(target=target).values_list("annotator_id", "label"):
        pair = counts.setdefault(annotator_id, [0, 0])
        pair[label == "skip"] += 1
    return {k: (v[0], v[1]) for k, v in counts.items()}


def annotator_stored(target) -> dict[int, tuple[int, int]]:
    rows = AnnotatorTally.objects.filter(target=target).values_list("annotator_id", "labels", "skips")
    return {a: (labels, skips) for a, labels, skips in rows if labels or skips}


def test_tallies_match_a_recount_after_random_labels_relabels_undos_adjudications_and_deletes():
    rng = random.Random(5)
    target, other = TargetFactory(overlap=5), TargetFactory(overlap=5)
    articles = [ArticleFactory() for _ in range(3)]
    sentences = [SentenceFactory(article=articles[i % 3], position=i) for i in range(12)]
    people = [UserFactory() for _ in range(5)]
    curator = UserFactory()
    changes_seen = 0
    for step in range(250):
        action = rng.random()
        who, sentence = rng.choice(people), rng.choice(sentences)
        on = target if rng.random() < 0.8 else other
        if action < 0.55:
            annotation_record(
                annotator=who,
                sentence=sentence,
                target=on,
                label=rng.choice(LABELS),
                suggestion_shown=rng.random() < 0.5,
            )
        elif action < 0.7:
            annotation_undo(annotator=who, target=on)
        elif action < 0.85:
            adjudication_record(
                curator=curator, sentence=sentence, target=on, label=rng.choice(STANCE_LABELS)
            )
        elif action < 0.93:
            Adjudication.objects.filter(target=on, sentence=sentence).delete()
        else:  # the Django admin's way: the row goes, without the label loop
            Annotation.objects.filter(target=on, sentence=sentence, annotator=who).delete()
        if step % 50 == 49:
            assert stored(target) == recount(target)
            assert stored(other) == recount(other)
            assert annotator_stored(target) == annotator_recount(target)
            for on in (target, other):
                assert open_count(target=on) == open_disagreements(target=on).count()
            changes = TargetChanges.objects.get(target=target).changes
            assert changes > changes_seen
            changes_seen = changes


def test_a_deleted_article_takes_its_tallies_and_its_labels_counts_with_it():
    """Django's cascade deletes the labels (the triggers count them out) and the tallies."""
    target = TargetFactory()
    doomed, kept = ArticleFactory(), ArticleFactory()
    annotator = UserFactory()
    for article in (doomed, kept):
        sentence = SentenceFactory(article=article)
        AnnotationFactory(target=target, sentence=sentence, annotator=annotator, label="pro")
        # Written directly: a gold label with history (the service's) protects its sentence.
        Adjudication.objects.create(curator=annotator, sentence=sentence, target=target, label="pro")
    doomed.delete()
    assert stored(target) == recount(target)
    assert annotator_stored(target) == annotator_recount(target) == {annotator.pk: (1, 0)}
    assert not SentenceTally.objects.filter(sentence__article_id=doomed.pk).exists()


def test_bulk_created_labels_are_counted_as_the_label_loop_counts_them():
    target = TargetFactory()
    sentence = SentenceFactory()
    people = UserFactory.create_batch(3)
    Annotation.objects.bulk_create(
        [
            Annotation(
                annotator=people[0], sentence=sentence, target=target, label="pro", suggestion_shown=True
            ),
            Annotation(annotator=people[1], sentence=sentence, target=target, label="contra"),
            Annotation(annotator=people[2], sentence=sentence, target=target, label="skip"),
        ]
    )
    tally = SentenceTally.objects.get(target=target, sentence=sentence)
    assert (tally.pro, tally.contra, tally.neutral, tally.skip, tally.pro_shown) == (1, 1, 0, 1, 1)
    assert tally.votes == 2
    assert tally.agreement == 0.0
    assert tally.gold == ""  # a tie


def test_a_repeated_label_changes_no_count_but_moves_the_change_counter():
    target = TargetFactory()
    annotation = AnnotationFactory(target=target, label="pro")
    before = TargetChanges.objects.get(target=target).changes
    annotation.save()
    assert TargetChanges.objects.get(target=target).changes == before + 1
    assert SentenceTally.objects.get(target=target, sentence=annotation.sentence).pro == 1


def test_a_deleted_target_leaves_no_tally_behind():
    target = TargetFactory()
    AnnotationFactory(target=target, label="pro")
    Annotation.objects.filter(target=target).delete()
    target.delete()
    assert not SentenceTally.objects.filter(target_id=target.pk).exists()
    assert not TargetChanges.objects.filter(target_id=target.pk).exists()


def test_installing_the_disagreement_count_counts_the_open_disagreements_already_there():
    from django.db import connection

    from annotate import tally_sql

    target = TargetFactory()
    split, agreed, settled = SentenceFactory(), SentenceFactory(), SentenceFactory()
    for sentence, labels in (
        (split, ["pro", "contra"]),
        (agreed, ["pro", "pro"]),
        (settled, ["pro", "neutral"]),
    ):
        for label in labels:
            AnnotationFactory(target=target, sentence=sentence, label=label)
    adjudication_record(curator=UserFactory(), sentence=settled, target=target, label="pro")
    assert open_count(target=target) == 1
    tally_sql.uninstall_count(connection)
    AnnotationFactory(target=target, sentence=agreed, label="neutral")  # opens it, uncounted
    tally_sql.install_count(connection)
    assert open_count(target=target) == 2 == open_disagreements(target=target).count()


def test_statements_writing_many_labels_at_once_keep_every_count_true():
    """Imports and cascades write many rows in one statement; PostgreSQL's triggers sum a
    statement's rows (annotate/tally_pg.py), and each sum must equal the recount."""
    target = TargetFactory(overlap=5)
    annotators = [UserFactory() for _ in range(3)]
    sentences = [SentenceFactory(article=ArticleFactory(), position=0) for _ in range(20)]
    rng = random.Random(17)
    Annotation.objects.bulk_create(
        Annotation(
            target=target,
            sentence=s,
            annotator=a,
            label=rng.choice(LABELS),
            suggestion_shown=rng.random() < 0.5,
        )
        for s in sentences
        for a in annotators
    )
    assert stored(target) == recount(target)
    assert open_count(target=target) == open_disagreements(target=target).count()
    changes = TargetChanges.objects.get(target=target).changes

    # One UPDATE of many rows, moving labels between classes (and some to skip and back).
    Annotation.objects.filter(target=target, annotator=annotators[0]).update(label="pro")
    Annotation.objects.filter(target=target, annotator=annotators[1], sentence__in=sentences[:10]).update(
        label="skip"
    )
    assert stored(target) == recount(target)
    assert annotator_stored(target) == annotator_recount(target)
    assert open_count(target=target) == open_disagreements(target=target).count()
    assert TargetChanges.objects.get(target=target).changes == changes + 20 + 10

    Adjudication.objects.bulk_create(
        Adjudication(target=target, sentence=s, label="contra", curator=annotators[2]) for s in sentences[:5]
    )
    Adjudication.objects.filter(target=target, sentence__in=sentences[:2]).update(label="neutral")
    assert stored(target) == recount(target)
    assert open_count(target=target) == open_disagreements(target=target).count()

    Annotation.objects.filter(target=target, annotator=annotators[2]).delete()
    Adjudication.objects.filter(target=target, sentence__in=sentences[:3]).delete()
    assert stored(target) == recount(target)
    assert annotator_stored(target) == annotator_recount(target)
    assert open_count(target=target) == open_disagreements(target=target).count()


def test_postgresql_counts_once_a_statement_not_once_a_row():
    """A row trigger updates the annotator's tally and the change counter once a label, and
    PostgreSQL keeps each row version until the transaction ends: quadratic in a bulk
    write (8,000 labels in one UPDATE took 20 s). Migration 0017 replaces them."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite updates rows in place; its row triggers stay")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, (tgtype & 1) = 1 FROM pg_trigger WHERE tgname LIKE 'annotate_%%_tally_%%' ORDER BY tgname"
        )
        triggers = cursor.fetchall()
    # Ten tally triggers, the four of the gold change counter, and the eleven of the
    # evaluation answers' (annotate/answer_tally.py); once a row only for a lift, which
    # writes one pause row at a time.
    assert len(triggers) == 25
    assert sum("_tallygold_" in name for name, _ in triggers) == 4
    assert sum("_tallyanswers_" in name for name, _ in triggers) == 11
    assert [name for name, per_row in triggers if per_row] == [
        "annotate_evaluationpause_tallyanswers_insert",
        "annotate_evaluationpause_tallyanswers_update",
    ]


def _label_tables_first(tables: list[str]) -> list[str]:
    """The worst order for the triggers: targets and counters emptied before the labels that
    move them, the tallies last."""
    first = ["annotate_target", "annotate_disagreementcount", "annotate_targetchanges"]
    last = ["annotate_sentencetally", "annotate_annotatortally"]
    return first + [t for t in tables if t not in first + last] + last


@pytest.mark.parametrize("order", [sorted, _label_tables_first, lambda tables: sorted(tables, reverse=True)])
def test_emptying_the_tables_one_by_one_in_any_order_brings_no_counter_row_back(order):
    """What the test database's flush does on SQLite (a DELETE a table, in set order): each
    delete of a label or gold label moves a tally, whose trigger moves the disagreement count;
    if that wrote a row for a target already gone, the flush failed its foreign key."""
    from django.db import connection

    target = TargetFactory()
    settled, split = SentenceFactory(), SentenceFactory()
    for sentence in (settled, split):
        for label in ("pro", "contra"):
            AnnotationFactory(target=target, sentence=sentence, label=label)
    adjudication_record(curator=UserFactory(), sentence=settled, target=target, label="pro")
    assert open_count(target=target) == 1
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    with connection.cursor() as cursor:
        for table in order(tables):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
    assert not DisagreementCount.objects.exists()
    assert not TargetChanges.objects.exists()
    connection.check_constraints()


def test_a_new_target_starts_with_its_counter_rows():
    target = TargetFactory()
    assert DisagreementCount.objects.get(target=target).open_count == 0
    assert TargetChanges.objects.get(target=target).changes == 0
