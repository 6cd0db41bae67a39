"""The API's flags and returned labels: the services the labelling card and the
adjudication page call (annotate/flags.py, annotate/returns.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from annotate.models import Flag, LabelReturn
from annotate.queue.record import annotation_record
from annotate.returns import label_return
from tests.factories import SentenceFactory, UserFactory, api_client
from tests.records import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(annotator):
    return api_client(annotator)


@pytest.fixture
def bob(other_annotator):
    return api_client(other_annotator)


@pytest.fixture
def cur(curator):
    return api_client(curator)


@pytest.fixture
def labelled(annotator, other_annotator, huawei, sentences):
    """Both annotators labelled the first two sentences."""
    mine = [
        annotation_record(annotator=annotator, sentence=s, target=huawei, label="pro").annotation
        for s in sentences[:2]
    ]
    for s in sentences[:2]:
        annotation_record(annotator=other_annotator, sentence=s, target=huawei, label="contra")
    return mine


def flag(client, sentence, reason="unsure", comment="Irony?", **extra):
    data = {"sentence": sentence.pk, "reason": reason, "comment": comment, **extra}
    return client.post("/api/flags/", data, format="json")


def test_an_annotator_flags_a_sentence_they_labelled_and_lists_only_their_own_flags(
    ann, bob, annotator, huawei, sentences, labelled
):
    response = flag(ann, sentences[0])
    assert response.status_code == 201
    body = response.json()
    assert (body["sentence"], body["target"], body["reason"], body["comment"], body["resolved_at"]) == (
        sentences[0].pk,
        huawei.pk,
        "unsure",
        "Irony?",
        None,
    )
    assert flag(bob, sentences[1], reason="discuss").status_code == 201
    mine = ann.get("/api/flags/").json()["results"]
    assert [(row["annotator"], row["sentence"]) for row in mine] == [(annotator.pk, sentences[0].pk)]


def test_an_unknown_reason_is_a_400_naming_the_reasons_and_writes_nothing(ann, sentences, labelled):
    before = snapshot()
    response = flag(ann, sentences[0], reason="boring")
    assert response.status_code == 400
    assert "Unknown reason 'boring'; expected one of unsure, bad_split, discuss." in response.json()["detail"]
    assert snapshot() == before and not Flag.objects.exists()


def test_a_flag_on_a_sentence_never_shown_is_a_409_and_with_a_long_comment_a_400_and_writes_nothing(
    ann, sentences, labelled
):
    refused = flag(ann, sentences[4])
    assert (
        refused.status_code == 409
        and refused.json()["detail"] == "You can flag only a sentence you were shown."
    )
    assert flag(ann, sentences[0], comment="x" * 1001).status_code == 400
    assert not Flag.objects.exists()


def test_a_session_flag_or_return_without_csrf_is_refused_and_writes_nothing(
    annotator, curator, sentences, labelled
):
    for user, path, data in [
        (annotator, "/api/flags/", {"sentence": sentences[0].pk, "reason": "unsure"}),
        (curator, "/api/returns/", {"annotation": labelled[0].pk, "comment": "Again"}),
    ]:
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        response = client.post(path, data, content_type="application/json")
        assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert not Flag.objects.exists() and not LabelReturn.objects.exists()


def test_curators_list_every_flag_filtered_by_open_and_target_and_resolve_one(
    ann, bob, cur, curator, huawei, sentences, labelled
):
    first = flag(ann, sentences[0]).json()
    second = flag(bob, sentences[1]).json()
    assert [row["id"] for row in cur.get("/api/flags/").json()["results"]] == [first["id"], second["id"]]
    response = cur.post(f"/api/flags/{first['id']}/resolve/")
    assert response.status_code == 200
    assert response.json()["resolved_by"] == curator.pk and response.json()["resolved_at"] is not None
    assert [row["id"] for row in cur.get("/api/flags/?open=true").json()["results"]] == [second["id"]]
    assert [row["id"] for row in cur.get("/api/flags/?open=false").json()["results"]] == [first["id"]]
    assert cur.get(f"/api/flags/?target={huawei.pk + 1000}").json()["results"] == []
    assert cur.get("/api/flags/?open=maybe").status_code == 400


def test_an_annotator_cannot_resolve_a_flag_and_an_unknown_flag_is_a_404(ann, cur, sentences, labelled):
    made = flag(ann, sentences[0]).json()
    assert ann.post(f"/api/flags/{made['id']}/resolve/").status_code == 403
    assert cur.post(f"/api/flags/{made['id'] + 1000}/resolve/").status_code == 404
    assert Flag.objects.get().resolved_at is None


def test_a_curator_returns_a_label_and_only_its_annotator_sees_it_with_the_comment(
    ann, bob, cur, annotator, curator, labelled
):
    response = cur.post("/api/returns/", {"annotation": labelled[0].pk, "comment": " Sure? "}, format="json")
    assert response.status_code == 201
    returned = LabelReturn.objects.get()
    assert (returned.annotator, returned.by, returned.label, returned.comment) == (
        annotator,
        curator,
        "pro",
        "Sure?",
    )
    rows = ann.get("/api/returns/?open=true").json()["results"]
    assert [(row["id"], row["comment"], row["label"]) for row in rows] == [(returned.pk, "Sure?", "pro")]
    assert bob.get("/api/returns/").json()["results"] == []
    assert [row["id"] for row in cur.get("/api/returns/").json()["results"]] == [returned.pk]


def test_a_return_resolved_by_a_relabel_is_listed_as_resolved(ann, cur, annotator, curator, huawei, labelled):
    label_return(curator=curator, target=huawei, annotation_id=labelled[0].pk, comment="Sure?")
    assert (
        ann.patch(f"/api/annotations/{labelled[0].pk}/", {"label": "neutral"}, format="json").status_code
        == 200
    )
    assert cur.get("/api/returns/?open=true").json()["results"] == []
    (row,) = cur.get("/api/returns/?open=false").json()["results"]
    assert row["resolved_label"] == "neutral" and row["resolved_at"] is not None


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"comment": ""}, 400),  # a comment is required
        ({"comment": "x" * 1001}, 400),
        ({"comment": "Again", "annotation": 10**9}, 404),
        ({"comment": "Again", "annotation": "abc"}, 400),
    ],
)
def test_a_bad_return_is_refused_and_writes_nothing(cur, labelled, data, status):
    before = snapshot()
    response = cur.post("/api/returns/", {"annotation": labelled[0].pk, **data}, format="json")
    assert response.status_code == status
    assert snapshot() == before and not LabelReturn.objects.exists()


def test_a_label_returned_twice_before_its_relabel_is_a_409(cur, labelled):
    assert (
        cur.post("/api/returns/", {"annotation": labelled[0].pk, "comment": "A"}, format="json").status_code
        == 201
    )
    response = cur.post("/api/returns/", {"annotation": labelled[0].pk, "comment": "B"}, format="json")
    assert response.status_code == 409 and "returned already" in response.json()["detail"]
    assert LabelReturn.objects.count() == 1


def test_annotators_cannot_return_labels(ann, labelled):
    response = ann.post("/api/returns/", {"annotation": labelled[0].pk, "comment": "Again"}, format="json")
    assert response.status_code == 403
    assert not LabelReturn.objects.exists()


@pytest.mark.parametrize("size", [2, 12])
def test_the_flag_and_return_lists_run_bounded_queries_whatever_their_length(
    cur, curator, huawei, django_assert_max_num_queries, size
):
    for _ in range(size):
        annotator, sentence = UserFactory(role="annotator"), SentenceFactory()
        annotation = annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
        Flag.objects.create(annotator=annotator, sentence=sentence, target=huawei, reason="unsure")
        label_return(curator=curator, target=huawei, annotation_id=annotation.annotation.pk, comment="Again")
    # The token's user, the page of rows with their annotators.
    for path in ["/api/flags/", "/api/returns/"]:
        with django_assert_max_num_queries(3):
            response = cur.get(f"{path}?page_size=50")
        assert len(response.json()["results"]) == size


def test_the_lists_page_by_cursor(cur, curator, huawei):
    for _ in range(3):
        annotator, sentence = UserFactory(role="annotator"), SentenceFactory()
        Flag.objects.create(annotator=annotator, sentence=sentence, target=huawei, reason="unsure")
    first = cur.get("/api/flags/?page_size=2").json()
    assert len(first["results"]) == 2 and "cursor=" in first["next"]
    assert len(cur.get(first["next"]).json()["results"]) == 1
