"""The dataset card's Annotation process and Methods sections: every number checked against
the database, counted here independently with the ORM."""

from __future__ import annotations

import datetime
import statistics
from collections import Counter, defaultdict

import pytest
from django.urls import reverse

from annotate.card_process import DuplicateGroups, EvaluationSliceScore, ReliabilityInterval, card_sections
from annotate.dataset_card import dataset_card
from annotate.export import ExportSpec, annotator_pseudonym, export_summary
from annotate.models import Adjudication, Annotation, Article, Label, TargetSummary
from annotate.summary import fresh_summary
from tests import reference_agreement
from tests.factories import AnnotationFactory, ArticleFactory, SentenceFactory, UserFactory

pytestmark = pytest.mark.django_db

S, A = "shown", "accepted"


@pytest.fixture
def process_corpus(huawei, annotator, other_annotator, curator):
    """Four articles: two CC-BY-4.0 from a file, one unknown from the API, one only skipped.

    Labels with suggestions shown and accepted, a tie, singles, majorities of two and three,
    adjudications (one on a sentence without labels), skips (one with a suggestion on
    screen) and sentences only skipped; an annotator whose only label was deleted.
    """
    cy = UserFactory(username="cy", role="annotator")
    gone = UserFactory(username="gone", role="annotator")
    wire = dict(licence="CC-BY-4.0", imported_from="wire.jsonl")
    first = ArticleFactory(source="Reuters", published=datetime.date(2019, 4, 28), **wire)
    second = ArticleFactory(source="BBC", published=datetime.date(2019, 5, 2), **wire)
    third = ArticleFactory(source="Guardian", published=None, imported_from="API")
    skipped = ArticleFactory(source="Agency", licence="proprietary", imported_from="old.txt")
    ann, bob = annotator, other_annotator
    plan = [
        (first, [(ann, "pro", S, A), (bob, "pro", S)], None),  # majority
        (first, [(ann, "pro", S, A), (bob, "contra")], None),  # tie
        (first, [(ann, "neutral"), (bob, "skip", S)], None),  # single; a skip with a suggestion shown
        (first, [(ann, "contra"), (bob, "contra"), (cy, "contra", S)], None),  # majority of three
        (second, [(ann, "pro"), (bob, "contra")], "neutral"),  # adjudicated
        (second, [(ann, "skip"), (bob, "skip")], None),  # only skipped
        (second, [], "pro"),  # adjudicated without labels
        (third, [(cy, "neutral", S, A)], None),  # single
        (third, [(cy, "pro", S), (ann, "neutral"), (bob, "neutral", S)], None),  # majority
        (skipped, [(cy, "skip")], None),  # only skipped: its article is in no export
    ]
    for position, (article, labels, adjudicated) in enumerate(plan):
        sentence = SentenceFactory(article=article, position=position)
        for who, label, *flags in labels:
            AnnotationFactory(
                annotator=who,
                sentence=sentence,
                target=huawei,
                label=label,
                suggestion_shown=S in flags,
                accepted_suggestion=A in flags,
            )
        if adjudicated:
            Adjudication.objects.create(sentence=sentence, target=huawei, label=adjudicated, curator=curator)
    AnnotationFactory(annotator=gone, sentence=sentence, target=huawei, label="pro").delete()
    return huawei


def card_of(target, **spec):
    spec = ExportSpec(target=target, **{"level": "gold", **spec})
    return dataset_card(spec=spec, summary=export_summary(spec=spec), figures=fresh_summary(target=target))


def section(card: str, heading: str) -> str:
    """The text of one `##` or `###` section of the card."""
    start = card.index(heading)
    level = heading.split(" ")[0] + " "
    rest = card[start + len(heading) :]
    ends = [i for i in (rest.find("\n" + level), rest.find("\n## ")) if i >= 0]
    return rest[: min(ends)] if ends else rest


def test_print(process_corpus):
    print(card_of(process_corpus, split=True))
    assert 0
