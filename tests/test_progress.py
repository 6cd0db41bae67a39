"""An annotator's progress: done, done today, and their share of the corpus."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from annotate.models import Annotation, Article
from annotate.progress import SHARE_INPUTS_KEY, corpus_size, progress_for
from annotate.queue.record import annotation_record
from tests.factories import AnnotationFactory, SentenceFactory, TargetFactory, UserFactory

pytestmark = pytest.mark.django_db


def label(annotator, sentence, target, value="pro"):
    return annotation_record(annotator=annotator, sentence=sentence, target=target, label=value).annotation


def test_progress_counts_labels_done_and_done_today_including_skips(annotator, other_annotator, huawei):
    sentences = SentenceFactory.create_batch(10)
    label(annotator, sentences[0], huawei)
    label(annotator, sentences[1], huawei, "skip")
    label(annotator, sentences[2], huawei, "neutral")
    label(other_annotator, sentences[3], huawei)
    label(annotator, sentences[4], TargetFactory())
    Annotation.objects.filter(sentence=sentences[2]).update(
        updated_at=timezone.now() - datetime.timedelta(days=1)
    )
    progress = progress_for(annotator=annotator, target=huawei)
    assert (progress.done, progress.today) == (3, 2)


def test_progress_shares_the_corpus_times_the_overlap_among_active_annotators(annotator, huawei):
    SentenceFactory.create_batch(10)
    UserFactory.create_batch(3, role="annotator")
    UserFactory(role="annotator", is_active=False)
    UserFactory(role="curator")
    progress = progress_for(annotator=annotator, target=huawei)
    assert progress.assigned == 5  # 10 sentences * overlap 2 / 4 active annotators
    assert (progress.done, progress.percent) == (0, 0)


def test_progress_reads_the_corpus_size_and_annotator_count_from_the_cache_between_labels(
    annotator, huawei, django_assert_num_queries
):
    SentenceFactory.create_batch(10)
    UserFactory.create_batch(3, role="annotator")
    assert progress_for(annotator=annotator, target=huawei).assigned == 5
    UserFactory(role="annotator")  # a fifth annotator: the share lags until the cache expires

    with django_assert_num_queries(1):  # the annotator's own counts only
        assert progress_for(annotator=annotator, target=huawei).assigned == 5
    cache.delete(SHARE_INPUTS_KEY)
    assert progress_for(annotator=annotator, target=huawei).assigned == 4


def test_progress_never_assigns_more_than_the_corpus(annotator, huawei):
    SentenceFactory.create_batch(10)
    progress = progress_for(annotator=annotator, target=huawei)
    assert progress.assigned == 10


def test_progress_never_assigns_less_than_what_is_done(annotator, huawei):
    sentences = SentenceFactory.create_batch(10)
    UserFactory.create_batch(9, role="annotator")
    for sentence in sentences[:4]:
        label(annotator, sentence, huawei)
    progress = progress_for(annotator=annotator, target=huawei)
    assert (progress.done, progress.assigned, progress.percent) == (4, 4, 100)


def test_progress_with_nothing_to_label_is_complete(annotator, huawei):
    progress = progress_for(annotator=annotator, target=huawei)
    assert (progress.done, progress.assigned, progress.today, progress.percent) == (0, 0, 0, 100)


def test_progress_counts_only_the_annotators_own_labels(annotator, other_annotator, huawei):
    sentence = SentenceFactory()
    AnnotationFactory(annotator=other_annotator, sentence=sentence, target=huawei)
    assert progress_for(annotator=annotator, target=huawei).done == 0


def test_corpus_size_is_zero_when_the_last_sentences_go_between_its_two_id_lookups():
    """Another request deleting every article between the lowest-id and the highest-id
    lookups must not turn the progress bar into a 500 (None - int)."""
    SentenceFactory.create_batch(3)
    lookups = []

    def delete_before_the_second_lookup(execute, sql, params, many, context):
        if sql.startswith("SELECT") and '"annotate_sentence"' in sql:
            lookups.append(sql)
            if len(lookups) == 2:
                Article.objects.all().delete()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(delete_before_the_second_lookup):
        assert corpus_size() == 0
    assert len(lookups) >= 2
