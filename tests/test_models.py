from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from annotate.models import Annotation, AnnotationEvent, Label, Target
from tests.factories import AnnotationFactory, SentenceFactory

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_second_current_annotation_for_the_same_key(annotator, huawei):
    first = AnnotationFactory(annotator=annotator, target=huawei, label=Label.PRO)
    with pytest.raises(IntegrityError), transaction.atomic():
        Annotation.objects.create(
            annotator=annotator, sentence=first.sentence, target=huawei, label=Label.CONTRA
        )
    assert Annotation.objects.count() == 1


def test_the_same_sentence_may_carry_one_annotation_per_annotator_and_target(
    annotator, other_annotator, huawei
):
    sentence = SentenceFactory()
    other_target = Target.objects.create(name="Brexit")
    AnnotationFactory(annotator=annotator, sentence=sentence, target=huawei)
    AnnotationFactory(annotator=other_annotator, sentence=sentence, target=huawei)
    AnnotationFactory(annotator=annotator, sentence=sentence, target=other_target)
    assert Annotation.objects.count() == 3


def test_the_database_refuses_an_unknown_label(annotator, huawei):
    with pytest.raises(IntegrityError), transaction.atomic():
        AnnotationFactory(annotator=annotator, target=huawei, label="maybe")


def test_a_sentence_position_is_unique_within_its_article():
    sentence = SentenceFactory(position=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        SentenceFactory(article=sentence.article, position=3)


def test_the_history_cannot_be_edited_or_deleted(annotator, huawei):
    sentence = SentenceFactory()
    event = AnnotationEvent.objects.create(
        annotator=annotator, sentence=sentence, target=huawei, action="create", new_label="pro"
    )
    event.new_label = "contra"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AnnotationEvent.objects.all().update(new_label="contra")
    with pytest.raises(TypeError):
        AnnotationEvent.objects.all().delete()
    assert AnnotationEvent.objects.get().new_label == "pro"


def test_migrations_create_the_roles_and_the_huawei_target():
    assert set(Group.objects.values_list("name", flat=True)) >= {"annotator", "curator", "admin"}
    huawei = Target.objects.get(name="Huawei")
    assert huawei.overlap == 2
    for label in ("pro:", "contra:", "neutral:", "Example:"):
        assert label in huawei.guidelines
