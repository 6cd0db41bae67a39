from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from annotate.models import Annotation, AnnotationEvent, Label
from annotate.queue.record import MAX_SPENT_MS, annotation_change, annotation_record, annotation_undo
from tests.factories import SentenceFactory
from tests.records import history

pytestmark = pytest.mark.django_db


def test_recording_a_label_creates_the_annotation_and_its_history(annotator, huawei):
    sentence = SentenceFactory()
    annotation = annotation_record(
        annotator=annotator,
        sentence=sentence,
        target=huawei,
        label="pro",
        spent_ms=1234,
        accepted_suggestion=True,
        suggestion_shown=True,
    ).annotation
    assert (annotation.label, annotation.spent_ms, annotation.accepted_suggestion) == ("pro", 1234, True)
    assert history(annotator) == [("create", "", "pro")]
    event = AnnotationEvent.objects.get()
    assert (event.spent_ms, event.accepted_suggestion) == (1234, True)


def test_relabelling_updates_the_one_annotation_and_appends_history(annotator, huawei):
    sentence = SentenceFactory()
    annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="contra")
    assert Annotation.objects.get().label == "contra"
    assert history(annotator) == [("create", "", "pro"), ("relabel", "pro", "contra")]


def test_a_first_skip_is_recorded_as_a_skip(annotator, huawei):
    sentence = SentenceFactory()
    annotation_record(
        annotator=annotator, sentence=sentence, target=huawei, label="skip", accepted_suggestion=True
    )
    assert history(annotator) == [("skip", "", "skip")]
    assert not Annotation.objects.get(sentence=sentence).accepted_suggestion


def test_changing_a_label_to_skip_is_recorded_as_a_relabel_from_the_old_label(annotator, huawei):
    sentence = SentenceFactory()
    annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="neutral")
    annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="skip")
    annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    assert history(annotator) == [
        ("create", "", "neutral"),
        ("relabel", "neutral", "skip"),
        ("relabel", "skip", "pro"),
    ]
    relabels = AnnotationEvent.objects.filter(action=AnnotationEvent.Action.RELABEL).order_by("id")
    assert list(relabels.values_list("old_label", "new_label")) == [("neutral", "skip"), ("skip", "pro")]


def test_a_double_submission_keeps_one_annotation_and_records_the_repeat(annotator, huawei):
    sentence = SentenceFactory()
    annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro", spent_ms=900)
    annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro", spent_ms=5)
    assert Annotation.objects.get().spent_ms == 900
    assert history(annotator) == [("create", "", "pro"), ("repeat", "pro", "pro")]


def test_undo_removes_the_latest_label_but_keeps_its_history(annotator, huawei):
    first, second = SentenceFactory(), SentenceFactory()
    annotation_record(annotator=annotator, sentence=first, target=huawei, label="pro")
    annotation_record(annotator=annotator, sentence=second, target=huawei, label="contra")
    undone = annotation_undo(annotator=annotator, target=huawei)
    assert undone.sentence_id == second.id
    assert list(Annotation.objects.values_list("sentence_id", flat=True)) == [first.id]
    assert history(annotator)[-1] == ("undo", "contra", "")
    assert AnnotationEvent.objects.filter(sentence=second).count() == 2


def test_undo_with_nothing_to_undo_returns_none(annotator, huawei):
    assert annotation_undo(annotator=annotator, target=huawei) is None
    assert AnnotationEvent.objects.count() == 0


def test_undo_touches_only_the_annotators_own_labels(annotator, other_annotator, huawei):
    sentence = SentenceFactory()
    annotation_record(annotator=other_annotator, sentence=sentence, target=huawei, label="pro")
    assert annotation_undo(annotator=annotator, target=huawei) is None
    assert Annotation.objects.count() == 1


def test_an_unknown_label_is_refused_and_changes_nothing(annotator, huawei):
    sentence = SentenceFactory()
    with pytest.raises(ValidationError, match="Unknown label 'maybe'"):
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="maybe")
    assert Annotation.objects.count() == 0
    assert AnnotationEvent.objects.count() == 0


def test_changing_another_users_annotation_is_refused(annotator, other_annotator, huawei):
    sentence = SentenceFactory()
    theirs = annotation_record(
        annotator=other_annotator, sentence=sentence, target=huawei, label="pro"
    ).annotation
    with pytest.raises(PermissionDenied):
        annotation_change(annotator=annotator, annotation_id=theirs.id, label="contra")
    assert Annotation.objects.get().label == "pro"
    assert AnnotationEvent.objects.count() == 1


def test_changing_an_own_annotation_relabels_it(annotator, huawei):
    sentence = SentenceFactory()
    mine = annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro").annotation
    changed = annotation_change(annotator=annotator, annotation_id=mine.id, label=Label.NEUTRAL).annotation
    assert (changed.id, changed.label) == (mine.id, "neutral")
    assert history(annotator)[-1] == ("relabel", "pro", "neutral")


def test_time_spent_is_clamped_to_a_sane_range(annotator, huawei):
    sentence, other = SentenceFactory(), SentenceFactory()
    assert (
        annotation_record(
            annotator=annotator, sentence=sentence, target=huawei, label="pro", spent_ms=-5
        ).annotation.spent_ms
        == 0
    )
    long = annotation_record(
        annotator=annotator, sentence=other, target=huawei, label="pro", spent_ms=10**9
    ).annotation
    assert long.spent_ms == MAX_SPENT_MS


def test_a_skip_is_never_recorded_as_an_accepted_suggestion(annotator, huawei, sentences):
    recorded = annotation_record(
        annotator=annotator,
        sentence=sentences[0],
        target=huawei,
        label="skip",
        accepted_suggestion=True,
        suggestion_shown=True,
    )
    assert recorded.annotation.accepted_suggestion is False
    assert recorded.event.accepted_suggestion is False
    assert Annotation.objects.get().accepted_suggestion is False


def test_a_label_accepts_a_suggestion_only_when_one_was_shown(annotator, huawei, sentences):
    recorded = annotation_record(
        annotator=annotator, sentence=sentences[0], target=huawei, label="pro", accepted_suggestion=True
    )
    assert recorded.annotation.accepted_suggestion is False
