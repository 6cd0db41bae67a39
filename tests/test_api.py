from __future__ import annotations

import csv
import io
import json

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotate.agreement_data import agreement_set
from annotate.corpus import ONLINE_BODY_MAX_CHARS, CorpusError, split_sentences
from annotate.models import Annotation, AnnotationEvent, Article, Sentence
from annotate.queue.record import annotation_record
from annotate.suggestions import in_control_set
from tests.factories import (
    AnnotationFactory,
    ArticleFactory,
    ModelVersionFactory,
    SentenceFactory,
    SuggestionFactory,
    TargetFactory,
    UserFactory,
    api_client,
    api_token,
)
from tests.records import history, snapshot
from tests.tasks import run_queued_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(annotator) -> APIClient:
    return api_client(annotator)


@pytest.fixture
def bob(other_annotator) -> APIClient:
    return api_client(other_annotator)


@pytest.fixture
def cur(curator) -> APIClient:
    return api_client(curator)


@pytest.fixture
def boss(admin_user) -> APIClient:
    return api_client(admin_user)


def streamed(response) -> str:
    return b"".join(response.streaming_content).decode()


# Authentication ---------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/api/targets/"),
    ("get", "/api/articles/"),
    ("post", "/api/articles/"),
    ("get", "/api/sentences/"),
    ("get", "/api/annotations/"),
    ("post", "/api/annotations/"),
    ("post", "/api/annotations/undo/"),
    ("patch", "/api/annotations/1/"),
    ("get", "/api/suggestions/"),
    ("get", "/api/model-versions/"),
    ("get", "/api/export/"),
    ("post", "/api/tokens/"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_requests_get_a_401_in_json_not_the_login_page(method, url, huawei):
    response = getattr(APIClient(), method)(url, {}, format="json")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_a_401(huawei):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/targets/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_a_token_authenticates_its_user(ann, annotator, huawei, sentences):
    AnnotationFactory(annotator=annotator, sentence=sentences[0], target=huawei)
    response = ann.get("/api/annotations/")
    assert response.status_code == 200
    assert [row["sentence"] for row in response.json()["results"]] == [sentences[0].id]


def test_a_browser_session_authenticates_too(annotator_client, huawei):
    response = annotator_client.get("/api/targets/")
    assert response.status_code == 200
    assert response.json()["results"][0]["name"] == "Huawei"


def test_a_session_write_without_csrf_token_is_refused_and_changes_nothing(annotator, huawei, sentences):
    client = Client(enforce_csrf_checks=True)
    client.force_login(annotator)
    before = snapshot()
    response = client.post(
        "/api/annotations/", {"sentence": sentences[0].id, "label": "pro"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert snapshot() == before


def test_a_token_write_needs_no_csrf_token(annotator, huawei, sentences):
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(annotator)}")
    response = client.post("/api/annotations/", {"sentence": sentences[0].id, "label": "pro"}, format="json")
    assert response.status_code == 201


def test_an_unknown_api_path_is_a_json_404(ann):
    response = ann.get("/api/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No API endpoint at /api/nothing-here/."}


def test_a_path_without_its_trailing_slash_is_a_json_404_that_says_so(ann):
    response = ann.get("/api/targets")
    assert response.status_code == 404
    assert "end with a slash" in response.json()["detail"]


def test_malformed_json_is_a_400_with_a_message(ann, huawei):
    response = ann.post("/api/annotations/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_an_unreachable_database_is_a_json_503_to_retry(cur, huawei, monkeypatch):
    def unreachable(**kwargs):
        raise OperationalError("connection failed") from psycopg.OperationalError("connection failed")

    monkeypatch.setattr("annotate.api.views.summary_for", unreachable)
    response = cur.get(f"/api/targets/{huawei.id}/agreement/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"detail": "Database unavailable, retry shortly."}


def test_a_form_encoded_body_is_refused_with_a_415(ann, huawei, sentences):
    response = ann.post(
        "/api/annotations/", {"sentence": sentences[0].id, "label": "pro"}, format="multipart"
    )
    assert response.status_code == 415
    assert Annotation.objects.count() == 0


# Targets and agreement ---------------------------------------------------------------------


def test_targets_are_listed_with_their_guidelines(ann, huawei):
    TargetFactory(name="5G")
    response = ann.get("/api/targets/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [t["name"] for t in results] == ["Huawei", "5G"]
    assert results[0]["guidelines"] == huawei.guidelines
    assert ann.get(f"/api/targets/{huawei.id}/").json()["overlap"] == huawei.overlap


def test_an_unknown_target_is_a_404(ann, huawei):
    response = ann.get("/api/targets/999999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No Target matches the given query."}


def disagreeing_labels(target, annotator, other_annotator, count=3):
    article = ArticleFactory(source="Daily")
    sentences = [SentenceFactory(article=article, position=i) for i in range(count)]
    for i, sentence in enumerate(sentences):
        annotation_record(annotator=annotator, sentence=sentence, target=target, label="pro")
        other = "contra" if i == 0 else "pro"
        annotation_record(annotator=other_annotator, sentence=sentence, target=target, label=other)
    return sentences


def test_curators_get_the_agreement_figures(cur, huawei, annotator, other_annotator):
    sentences = disagreeing_labels(huawei, annotator, other_annotator)
    response = cur.get(f"/api/targets/{huawei.id}/agreement/")
    assert response.status_code == 200
    body = response.json()
    expected = agreement_set(target=huawei).overall
    assert body["overall"]["alpha"] == pytest.approx(expected.alpha)
    assert body["overall"]["labels"] == 6
    assert body["overall"]["pairs"] == [
        {
            "annotator_a": annotator.id,
            "annotator_b": other_annotator.id,
            "kappa": expected.pairs[0].kappa,
            "sentences": 3,
        }
    ]
    assert list(body["by_source"]) == ["Daily"]
    assert list(body["by_article"]) == [str(sentences[0].article_id)]
    assert set(body["by_suggestion"]) == {"with suggestion", "without suggestion"}
    assert body["changes_since"] == 0 and body["recomputing"] is False and body["computed_at"]
    assert body["next_articles"] is None


def test_the_agreement_figures_by_article_come_a_page_at_a_time(
    cur, huawei, annotator, other_annotator, monkeypatch
):
    monkeypatch.setattr("annotate.api.views.AGREEMENT_ARTICLES", 1)
    sentences = disagreeing_labels(huawei, annotator, other_annotator)
    later = ArticleFactory()
    label = SentenceFactory(article=later)
    annotation_record(annotator=annotator, sentence=label, target=huawei, label="pro")
    annotation_record(annotator=other_annotator, sentence=label, target=huawei, label="pro")
    body = cur.get(f"/api/targets/{huawei.id}/agreement/").json()
    assert list(body["by_article"]) == [str(sentences[0].article_id)]
    following = body["next_articles"]
    assert following.endswith(f"?articles_after={sentences[0].article_id}")
    body = cur.get(following).json()
    assert list(body["by_article"]) == [str(later.pk)]
    assert body["by_article"][str(later.pk)]["percent"] == 1.0
    assert cur.get(f"/api/targets/{huawei.id}/agreement/?articles_after=x").status_code == 400


def test_annotators_may_not_see_the_agreement_figures(ann, huawei):
    response = ann.get(f"/api/targets/{huawei.id}/agreement/")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only curators and admins may do this."}


# Articles ------------------------------------------------------------------------------------


def test_articles_are_listed_without_their_bodies(ann, article, sentences):
    response = ann.get("/api/articles/")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["title"] == article.title
    assert row["sentence_count"] == 5
    assert "body" not in row


def test_one_article_comes_with_its_body(ann, article):
    response = ann.get(f"/api/articles/{article.id}/")
    assert response.status_code == 200
    assert response.json()["body"] == article.body


ARTICLE = {
    "title": "Britain weighs Huawei",
    "body": "Ministers met on Monday. Mr. Hunt said the U.S. had concerns.\nHuawei denies spying.",
    "source": "Example Wire",
    "url": "https://example.org/huawei",
    "published": "2019-04-24",
}


def test_admins_import_an_article_split_into_sentences_as_the_command_does(boss):
    response = boss.post("/api/articles/", ARTICLE, format="json")
    assert response.status_code == 201
    body = response.json()
    article = Article.objects.get(pk=body["id"])
    assert (article.title, article.source, str(article.published)) == (
        "Britain weighs Huawei",
        "Example Wire",
        "2019-04-24",
    )
    expected = [span.text for span in split_sentences(ARTICLE["body"])]
    assert list(article.sentences.order_by("position").values_list("text", flat=True)) == expected
    assert body["sentence_count"] == len(expected) == 3


def test_posting_an_article_already_stored_returns_it_and_adds_nothing(boss):
    first = boss.post("/api/articles/", ARTICLE, format="json").json()
    again = boss.post("/api/articles/", {**ARTICLE, "title": "Another title"}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert Article.objects.count() == 1
    assert Sentence.objects.count() == 3


@pytest.mark.parametrize("client_fixture", ["ann", "cur"])
def test_only_admins_import_articles(request, client_fixture):
    response = request.getfixturevalue(client_fixture).post("/api/articles/", ARTICLE, format="json")
    assert response.status_code == 403
    assert Article.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**ARTICLE, "body": "   "}, "body: This field may not be blank."),
        ({**ARTICLE, "title": ""}, "title: This field may not be blank."),
        ({**ARTICLE, "published": "24 April"}, "published: Date has wrong format."),
        ({**ARTICLE, "title": 5}, "title: Must be a string."),
        ({"title": "No body"}, "body: This field is required."),
    ],
)
def test_an_invalid_article_is_a_400_naming_the_field_and_stores_nothing(boss, data, message):
    response = boss.post("/api/articles/", data, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(message)
    assert Article.objects.count() == 0


# Sentences -----------------------------------------------------------------------------------


def test_a_sentence_comes_with_its_article_title_source_and_position(ann, article, sentences):
    response = ann.get(f"/api/sentences/{sentences[2].id}/")
    assert response.json() == {
        "id": sentences[2].id,
        "article": article.id,
        "article_title": article.title,
        "article_source": "Example News",
        "position": 2,
        "text": sentences[2].text,
        "start": 0,
        "end": len(sentences[2].text),
    }


def pages(client, url):
    """Every page's ids, following the `next` links."""
    found = []
    while url:
        body = client.get(url).json()
        found.append([row["id"] for row in body["results"]])
        url = body["next"]
    return found


def test_sentences_come_in_cursor_pages_in_id_order(ann, sentences):
    ids = [s.id for s in sentences]
    assert pages(ann, "/api/sentences/?page_size=2") == [ids[0:2], ids[2:4], ids[4:5]]
    first = ann.get("/api/sentences/?page_size=2").json()
    assert "count" not in first
    assert first["previous"] is None
    back = ann.get(ann.get(first["next"]).json()["previous"]).json()
    assert [row["id"] for row in back["results"]] == ids[0:2]


def test_a_deep_cursor_page_takes_the_same_queries_as_the_first(
    ann, annotator, huawei, django_assert_num_queries
):
    article = ArticleFactory()
    SentenceFactory.create_batch(40, article=article)
    url = "/api/sentences/?page_size=5&labelled=false"
    ann.get(url)  # the token's user, once
    for _ in range(6):
        with django_assert_num_queries(3):  # token and user, the target, the page
            body = ann.get(url).json()
        url = body["next"]


def test_labelling_while_paging_through_unlabelled_sentences_skips_none(ann, annotator, huawei, sentences):
    seen = []
    url = "/api/sentences/?labelled=false&page_size=2"
    while url:
        body = ann.get(url).json()
        for row in body["results"]:
            seen.append(row["id"])
            ann.post("/api/annotations/", {"sentence": row["id"], "label": "neutral"}, format="json")
        url = body["next"]
    assert seen == [s.id for s in sentences]


def test_an_invalid_cursor_is_a_json_400(ann, sentences):
    response = ann.get("/api/sentences/?cursor=garbage")
    assert response.status_code == 400
    assert response.json()["detail"] == "cursor: Not a cursor this API handed out: follow `next`."


@pytest.mark.parametrize("size", ["0", "1001", "many"])
def test_a_page_size_out_of_range_is_a_400(ann, sentences, size):
    response = ann.get(f"/api/sentences/?page_size={size}")
    assert response.status_code == 400
    assert response.json()["detail"] == "page_size: Must be from 1 to 1000."


def test_sentences_filter_by_article(ann, sentences):
    other = SentenceFactory()
    response = ann.get(f"/api/sentences/?article={other.article_id}")
    assert [row["id"] for row in response.json()["results"]] == [other.id]


def test_unlabelled_means_not_labelled_or_skipped_by_me(ann, annotator, other_annotator, huawei, sentences):
    annotation_record(annotator=annotator, sentence=sentences[0], target=huawei, label="pro")
    annotation_record(annotator=annotator, sentence=sentences[1], target=huawei, label="skip")
    annotation_record(annotator=other_annotator, sentence=sentences[2], target=huawei, label="pro")
    unlabelled = ann.get("/api/sentences/?labelled=false").json()["results"]
    assert [row["id"] for row in unlabelled] == [s.id for s in sentences[2:]]
    labelled = ann.get("/api/sentences/?labelled=true").json()["results"]
    assert [row["id"] for row in labelled] == [sentences[0].id, sentences[1].id]


def test_labelled_counts_labels_for_the_target_asked_for(ann, annotator, huawei, sentences):
    other = TargetFactory(name="5G")
    annotation_record(annotator=annotator, sentence=sentences[0], target=other, label="pro")
    mine = ann.get(f"/api/sentences/?labelled=true&target={other.id}").json()["results"]
    assert [row["id"] for row in mine] == [sentences[0].id]
    assert ann.get(f"/api/sentences/?labelled=true&target={huawei.id}").json()["results"] == []


def test_labelled_needs_the_target_once_there_are_two(ann, huawei, sentences):
    TargetFactory(name="5G")
    response = ann.get("/api/sentences/?labelled=false")
    assert response.status_code == 400
    assert response.json()["detail"] == "target: This field is required: there is more than one target."


def test_filtering_by_an_unknown_target_is_a_404(ann, huawei, sentences):
    response = ann.get("/api/sentences/?labelled=false&target=999999")
    assert response.status_code == 404
    assert response.json() == {"detail": "No target with id 999999."}


@pytest.mark.parametrize("query", ["labelled=maybe", "labelled=1", "article=first", "article=0"])
def test_a_malformed_filter_is_a_400(ann, huawei, sentences, query):
    response = ann.get(f"/api/sentences/?{query}")
    assert response.status_code == 400
    assert response.json()["detail"].split(":")[0] == query.split("=")[0]


def test_curators_filter_the_sentences_annotators_disagree_on(cur, huawei, annotator, other_annotator):
    disputed, *agreed = disagreeing_labels(huawei, annotator, other_annotator)
    rows = cur.get("/api/sentences/?disagreement=true").json()["results"]
    assert [row["id"] for row in rows] == [disputed.id]
    rows = cur.get("/api/sentences/?disagreement=false").json()["results"]
    assert [row["id"] for row in rows] == [s.id for s in agreed]


def test_annotators_may_not_filter_by_disagreement(ann, huawei, sentences):
    response = ann.get("/api/sentences/?disagreement=true")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only curators and admins filter by disagreement."}


# Annotations: labelling -----------------------------------------------------------------------


def label(client, sentence, value, **extra):
    return client.post("/api/annotations/", {"sentence": sentence.id, "label": value, **extra}, format="json")


def test_a_label_is_recorded_with_its_history(ann, annotator, huawei, sentences):
    response = label(ann, sentences[0], "pro", spent_ms=1500)
    assert response.status_code == 201
    body = response.json()
    assert (body["sentence"], body["target"], body["label"], body["spent_ms"]) == (
        sentences[0].id,
        huawei.id,
        "pro",
        1500,
    )
    assert body["sentence_text"] == sentences[0].text
    assert Annotation.objects.get(pk=body["id"]).annotator == annotator
    assert history(annotator) == [("create", "", "pro")]


def test_the_api_writes_the_same_labels_and_history_as_the_browser(
    annotator, other_annotator, huawei, sentences
):
    browser = Client()
    browser.force_login(annotator)
    api = api_client(other_annotator)
    steps = [(0, "pro"), (0, "contra"), (0, "contra"), (1, "skip"), (1, "neutral")]
    for index, value in steps:
        browser.post(
            reverse("label-submit", args=[huawei.id]), {"sentence": sentences[index].id, "label": value}
        )
        label(api, sentences[index], value)
    browser.post(reverse("label-undo", args=[huawei.id]))
    api.post("/api/annotations/undo/", {}, format="json")
    assert (
        history(other_annotator)
        == history(annotator)
        == [
            ("create", "", "pro"),
            ("relabel", "pro", "contra"),
            ("repeat", "contra", "contra"),
            ("skip", "", "skip"),
            ("relabel", "skip", "neutral"),
            ("undo", "neutral", ""),
        ]
    )

    def current(user):
        return list(
            Annotation.objects.filter(annotator=user).values_list("sentence_id", "target_id", "label")
        )

    assert current(other_annotator) == current(annotator) == [(sentences[0].id, huawei.id, "contra")]


def test_relabelling_or_repeating_a_label_is_a_200(ann, annotator, huawei, sentences):
    assert label(ann, sentences[0], "pro").status_code == 201
    assert label(ann, sentences[0], "contra").status_code == 200
    assert label(ann, sentences[0], "contra").status_code == 200
    assert Annotation.objects.get().label == "contra"


def test_the_target_may_be_left_out_while_there_is_one(ann, huawei, sentences):
    assert label(ann, sentences[0], "pro").json()["target"] == huawei.id


def test_the_target_is_required_once_there_are_two_and_nothing_is_written(ann, huawei, sentences):
    other = TargetFactory(name="5G")
    before = snapshot()
    response = label(ann, sentences[0], "pro")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "target: This field is required: there is more than one target.",
        "errors": {"target": ["This field is required: there is more than one target."]},
    }
    assert snapshot() == before
    assert label(ann, sentences[0], "pro", target=other.id).json()["target"] == other.id


def test_a_bad_label_is_a_400_with_a_message_and_changes_nothing(ann, huawei, sentences):
    before = snapshot()
    response = label(ann, sentences[0], "maybe")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": 'label: "maybe" is not a valid choice.',
        "errors": {"label": ['"maybe" is not a valid choice.']},
    }
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"label": "pro"}, "sentence: This field is required."),
        ({"sentence": "1", "label": "pro"}, "sentence: Must be a whole number."),
        (
            {"sentence": 1, "label": "pro", "spent_ms": -5},
            "spent_ms: Ensure this value is greater than or equal to 0.",
        ),
        (
            {"sentence": 1, "label": "pro", "suggestion_shown": "yes"},
            "suggestion_shown: Must be true or false.",
        ),
    ],
)
def test_a_malformed_label_is_a_400_and_changes_nothing(ann, huawei, sentences, data, message):
    before = snapshot()
    response = ann.post("/api/annotations/", data, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == message
    assert snapshot() == before


def test_an_unknown_sentence_is_a_404_and_changes_nothing(ann, huawei, sentences):
    before = snapshot()
    response = ann.post("/api/annotations/", {"sentence": 999999, "label": "pro"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "No sentence with id 999999."}
    assert snapshot() == before


def test_an_unknown_target_is_a_404_and_changes_nothing(ann, huawei, sentences):
    before = snapshot()
    response = label(ann, sentences[0], "pro", target=999999)
    assert response.status_code == 404
    assert snapshot() == before


def test_the_time_spent_is_clamped_as_in_the_browser(ann, huawei, sentences):
    assert label(ann, sentences[0], "pro", spent_ms=99_999_999).json()["spent_ms"] == 600_000


def test_accepting_the_suggestion_records_its_label_as_accepted(ann, annotator, huawei, sentences):
    SuggestionFactory(sentence=sentences[0], target=huawei, label="contra")
    body = label(ann, sentences[0], "accept", spent_ms=800).json()
    assert (body["label"], body["accepted_suggestion"], body["suggestion_shown"]) == ("contra", True, True)
    event = AnnotationEvent.objects.get()
    assert (event.action, event.new_label, event.accepted_suggestion) == ("create", "contra", True)


def test_accepting_without_a_suggestion_is_a_409_and_changes_nothing(ann, huawei, sentences):
    before = snapshot()
    response = label(ann, sentences[0], "accept")
    assert response.status_code == 409
    assert response.json() == {"detail": "There is no suggestion to accept for this sentence."}
    assert snapshot() == before


def test_a_suggestion_counts_as_shown_only_if_the_model_shows_one(ann, huawei, sentences):
    SuggestionFactory(sentence=sentences[0], target=huawei, label="pro")
    assert label(ann, sentences[0], "contra", suggestion_shown=True).json()["suggestion_shown"] is True
    assert label(ann, sentences[1], "contra", suggestion_shown=True).json()["suggestion_shown"] is False
    assert label(ann, sentences[2], "contra").json()["suggestion_shown"] is False


def test_a_client_that_hid_the_suggestion_records_it_as_not_shown(ann, huawei, sentences):
    SuggestionFactory(sentence=sentences[0], target=huawei, label="pro")
    body = label(ann, sentences[0], "pro", suggestion_shown=False).json()
    assert (body["suggestion_shown"], body["accepted_suggestion"]) == (False, False)
    assert Annotation.objects.get().suggestion_shown is False


def test_accepting_a_suggestion_counts_it_as_shown_whatever_the_flag_says(ann, huawei, sentences):
    SuggestionFactory(sentence=sentences[0], target=huawei, label="contra")
    body = label(ann, sentences[0], "accept", suggestion_shown=False).json()
    assert (body["label"], body["suggestion_shown"], body["accepted_suggestion"]) == ("contra", True, True)


# Annotations: reading, changing, undoing --------------------------------------------------------


def test_annotators_list_only_their_own_labels(ann, annotator, other_annotator, huawei, sentences):
    annotation_record(annotator=annotator, sentence=sentences[0], target=huawei, label="pro")
    annotation_record(annotator=other_annotator, sentence=sentences[1], target=huawei, label="contra")
    annotation_record(annotator=annotator, sentence=sentences[2], target=huawei, label="skip")
    rows = ann.get("/api/annotations/").json()["results"]
    assert [(row["sentence"], row["label"]) for row in rows] == [
        (sentences[2].id, "skip"),
        (sentences[0].id, "pro"),
    ]


def test_admins_too_list_only_their_own_labels(boss, annotator, huawei, sentences):
    annotation_record(annotator=annotator, sentence=sentences[0], target=huawei, label="pro")
    assert boss.get("/api/annotations/").json()["count"] == 0


def test_the_label_list_filters_by_target_sentence_and_label(ann, annotator, huawei, sentences):
    other = TargetFactory(name="5G")
    annotation_record(annotator=annotator, sentence=sentences[0], target=huawei, label="pro")
    annotation_record(annotator=annotator, sentence=sentences[1], target=huawei, label="contra")
    annotation_record(annotator=annotator, sentence=sentences[0], target=other, label="pro")

    def found(query):
        return sorted(
            (r["sentence"], r["target"]) for r in ann.get(f"/api/annotations/?{query}").json()["results"]
        )

    assert found(f"target={other.id}") == [(sentences[0].id, other.id)]
    assert found(f"sentence={sentences[0].id}") == sorted(
        [(sentences[0].id, huawei.id), (sentences[0].id, other.id)]
    )
    assert found("label=contra") == [(sentences[1].id, huawei.id)]


def test_the_label_list_is_paginated(ann, annotator, huawei, sentences):
    for sentence in sentences:
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    body = ann.get("/api/annotations/?page_size=2").json()
    assert (body["count"], len(body["results"])) == (5, 2)
    assert ann.get(body["next"]).json()["previous"] is not None
    assert ann.get("/api/annotations/?page=9").status_code == 404


def test_another_users_label_is_a_404(ann, other_annotator, huawei, sentences):
    theirs = annotation_record(
        annotator=other_annotator, sentence=sentences[0], target=huawei, label="pro"
    ).annotation
    response = ann.get(f"/api/annotations/{theirs.id}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No Annotation matches the given query."}


def test_changing_a_label_relabels_it_with_its_history(ann, annotator, huawei, sentences):
    mine = annotation_record(
        annotator=annotator, sentence=sentences[0], target=huawei, label="pro", spent_ms=700
    ).annotation
    response = ann.patch(f"/api/annotations/{mine.id}/", {"label": "neutral"}, format="json")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["label"]) == (mine.id, "neutral")
    assert history(annotator) == [("create", "", "pro"), ("relabel", "pro", "neutral")]


def test_changing_another_users_label_is_a_404_and_changes_nothing(ann, other_annotator, huawei, sentences):
    theirs = annotation_record(
        annotator=other_annotator, sentence=sentences[0], target=huawei, label="pro"
    ).annotation
    before = snapshot()
    response = ann.patch(f"/api/annotations/{theirs.id}/", {"label": "contra"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such annotation of yours."}
    assert snapshot() == before


def test_changing_a_label_that_does_not_exist_is_a_404(ann, huawei):
    assert ann.patch("/api/annotations/999999/", {"label": "pro"}, format="json").status_code == 404


@pytest.mark.parametrize("value", ["accept", "maybe", None])
def test_changing_to_a_bad_label_is_a_400_and_changes_nothing(ann, annotator, huawei, sentences, value):
    mine = annotation_record(
        annotator=annotator, sentence=sentences[0], target=huawei, label="pro"
    ).annotation
    before = snapshot()
    response = ann.patch(f"/api/annotations/{mine.id}/", {"label": value}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("label: ")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("method", "url"), [("put", "/api/annotations/1/"), ("delete", "/api/annotations/1/")]
)
def test_labels_are_not_replaced_or_deleted_but_changed_or_undone(ann, huawei, method, url):
    response = getattr(ann, method)(url, {"label": "pro"}, format="json")
    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}


def test_undo_removes_the_last_label_and_keeps_its_history(ann, annotator, huawei, sentences):
    label(ann, sentences[0], "pro")
    label(ann, sentences[1], "contra")
    response = ann.post("/api/annotations/undo/", {}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "undone": {"sentence": sentences[1].id, "target": huawei.id, "label": "contra"},
        "detail": "Undid contra.",
    }
    assert list(Annotation.objects.values_list("sentence_id", flat=True)) == [sentences[0].id]
    assert history(annotator)[-1] == ("undo", "contra", "")


def test_undo_with_nothing_to_undo_says_so_and_changes_nothing(ann, other_annotator, huawei, sentences):
    annotation_record(annotator=other_annotator, sentence=sentences[0], target=huawei, label="pro")
    before = snapshot()
    response = ann.post("/api/annotations/undo/", {}, format="json")
    assert response.json() == {"undone": None, "detail": "Nothing to undo."}
    assert snapshot() == before


def test_undo_needs_the_target_once_there_are_two(ann, annotator, huawei, sentences):
    other = TargetFactory(name="5G")
    annotation_record(annotator=annotator, sentence=sentences[0], target=other, label="pro")
    assert ann.post("/api/annotations/undo/", {}, format="json").status_code == 400
    response = ann.post("/api/annotations/undo/", {"target": other.id}, format="json")
    assert response.json()["undone"]["target"] == other.id


# Suggestions and model versions ----------------------------------------------------------------


def test_curators_list_the_active_models_suggestions(cur, huawei, sentences):
    old = ModelVersionFactory(target=huawei)
    SuggestionFactory(sentence=sentences[0], target=huawei, model_version=old)
    current = [SuggestionFactory(sentence=s, target=huawei, label="contra") for s in sentences[:2]]
    rows = cur.get("/api/suggestions/").json()["results"]
    assert [row["id"] for row in rows] == [s.id for s in current]
    assert rows[0]["probabilities"] == pytest.approx({"pro": 0.1, "contra": 0.8, "neutral": 0.1})
    assert (
        cur.get(f"/api/suggestions/?sentence={sentences[1].id}").json()["results"][0]["id"] == current[1].id
    )


def test_annotators_ask_for_one_sentences_suggestion(ann, huawei, sentences):
    suggestion = SuggestionFactory(sentence=sentences[0], target=huawei)
    response = ann.get("/api/suggestions/")
    assert response.status_code == 403
    assert "?sentence=" in response.json()["detail"]
    rows = ann.get(f"/api/suggestions/?sentence={sentences[0].id}").json()["results"]
    assert [row["id"] for row in rows] == [suggestion.id]


def test_annotators_get_no_suggestion_for_the_control_set(ann, cur, huawei):
    suggestions = [SuggestionFactory(target=huawei) for _ in range(30)]
    huawei.control_share = 0.5
    huawei.save()
    hidden = next(s for s in suggestions if in_control_set(target=huawei, sentence_id=s.sentence_id))
    assert ann.get(f"/api/suggestions/?sentence={hidden.sentence_id}").json()["results"] == []
    assert ann.get(f"/api/suggestions/{hidden.id}/").status_code == 404
    assert cur.get(f"/api/suggestions/{hidden.id}/").status_code == 200


def test_curators_list_model_versions_with_the_active_one_marked(cur, huawei):
    old = ModelVersionFactory(target=huawei)
    SuggestionFactory(target=huawei)  # makes and activates a newer version
    rows = cur.get(f"/api/model-versions/?target={huawei.id}").json()["results"]
    assert [(row["id"] == old.id, row["active"]) for row in rows] == [(False, True), (True, False)]
    assert rows[0]["metrics"] == {"accuracy": 0.7, "macro_f1": 0.6, "f_avg": 0.55}


def test_a_model_version_says_how_it_was_decided_and_who_activated_it(cur, huawei):
    from django.utils import timezone

    admin = UserFactory(username="root-admin", is_staff=True, is_superuser=True)
    when = timezone.now()
    comparison = {
        "activate": True,
        "basis": "slice",
        "figure": "F_avg on the evaluation slice",
        "new": 0.61,
        "active": 0.55,
        "new_n": 40,
        "active_n": 40,
        "against": None,
        "reason": "activated: 0.61 >= 0.55 on the slice",
    }
    version = ModelVersionFactory(
        target=huawei,
        decision="activated",
        comparison=comparison,
        decided_at=when,
        activated_at=when,
        activated_by=admin,
    )
    untouched = ModelVersionFactory(target=huawei)

    rows = {row["id"]: row for row in cur.get(f"/api/model-versions/?target={huawei.id}").json()["results"]}

    decided = rows[version.id]
    assert decided["decision"] == "activated"
    assert decided["comparison"] == comparison
    assert decided["decided_at"] == decided["activated_at"] == when.isoformat().replace("+00:00", "Z")
    assert decided["activated_by"] == "root-admin"
    assert [rows[untouched.id][k] for k in ("decision", "comparison", "decided_at", "activated_by")] == [
        "",
        {},
        None,
        None,
    ]
    assert cur.get(f"/api/model-versions/{version.id}/").json()["activated_by"] == "root-admin"


@pytest.mark.parametrize("versions", [2, 20])
def test_the_model_version_list_reads_a_fixed_number_of_queries(
    cur, huawei, versions, django_assert_max_num_queries
):
    # Each activated by its own admin and of its own target: a lookup a row would show.
    for i in range(versions):
        ModelVersionFactory(activated_by=UserFactory(is_staff=True), target=TargetFactory(name=f"t{i}"))

    with django_assert_max_num_queries(6):
        rows = cur.get("/api/model-versions/?page_size=100").json()["results"]

    assert len(rows) == versions


def activation_tasks() -> list[list]:
    from annotate.retrain_policy import ACTIVATE_TASK_PATH

    return [t.args_kwargs["args"] for t in DBTaskResult.objects.filter(task_path=ACTIVATE_TASK_PATH)]


def test_an_admin_queues_a_rollback_to_a_ready_version(boss, admin_user, huawei):
    old = ModelVersionFactory(target=huawei)
    SuggestionFactory(target=huawei)  # a newer version, active

    response = boss.post(f"/api/model-versions/{old.id}/activate/")

    assert response.status_code == 202
    assert response.json() == {"version": old.id, "target": huawei.id, "detail": "Activation queued."}
    # The same task as the models page's button (its work is tested in tests/test_activation.py):
    # the active version stays until the worker has written the old one's suggestions.
    assert activation_tasks() == [[huawei.id, old.id, admin_user.id]]
    huawei.refresh_from_db()
    assert huawei.active_version_id != old.id


def test_activating_a_version_that_is_not_ready_is_a_400_and_queues_nothing(boss, huawei):
    failed = ModelVersionFactory(target=huawei, status="failed")

    response = boss.post(f"/api/model-versions/{failed.id}/activate/")

    assert response.status_code == 400
    assert (
        response.json()["detail"] == f"v{failed.id} was not activated: v{failed.id} is not a trained version."
    )
    assert activation_tasks() == []


def test_activating_the_active_version_is_a_400_and_a_second_while_one_is_queued_a_409(boss, huawei):
    old = ModelVersionFactory(target=huawei)
    active = SuggestionFactory(target=huawei).model_version

    assert boss.post(f"/api/model-versions/{active.id}/activate/").status_code == 400
    assert boss.post(f"/api/model-versions/{old.id}/activate/").status_code == 202
    busy = boss.post(f"/api/model-versions/{old.id}/activate/")
    assert busy.status_code == 409
    assert "already queued or running" in busy.json()["detail"]
    assert len(activation_tasks()) == 1


def test_only_admins_activate_and_an_unknown_version_is_a_404(ann, cur, boss, huawei):
    version = ModelVersionFactory(target=huawei)

    assert ann.post(f"/api/model-versions/{version.id}/activate/").status_code == 403
    assert cur.post(f"/api/model-versions/{version.id}/activate/").status_code == 403
    assert boss.post(f"/api/model-versions/{version.id + 999}/activate/").status_code == 404
    assert activation_tasks() == []


def test_a_session_activation_needs_the_csrf_token(admin_user, huawei):
    version = ModelVersionFactory(target=huawei)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    assert client.post(f"/api/model-versions/{version.id}/activate/").status_code == 403
    assert activation_tasks() == []


def test_annotators_may_not_read_model_versions(ann, huawei):
    assert ann.get("/api/model-versions/").status_code == 403


# Export ----------------------------------------------------------------------------------------


def test_admins_export_gold_labels_as_streamed_json_lines(boss, annotator, other_annotator, huawei):
    sentences = disagreeing_labels(huawei, annotator, other_annotator)
    response = boss.get("/api/export/")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="huawei-gold.jsonl"'
    rows = [json.loads(line) for line in streamed(response).splitlines()]
    assert [(row["sentence_id"], row["label"]) for row in rows] == [(s.id, "pro") for s in sentences[1:]]


def test_admins_export_labels_as_csv_with_usernames(boss, annotator, huawei, sentences):
    annotation_record(annotator=annotator, sentence=sentences[0], target=huawei, label="contra")
    response = boss.get("/api/export/?level=annotations&format=csv&names=true")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(streamed(response))))
    assert [(row["text"], row["label"], row["annotator"]) for row in rows] == [
        (sentences[0].text, "contra", "ann")
    ]


