"""Agreement with the model with and without its suggestion on screen, acceptance, and the
"after" mode's changes (annotate/anchoring.py): known answers, the dashboard, the card, and
one query at any size."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotate.anchoring import AnchoringCounts, anchoring_figures
from annotate.dataset_card import dataset_card
from annotate.export import ExportSpec, annotator_pseudonym, export_summary
from annotate.models import Annotation, Sentence, Suggestion
from annotate.summary import fresh_summary, live_since
from tests.factories import ArticleFactory, SentenceFactory, SuggestionFactory, UserFactory, active_version

pytestmark = pytest.mark.django_db

#: What the model suggests for sentences 0 to 4.
SUGGESTED = ["pro", "pro", "neutral", "contra", "pro"]

#: (sentence, label, suggestion on screen, accepted, first label) per annotator.
ANN = [
    (0, "pro", True, True, None),  # with, agrees, accepted
    (1, "contra", True, False, None),  # with, disagrees
    (2, "neutral", False, False, None),  # without, agrees
    (3, "pro", False, False, None),  # without, disagrees
    (4, "skip", True, False, None),  # a skip: not counted
]
BOB = [
    (0, "pro", True, True, "contra"),  # after: first disagreed, changed to the suggestion (Enter)
    (1, "pro", True, False, "pro"),  # after: first agreed, kept
    (2, "contra", True, False, "pro"),  # after: first disagreed, changed, not to the suggestion
    (3, "contra", True, False, None),  # with, agrees: but given before the model went live
]


@pytest.fixture
def known(huawei):
    version = active_version(huawei)
    version.finished_at = timezone.now() - datetime.timedelta(hours=1)
    version.save()
    article = ArticleFactory()
    sentences = [SentenceFactory(article=article, position=i) for i in range(len(SUGGESTED))]
    for sentence, label in zip(sentences, SUGGESTED, strict=True):
        SuggestionFactory(sentence=sentence, target=huawei, model_version=version, label=label)
    ann, bob = UserFactory(username="ann", role="annotator"), UserFactory(username="bob", role="annotator")
    for user, rows in ((ann, ANN), (bob, BOB)):
        for position, label, shown, accepted, first in rows:
            Annotation.objects.create(
                annotator=user,
                sentence=sentences[position],
                target=huawei,
                label=label,
                suggestion_shown=shown,
                accepted_suggestion=accepted,
                first_label=first,
            )
    old = Annotation.objects.filter(annotator=bob, sentence=sentences[3])
    old.update(updated_at=version.finished_at - datetime.timedelta(minutes=5))
    huawei.refresh_from_db()
    return huawei, ann, bob


ANN_COUNTS = AnchoringCounts(
    with_suggestion=2, with_agreeing=1, accepted=1, without_suggestion=2, without_agreeing=1
)
BOB_COUNTS = AnchoringCounts(
    with_suggestion=3,
    with_agreeing=2,
    accepted=1,
    revealed=3,
    first_agreeing=1,
    changed=2,
    changed_to_suggestion=1,
)


def as_counts(row) -> AnchoringCounts:
    return AnchoringCounts() + row


def test_each_annotators_agreement_with_the_model_is_counted_with_and_without_the_suggestion(known):
    target, ann, bob = known

    figures = anchoring_figures(target=target, since=live_since(target=target))

    assert [(row.annotator_id, row.username) for row in figures.annotators] == [
        (ann.pk, "ann"),
        (bob.pk, "bob"),
    ]
    ann_row, bob_row = figures.annotators
    assert as_counts(ann_row) == ANN_COUNTS
    assert as_counts(bob_row) == BOB_COUNTS
    assert (ann_row.agreement_with, ann_row.agreement_without, ann_row.acceptance) == (0.5, 0.5, 0.5)
    assert (bob_row.agreement_with, bob_row.acceptance, bob_row.agreement_without) == (2 / 3, 1 / 3, None)
    assert (bob_row.first_agreement, bob_row.changed_rate) == (1 / 3, 2 / 3)
    # Of the two first labels other than the suggestion, one was changed to it.
    assert bob_row.changed_to_suggestion_rate == 0.5


def test_the_overall_figures_add_up_every_annotators_counts(known):
    target, _, _ = known

    overall = anchoring_figures(target=target, since=live_since(target=target)).overall

    assert overall == AnchoringCounts(
        with_suggestion=5,
        with_agreeing=3,
        accepted=2,
        without_suggestion=2,
        without_agreeing=1,
        revealed=3,
        first_agreeing=1,
        changed=2,
        changed_to_suggestion=1,
    )
    assert (overall.agreement_with, overall.agreement_without, overall.acceptance) == (0.6, 0.5, 0.4)


def test_agreement_is_with_the_active_models_suggestion_only(known):
    target, ann, _ = known
    other = active_version(target)
    other.pk = None
    other.save()  # a newer version that suggests contra everywhere
    for sentence in Sentence.objects.all():
        Suggestion.objects.create(
            model_version=other, sentence=sentence, target=target, label="contra", confidence=1
        )
    target.active_version = other
    target.save(update_fields=["active_version"])

    figures = anchoring_figures(target=target, since=other.finished_at)

    ann_row = next(row for row in figures.annotators if row.annotator_id == ann.pk)
    assert (ann_row.with_agreeing, ann_row.without_agreeing) == (1, 0)  # ann's contra on sentence 1


def test_there_are_no_figures_without_an_active_model(huawei):
    assert anchoring_figures(target=huawei, since=None) is None


def test_the_figures_are_one_query_whatever_the_number_of_labels(huawei, django_assert_num_queries):
    version = active_version(huawei)
    since = version.created_at
    for size in (3, 60):
        article = ArticleFactory()
        users = [UserFactory(role="annotator") for _ in range(size // 3)]
        for i in range(size):
            sentence = SentenceFactory(article=article, position=i)
            SuggestionFactory(sentence=sentence, target=huawei, model_version=version, label=SUGGESTED[i % 5])
            Annotation.objects.create(
                annotator=users[i % len(users)],
                sentence=sentence,
                target=huawei,
                label=SUGGESTED[(i + 1) % 5],
                suggestion_shown=i % 2 == 0,
                first_label="pro" if i % 3 == 0 else None,
            )
        with django_assert_num_queries(1):
            figures = anchoring_figures(target=huawei, since=since)
        assert (
            figures.overall.with_suggestion + figures.overall.without_suggestion == Annotation.objects.count()
        )


# Where they are shown


def test_the_dashboard_shows_each_annotators_figures_and_the_overall_ones(known):
    target, _, _ = known
    client = Client()
    client.force_login(UserFactory(role="curator"))

    html = client.get(reverse("dashboard", args=[target.pk])).content.decode()

    table = html[html.index('id="anchoring"') :]
    table = table[: table.index("</table>")]
    cells = (
        '<tr><th scope="row">ann</th><td class="num">2</td><td class="num">0.50</td><td class="num">0.50</td>'
        '<td class="num">2</td><td class="num">0.50</td><td class="num">0</td><td class="num">n/a</td>'
    )
    assert cells in table
    assert (
        '<tr><th scope="row">bob</th><td class="num">3</td><td class="num">0.67</td><td class="num">0.33</td>'
        '<td class="num">0</td><td class="num">n/a</td><td class="num">3</td><td class="num">0.33</td>'
        '<td class="num">0.67</td><td class="num">0.50</td></tr>'
    ) in table
    assert (
        '<tr class="total"><th scope="row">All</th><td class="num">5</td><td class="num">0.60</td>'
        '<td class="num">0.40</td><td class="num">2</td><td class="num">0.50</td><td class="num">3</td>'
    ) in table


def card_of(target, **spec):
    spec = ExportSpec(target=target, **{"level": "annotations", **spec})
    return dataset_card(spec=spec, summary=export_summary(spec=spec), figures=fresh_summary(target=target))


def test_the_dataset_card_carries_the_same_figures_by_pseudonym(known):
    target, ann, bob = known

    card = card_of(target)

    part = card[card.index("### Agreement with the model") :]
    part = part[: part.index("## Methods")]
    assert "Suggestions are currently shown with the sentence." in part
    assert f"| {annotator_pseudonym(ann.pk)} | 2 | 50% | 50% | 2 | 50% | 0 | n/a | n/a | n/a |" in part
    assert f"| {annotator_pseudonym(bob.pk)} | 3 | 67% | 33% | 0 | n/a | 3 | 33% | 67% | 50% |" in part
    assert "| all | 5 | 60% | 40% | 2 | 50% | 3 | 33% | 67% | 50% |" in part
    assert "60% with its suggestion on screen and 50% without (+10 points)" in part
    assert "| ann |" not in part


def test_the_dataset_card_names_annotators_by_username_when_the_export_does(known):
    target, _, _ = known

    card = card_of(target, names=True)

    assert "| ann | 2 | 50% |" in card and "| bob | 3 | 67% |" in card


def test_the_dataset_card_says_so_when_no_label_was_given_under_a_model(huawei):
    card = card_of(huawei)

    assert "No labels were given while a model was active, so this is not measured." in card
