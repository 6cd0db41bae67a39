"""Curators see each annotator against the evaluation items: the dashboard's table, the
annotator page (and lifting a pause there), the API and `manage.py agreement --annotators`,
each in a bounded number of queries; a paused annotator's queue says so."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from annotate.adjudication import adjudication_record
from annotate.evaluation import recent_answers
from annotate.evaluation_items import evaluation_items_mark
from annotate.models import Annotation, EvaluationPause, Label
from annotate.queue.record import annotation_record
from tests.factories import ArticleFactory, SentenceFactory, UserFactory, api_client

pytestmark = pytest.mark.django_db


def build(target, *, annotators: int, items: int, labels_each: int):
    """`items` evaluation items answered by every annotator (one in three wrong), plus
    `labels_each` ordinary labels each."""
    curator = UserFactory(role="curator")
    people = [UserFactory(role="annotator") for _ in range(annotators)]
    article = ArticleFactory()
    golds = []
    for position in range(items):
        sentence = SentenceFactory(article=article, position=position)
        adjudication_record(curator=curator, sentence=sentence, target=target, label=Label.CONTRA)
        golds.append(sentence)
    evaluation_items_mark(curator=curator, target=target)
    for n, person in enumerate(people):
        for i, sentence in enumerate(golds):
            label = Label.PRO if (i + n) % 3 == 0 else Label.CONTRA
            annotation_record(
                annotator=person, sentence=sentence, target=target, label=label, spent_ms=900 + 400 * i
            )
    rows, other = [], ArticleFactory()
    sentences = [SentenceFactory(article=other, position=p) for p in range(labels_each)]
    for person in people:
        rows += [
            Annotation(annotator=person, sentence=s, target=target, label=Label.NEUTRAL, spent_ms=2500)
            for s in sentences
        ]
    Annotation.objects.bulk_create(rows)
    return people


SIZES = [pytest.param((2, 3, 5), id="small"), pytest.param((6, 12, 60), id="large")]


@pytest.fixture(params=SIZES)
def team(request, huawei):
    annotators, items, labels_each = request.param
    return build(huawei, annotators=annotators, items=items, labels_each=labels_each)


@pytest.fixture
def curator_client(curator) -> Client:
    client = Client()
    client.force_login(curator)
    return client


def test_the_dashboard_shows_each_annotator_against_the_evaluation_items(curator_client, huawei):
    people = build(huawei, annotators=2, items=6, labels_each=3)
    html = curator_client.get(reverse("dashboard", args=[huawei.pk])).content.decode()
    table = html.split('id="evaluation-heading"')[1].split("</section>")[0]
    assert "6 evaluation items" in table
    for person in people:
        assert reverse("annotator", args=[huawei.pk, person.pk]) in table
    assert "0.667" in table  # 4 of 6 right


def test_the_annotator_page_shows_the_confusion_matrix_and_their_answers(curator_client, huawei):
    (person, _) = build(huawei, annotators=2, items=6, labels_each=3)
    html = curator_client.get(reverse("annotator", args=[huawei.pk, person.pk])).content.decode()
    matrix = html.split('id="confusion-heading"')[1].split("</table>")[0]
    cells = [line for line in matrix.splitlines() if '<th scope="row">contra</th>' in line]
    assert cells and '<td class="num">2</td><td class="num">4</td><td class="num">0</td>' in cells[0]
    assert "Latest answers" in html and html.count('<span class="flag">pro</span>') == 2


def test_the_annotator_page_lists_their_most_recently_given_answers_first_with_their_sentences(huawei):
    (person, _) = build(huawei, annotators=2, items=6, labels_each=3)
    answered = Annotation.objects.filter(
        annotator=person, target=huawei, sentence__evaluation_items__isnull=False
    ).select_related("sentence")
    oldest = answered.order_by("updated_at", "id").first()
    relabel = Label.PRO if oldest.label != Label.PRO else Label.NEUTRAL
    annotation_record(annotator=person, sentence=oldest.sentence, target=huawei, label=relabel)  # first now
    newest = answered.order_by("-updated_at", "-id")[:4]
    assert newest[0].pk == oldest.pk
    answers = recent_answers(target=huawei, annotator_id=person.pk, limit=4)
    assert [(a.sentence_id, a.text, a.given, a.gold) for a in answers] == [
        (n.sentence_id, n.sentence.text, n.label, Label.CONTRA) for n in newest
    ]


def test_the_annotator_page_of_someone_without_labels_is_a_404(curator_client, huawei):
    stranger = UserFactory(role="annotator")
    assert curator_client.get(reverse("annotator", args=[huawei.pk, stranger.pk])).status_code == 404


def test_annotators_may_not_see_the_evaluation_pages(annotator_client, huawei, annotator):
    assert annotator_client.get(reverse("annotator", args=[huawei.pk, annotator.pk])).status_code == 403
    assert annotator_client.post(reverse("annotator-lift", args=[huawei.pk, annotator.pk])).status_code == 403
    assert api_client(annotator).get(f"/api/targets/{huawei.pk}/annotators/").status_code == 403
    assert not EvaluationPause.objects.exists()


def test_a_curator_lifts_a_pause_from_the_annotator_page_and_the_queue_goes_on(curator_client, huawei):
    (person, _) = build(huawei, annotators=2, items=6, labels_each=3)
    SentenceFactory()
    EvaluationPause.objects.create(target=huawei, annotator=person, paused_at="2026-01-01T00:00:00Z")
    person_client = Client()
    person_client.force_login(person)
    page = person_client.get(reverse("label", args=[huawei.pk])).content.decode()
    assert "Your queue is paused" in page
    assert (
        "Lift the pause"
        in curator_client.get(reverse("annotator", args=[huawei.pk, person.pk])).content.decode()
    )

    response = curator_client.post(reverse("annotator-lift", args=[huawei.pk, person.pk]), follow=True)

    assert "Lifted: only answers from now on count" in response.content.decode()
    pause = EvaluationPause.objects.get(annotator=person)
    assert pause.paused_at is None and pause.lifted_by is not None
    assert (
        "Your queue is paused" not in person_client.get(reverse("label", args=[huawei.pk])).content.decode()
    )


def test_the_api_lists_the_annotators_with_their_figures(huawei, curator):
    people = build(huawei, annotators=2, items=6, labels_each=3)
    response = api_client(curator).get(f"/api/targets/{huawei.pk}/annotators/")
    assert response.status_code == 200
    data = response.json()
    assert data["evaluation_items"] == 6
    first = next(row for row in data["annotators"] if row["annotator"] == people[0].pk)
    assert (first["evaluation_answered"], first["evaluation_correct"]) == (6, 4)
    assert first["accuracy_low"] < first["accuracy"] < first["accuracy_high"]
    assert first["confusion"]["contra"] == {"pro": 2, "contra": 4, "neutral": 0}
    one = api_client(curator).get(f"/api/targets/{huawei.pk}/annotators/{people[1].pk}/").json()
    assert [row["annotator"] for row in one["annotators"]] == [people[1].pk]


def test_the_api_lifts_a_pause(huawei, curator):
    (person, _) = build(huawei, annotators=2, items=3, labels_each=1)
    EvaluationPause.objects.create(target=huawei, annotator=person, paused_at="2026-01-01T00:00:00Z")
    response = api_client(curator).post(f"/api/targets/{huawei.pk}/annotators/{person.pk}/lift/")
    assert response.status_code == 200 and response.json()["annotators"][0]["paused"] is False
    assert api_client(curator).get(f"/api/targets/{huawei.pk}/annotators/999999/").status_code == 404


def test_the_agreement_command_prints_the_annotators(huawei):
    people = build(huawei, annotators=2, items=6, labels_each=3)
    out = io.StringIO()
    call_command("agreement", "--target", "Huawei", "--annotators", stdout=out)
    text = out.getvalue()
    assert "Annotators against evaluation items" in text
    section = text.split("Annotators against evaluation items")[1]
    line = next(row for row in section.splitlines() if row.strip().startswith(people[0].username))
    assert "0.667" in line and "0.300–0.903" in line  # Wilson on 4 of 6
    assert "gold contra   answered pro 2, contra 4, neutral 0" in text
    out = io.StringIO()
    call_command("agreement", "--target", "Huawei", "--annotators", "--json", stdout=out)
    assert json.loads(out.getvalue())["annotators"][0]["evaluation_answered"] == 6


@pytest.mark.parametrize(
    ("name", "bound"),
    [("dashboard", 20), ("annotator", 12), ("api:target-annotators", 9), ("api:target-annotator", 9)],
)
def test_each_evaluation_page_takes_a_bounded_number_of_queries_at_any_size(
    team, huawei, curator, name, bound, django_assert_max_num_queries
):
    client = Client()
    client.force_login(curator)
    args = [huawei.pk] if name in ("dashboard", "api:target-annotators") else [huawei.pk, team[0].pk]
    client.get(reverse(name, args=args))  # the summary is computed on the first
    with django_assert_max_num_queries(bound):
        response = client.get(reverse(name, args=args))
    assert response.status_code == 200


def test_agreement_with_annotators_takes_a_bounded_number_of_queries_at_any_size(
    team, django_assert_max_num_queries
):
    call_command("agreement", "--target", "Huawei", stdout=io.StringIO())
    with django_assert_max_num_queries(11):
        call_command("agreement", "--target", "Huawei", "--annotators", stdout=io.StringIO())


def settled_by_one_annotator(target):
    """Six settled sentences, three pro and three contra, all labelled by one annotator:
    pro, pro, contra on the pro ones, contra on every contra one. Every sentence is clamped
    to its gold, so Dawid-Skene's matrix is one M step, known by hand: each row's counts
    plus the one pseudo-label a cell (smoothing 1), normalised. Row pro (2, 1, 0) -> (3, 2,
    1) / 6; row contra (0, 3, 0) -> (1, 4, 1) / 6; row neutral, no label, 1/3 each. The
    prior is (3 + 1, 3 + 1, 0 + 1) / 9, so the estimated accuracy is 4/9 * 1/2 + 4/9 * 4/6
    + 1/9 * 1/3 = 15/27."""
    curator, person = UserFactory(role="curator"), UserFactory(role="annotator")
    article = ArticleFactory()
    given = [Label.PRO, Label.PRO, Label.CONTRA, Label.CONTRA, Label.CONTRA, Label.CONTRA]
    sentences = [SentenceFactory(article=article, position=p) for p in range(6)]
    Annotation.objects.bulk_create(
        Annotation(annotator=person, sentence=s, target=target, label=label)
        for s, label in zip(sentences, given, strict=True)
    )
    for n, sentence in enumerate(sentences):
        gold = Label.PRO if n < 3 else Label.CONTRA
        adjudication_record(curator=curator, sentence=sentence, target=target, label=gold)
    return person


DS_ROWS = {
    "pro": {"pro": 3 / 6, "contra": 2 / 6, "neutral": 1 / 6},
    "contra": {"pro": 1 / 6, "contra": 4 / 6, "neutral": 1 / 6},
    "neutral": {"pro": 1 / 3, "contra": 1 / 3, "neutral": 1 / 3},
}


def test_the_annotator_page_shows_their_dawid_skene_matrix_with_what_it_rests_on(curator_client, huawei):
    person = settled_by_one_annotator(huawei)
    html = curator_client.get(reverse("annotator", args=[huawei.pk, person.pk])).content.decode()
    section = html.split('id="model-matrix-heading"')[1].split("</section>")[0]
    assert "Estimated from all 6 of their stance labels" in section
    assert "Estimated accuracy 0.556." in section
    assert '<th scope="col">Estimated stance</th>' in section
    rows = [row.split("</th>")[1] for row in section.split('<th scope="row">')[1:]]
    assert rows[0].startswith(
        '<td class="num">0.500</td><td class="num">0.333</td><td class="num">0.167</td>'
    )
    assert rows[1].startswith(
        '<td class="num">0.167</td><td class="num">0.667</td><td class="num">0.167</td>'
    )
    assert rows[2].startswith(
        '<td class="num">0.333</td><td class="num">0.333</td><td class="num">0.333</td>'
    )


def test_the_api_and_the_agreement_command_give_the_dawid_skene_matrix(huawei, curator):
    person = settled_by_one_annotator(huawei)
    data = api_client(curator).get(f"/api/targets/{huawei.pk}/annotators/{person.pk}/").json()
    matrix = data["annotators"][0]["dawid_skene"]
    assert matrix["labels"] == 6 and matrix["identifiable"] is True
    assert matrix["accuracy"] == pytest.approx(15 / 27, abs=1e-4)
    for true, row in DS_ROWS.items():
        assert matrix["confusion"][true] == pytest.approx(row, abs=1e-4)
    out = io.StringIO()
    call_command("agreement", "--target", "Huawei", "--annotators", stdout=out)
    text = out.getvalue()
    assert "Dawid-Skene matrix (6 labels, estimated accuracy 0.556)" in text
    assert "true pro      gives pro 0.500, contra 0.333, neutral 0.167" in text
    assert "true contra   gives pro 0.167, contra 0.667, neutral 0.167" in text