def test_export_splits_by_article_when_asked(boss, annotator, huawei, sentences):
    annotation_record(annotator=annotator, sentence=sentences[0], target=huawei, label="pro")
    rows = [json.loads(line) for line in streamed(boss.get("/api/export/?split=true&seed=7")).splitlines()]
    assert rows[0]["split"] in {"train", "dev", "test"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("level=everything", 'level: "everything" is not a valid choice.'),
        ("split=1", "split: Must be a valid boolean."),
    ],
)
def test_a_bad_export_parameter_is_a_400_in_json(boss, huawei, query, message):
    response = boss.get(f"/api/export/?{query}")
    assert response.status_code == 400
    assert response.json()["detail"] == message


@pytest.mark.parametrize("client_fixture", ["ann", "cur"])
def test_only_admins_export(request, huawei, client_fixture):
    response = request.getfixturevalue(client_fixture).get("/api/export/")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only admins may do this."}


# Tokens --------------------------------------------------------------------------------------


def test_admins_issue_a_users_token_once(boss, annotator):
    first = boss.post("/api/tokens/", {"username": "ann"}, format="json")
    assert first.status_code == 201
    assert first.json() == {"username": "ann", "token": Token.objects.get(user=annotator).key}
    again = boss.post("/api/tokens/", {"username": "ann"}, format="json")
    assert (again.status_code, again.json()) == (200, first.json())


def test_an_issued_token_works(boss, annotator, huawei):
    key = boss.post("/api/tokens/", {"username": "ann"}, format="json").json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/targets/").status_code == 200


def test_a_token_for_an_unknown_user_is_a_404(boss):
    response = boss.post("/api/tokens/", {"username": "nobody"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "No user named 'nobody'."}


def test_a_token_for_an_inactive_user_is_refused(boss):
    UserFactory(username="gone", is_active=False, password=None)
    response = boss.post("/api/tokens/", {"username": "gone"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "gone is inactive; activate the account first."
    assert not Token.objects.filter(user__username="gone").exists()


@pytest.mark.parametrize("client_fixture", ["ann", "cur"])
def test_only_admins_issue_tokens(request, annotator, client_fixture):
    client = request.getfixturevalue(client_fixture)
    tokens = Token.objects.count()
    assert client.post("/api/tokens/", {"username": "ann"}, format="json").status_code == 403
    assert Token.objects.count() == tokens


def test_the_issue_token_command_prints_the_users_token(annotator):
    out = io.StringIO()
    call_command("issue_token", "ann", stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip()
    assert key == Token.objects.get(user=annotator).key
    out = io.StringIO()
    call_command("issue_token", "ann", stdout=out, stderr=io.StringIO())
    assert out.getvalue().strip() == key


def test_the_issue_token_command_rotates_on_request(annotator):
    old = api_token(annotator)
    out = io.StringIO()
    call_command("issue_token", "ann", "--rotate", stdout=out, stderr=io.StringIO())
    assert out.getvalue().strip() == Token.objects.get(user=annotator).key != old


def test_the_issue_token_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("issue_token", "nobody")


def long_body() -> str:
    return "Huawei was named again. " * (ONLINE_BODY_MAX_CHARS // 24 + 1)


def test_a_body_too_long_to_split_in_a_request_is_queued_and_followed_to_its_article(boss):
    response = boss.post("/api/articles/", {**ARTICLE, "body": long_body()}, format="json")

    assert response.status_code == 202
    queued = response.json()
    assert (queued["status"], queued["article"], queued["error"]) == ("queued", None, "")
    assert queued["url"] == f"/api/import-tasks/{queued['task']}/"
    assert Article.objects.count() == 0  # nothing split inside the request
    assert boss.get(queued["url"]).json()["status"] == "queued"

    run_queued_task()

    done = boss.get(queued["url"]).json()
    article = Article.objects.get()
    assert (done["status"], done["article"], done["created"]) == ("done", article.pk, True)
    assert done["sentences"] == article.sentences.count() > 1000
    assert article.title == ARTICLE["title"]


def test_a_long_body_already_stored_answers_the_stored_article_at_once(boss):
    body = long_body()
    boss.post("/api/articles/", {**ARTICLE, "body": body}, format="json")
    run_queued_task()

    again = boss.post("/api/articles/", {**ARTICLE, "body": body}, format="json")

    assert again.status_code == 200
    assert again.json()["id"] == Article.objects.get().pk
    assert not DBTaskResult.objects.ready().exists()


def test_an_import_refused_when_its_task_runs_reads_failed_with_the_reason(boss, monkeypatch):
    response = boss.post("/api/articles/", {**ARTICLE, "body": long_body()}, format="json")

    def refuse(*, parsed):
        raise CorpusError("API", "the body was refused")

    monkeypatch.setattr("annotate.tasks.article_import_one", refuse)
    run_queued_task()

    state = boss.get(response.json()["url"]).json()
    assert (state["status"], state["error"]) == ("failed", "API: the body was refused")
    assert Article.objects.count() == 0


@pytest.mark.parametrize("task_id", ["00000000-0000-0000-0000-000000000000", "not-a-task"])
def test_an_unknown_import_task_is_a_json_404(boss, task_id):
    response = boss.get(f"/api/import-tasks/{task_id}/")
    assert response.status_code == 404
    assert response.json()["detail"] == "No such import task."


def test_import_tasks_are_for_admins(ann, boss):
    url = boss.post("/api/articles/", {**ARTICLE, "body": long_body()}, format="json").json()["url"]
    assert ann.get(url).status_code == 403
