"""Returned labels (annotate/returns.py): a curator returns one annotator's label with a
comment; the annotator gets it first in their queue, with the comment, and relabels it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from annotate.models import Annotation, AnnotationEvent, LabelReturn, SentenceTally
from annotate.queue.record import annotation_record
from annotate.returns import AlreadyReturned, label_return
from tests.factories import SentenceFactory, TargetFactory
from tests.test_views_labelling import HTMX, current_id, label_url, submit_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator_client(curator) -> Client:
    client = Client()
    client.force_login(curator)
    return client


def return_url(target):
    return reverse("adjudicate-return", args=[target.id])


@pytest.fixture
def labelled(annotator, other_annotator, huawei, sentences):
    """The annotator labelled the first two sentences (the other one the first too)."""
    annotation_record(annotator=other_annotator, sentence=sentences[0], target=huawei, label="contra")
    first = annotation_record(annotator=annotator, sentence=sentences[0], target=huawei, label="pro")
    annotation_record(annotator=annotator, sentence=sentences[1], target=huawei, label="neutral")
    return first.annotation


def actions(annotator, sentence):
    return list(
        AnnotationEvent.objects.filter(annotator=annotator, sentence=sentence)
        .order_by("id")
        .values_list("action", "old_label", "new_label")
    )


def test_a_return_keeps_its_comment_writes_history_and_leaves_the_label_counted(
    annotator, curator, curator_client, huawei, labelled
):
    before = SentenceTally.objects.get(target=huawei, sentence=labelled.sentence)
    response = curator_client.post(
        return_url(huawei), {"annotation": labelled.pk, "comment": " Read the quote again. "}, **HTMX
    )
    assert response.status_code == 200
    returned = LabelReturn.objects.get()
    assert (returned.annotator, returned.by, returned.label, returned.comment, returned.resolved_at) == (
        annotator,
        curator,
        "pro",
        "Read the quote again.",
        None,
    )
    assert actions(annotator, labelled.sentence)[-1] == ("return", "pro", "pro")
    assert Annotation.objects.get(pk=labelled.pk).label == "pro"
    after = SentenceTally.objects.get(target=huawei, sentence=labelled.sentence)
    assert (after.pro, after.contra, after.votes) == (before.pro, before.contra, before.votes) == (1, 1, 2)
    html = response.content.decode()
    assert "returned, waiting for ann" in html and "Read the quote again." in html


def test_the_returned_sentence_and_its_comment_come_first_in_the_annotators_queue(
    annotator, annotator_client, curator, huawei, sentences, labelled
):
    held = current_id(annotator_client.get(label_url(huawei)).content.decode())
    assert held == sentences[2].pk  # the next open one, reserved
    label_return(curator=curator, target=huawei, annotation_id=labelled.pk, comment="Sure it is pro?")
    html = annotator_client.get(label_url(huawei)).content.decode()
    assert current_id(html) == labelled.sentence_id  # before the live reservation and open ones
    assert "Returned to you by a curator" in html and "Sure it is pro?" in html
    returned = LabelReturn.objects.get()
    assert f'name="returned" value="{returned.pk}"' in html


def test_relabelling_the_returned_sentence_resolves_it_writes_the_relabel_and_moves_on(
    annotator, annotator_client, curator, huawei, sentences, labelled
):
    returned = label_return(curator=curator, target=huawei, annotation_id=labelled.pk, comment="Look again")
    annotator_client.get(label_url(huawei))
    response = annotator_client.post(
        submit_url(huawei),
        {"sentence": labelled.sentence_id, "label": "contra", "returned": returned.pk, "spent_ms": 800},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert current_id(html) == sentences[2].pk  # then the queue goes on
    assert "Relabelled the returned sentence: Labelled contra" in html
    returned.refresh_from_db()
    assert returned.resolved_at is not None and returned.resolved_label == "contra"
    assert Annotation.objects.get(pk=labelled.pk).label == "contra"
    assert actions(annotator, labelled.sentence) == [
        ("create", "", "pro"),
        ("return", "pro", "pro"),
        ("relabel", "pro", "contra"),
    ]
    # Resolved: it no longer comes first.
    assert current_id(annotator_client.get(label_url(huawei)).content.decode()) == sentences[2].pk


def test_keeping_the_returned_label_resolves_it_as_a_repeat(
    annotator, annotator_client, curator, huawei, labelled
):
    returned = label_return(curator=curator, target=huawei, annotation_id=labelled.pk, comment="Sure?")
    annotator_client.get(label_url(huawei))
    annotator_client.post(
        submit_url(huawei),
        {"sentence": labelled.sentence_id, "label": "pro", "returned": returned.pk},
        **HTMX,
    )
    returned.refresh_from_db()
    assert returned.resolved_label == "pro"
    assert actions(annotator, labelled.sentence)[-1] == ("repeat", "pro", "pro")


def test_the_adjudication_card_shows_the_return_and_what_came_of_it(
    annotator, annotator_client, curator, curator_client, huawei, labelled
):
    returned = label_return(
        curator=curator, target=huawei, annotation_id=labelled.pk, comment="Check the irony"
    )
    annotator_client.post(
        submit_url(huawei), {"sentence": labelled.sentence_id, "label": "neutral", "returned": returned.pk}
    )
    # Still a disagreement (contra and neutral): the first card, with its returns.
    html = curator_client.get(reverse("adjudicate", args=[huawei.pk])).content.decode()
    assert f'data-sentence-id="{labelled.sentence_id}"' in html
    assert "cur returned ann's pro" in html and "Check the irony" in html
    assert "relabelled neutral" in html


def test_only_curators_and_admins_return_labels(annotator, annotator_client, huawei, labelled):
    response = annotator_client.post(return_url(huawei), {"annotation": labelled.pk, "comment": "mine"})
    assert response.status_code == 403
    assert not LabelReturn.objects.exists()
    assert Client().post(return_url(huawei), {"annotation": labelled.pk, "comment": "x"}).status_code in (
        302,
        401,
    )
    assert not LabelReturn.objects.exists()


def test_a_return_without_csrf_is_refused(curator, huawei, labelled):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(curator)
    assert strict.post(return_url(huawei), {"annotation": labelled.pk, "comment": "x"}).status_code == 403
    assert not LabelReturn.objects.exists()


@pytest.mark.parametrize(
    ("comment", "status"), [("", 400), ("   ", 400), ("x" * 1001, 400)], ids=["empty", "blank", "long"]
)
def test_a_return_needs_a_comment_of_at_most_1000_characters(
    curator_client, huawei, labelled, comment, status
):
    response = curator_client.post(
        return_url(huawei), {"annotation": labelled.pk, "comment": comment}, **HTMX
    )
    assert response.status_code == status
    assert "comment" in response.content.decode().lower()
    assert not LabelReturn.objects.exists()
    assert not AnnotationEvent.objects.filter(action="return").exists()


def test_a_label_of_another_target_or_none_is_404_and_writes_nothing(
    annotator, curator_client, huawei, labelled
):
    other = TargetFactory(name="Other")
    elsewhere = Annotation.objects.create(
        annotator=annotator, sentence=SentenceFactory(), target=other, label="pro"
    )
    for annotation in (elsewhere.pk, 10**9):
        response = curator_client.post(return_url(huawei), {"annotation": annotation, "comment": "x"}, **HTMX)
        assert response.status_code == 404
    assert not LabelReturn.objects.exists()


def test_a_label_returned_and_not_yet_relabelled_is_not_returned_twice(
    curator, curator_client, huawei, labelled
):
    label_return(curator=curator, target=huawei, annotation_id=labelled.pk, comment="first")
    response = curator_client.post(
        return_url(huawei), {"annotation": labelled.pk, "comment": "again"}, **HTMX
    )
    assert response.status_code == 409
    with pytest.raises(AlreadyReturned):
        label_return(curator=curator, target=huawei, annotation_id=labelled.pk, comment="again")
    assert LabelReturn.objects.count() == 1


def test_only_the_labels_own_annotator_sees_it_and_another_users_return_id_is_404(
    annotator, other_annotator, curator, huawei, sentences, labelled
):
    returned = label_return(curator=curator, target=huawei, annotation_id=labelled.pk, comment="for ann only")
    bob = Client()
    bob.force_login(other_annotator)
    html = bob.get(label_url(huawei)).content.decode()
    assert "for ann only" not in html and current_id(html) != labelled.sentence_id
    bobs_next = current_id(html)
    response = bob.post(
        submit_url(huawei), {"sentence": bobs_next, "label": "pro", "returned": returned.pk}, **HTMX
    )
    assert response.status_code == 404
    assert not Annotation.objects.filter(annotator=other_annotator, sentence_id=bobs_next).exists()
    returned.refresh_from_db()
    assert returned.resolved_at is None


def test_a_returned_id_for_another_sentence_is_404_and_writes_nothing(
    annotator, annotator_client, curator, huawei, sentences, labelled
):
    returned = label_return(curator=curator, target=huawei, annotation_id=labelled.pk, comment="x")
    response = annotator_client.post(
        submit_url(huawei), {"sentence": sentences[3].pk, "label": "pro", "returned": returned.pk}, **HTMX
    )
    assert response.status_code == 404
    assert not Annotation.objects.filter(annotator=annotator, sentence=sentences[3]).exists()


def test_a_returned_skip_can_become_a_stance_label_on_a_full_sentence(
    annotator, other_annotator, annotator_client, curator, huawei, sentences
):
    # Others filled the sentence after the annotator skipped it: the return's reservation
    # gives them its room back, as a shown sentence has.
    skipped = annotation_record(annotator=annotator, sentence=sentences[0], target=huawei, label="skip")
    annotation_record(annotator=other_annotator, sentence=sentences[0], target=huawei, label="pro")
    annotation_record(annotator=curator, sentence=sentences[0], target=huawei, label="pro")
    returned = label_return(
        curator=curator, target=huawei, annotation_id=skipped.annotation.pk, comment="Not a caption"
    )
    assert current_id(annotator_client.get(label_url(huawei)).content.decode()) == sentences[0].pk
    response = annotator_client.post(
        submit_url(huawei), {"sentence": sentences[0].pk, "label": "pro", "returned": returned.pk}, **HTMX
    )
    assert response.status_code == 200
    assert Annotation.objects.get(annotator=annotator, sentence=sentences[0]).label == "pro"


#: The label round trip's pins (tests/test_views_labelling.py) hold with returns in the
#: queue: the cursor's statement reads the oldest return, the card's its comment. A label
#: given on a returned card costs four more than a first label (11 with the retrain policy
#: off, the annotator role check included): the return read under the target's lock and
#: its UPDATE, and, being a relabel, the annotation read under its lock and its UPDATE (as
#: the history panel's change).
RETURNED_LABEL_QUERIES = 15


def test_a_label_on_a_returned_card_runs_its_pinned_queries(
    annotator, annotator_client, curator, huawei, sentences, labelled, django_assert_num_queries
):
    from annotate.models import Target

    Target.objects.filter(pk=huawei.pk).update(evaluation_rate=0, retrain_every=0)
    returned = label_return(curator=curator, target=huawei, annotation_id=labelled.pk, comment="x")
    annotator_client.get(label_url(huawei))
    with django_assert_num_queries(RETURNED_LABEL_QUERIES):
        response = annotator_client.post(
            submit_url(huawei),
            {"sentence": labelled.sentence_id, "label": "contra", "returned": returned.pk},
            **HTMX,
        )
    assert response.status_code == 200


def change_paths():
    """Every path but the card by which an annotator relabels one of their labels."""
    from tests.test_api import api_client
    from tests.test_my_labels import change_url
    from tests.test_views_labelling import relabel_url

    def history_panel(annotator, annotation, label):
        client = Client()
        client.force_login(annotator)
        return client.post(relabel_url(annotation), {"label": label}, **HTMX)

    def my_labels(annotator, annotation, label):
        client = Client()
        client.force_login(annotator)
        return client.post(change_url(annotation), {"label": label}, **HTMX)

    def api_patch(annotator, annotation, label):
        return api_client(annotator).patch(
            f"/api/annotations/{annotation.pk}/", {"label": label}, format="json"
        )

    return [history_panel, my_labels, api_patch]


@pytest.mark.parametrize("change", change_paths(), ids=lambda change: change.__name__)
@pytest.mark.parametrize("label", ["contra", "pro"])
def test_relabelling_or_keeping_the_returned_label_off_the_card_resolves_it_with_its_history(
    annotator, curator, huawei, labelled, change, label
):
    returned = label_return(curator=curator, target=huawei, annotation_id=labelled.pk, comment="Look again")
    response = change(annotator, labelled, label)
    assert response.status_code == 200
    returned.refresh_from_db()
    assert returned.resolved_at is not None and returned.resolved_label == label
    assert Annotation.objects.get(pk=labelled.pk).label == label
    action = "relabel" if label == "contra" else "repeat"
    assert actions(annotator, labelled.sentence)[-1] == (action, "pro", label)


@pytest.mark.parametrize("change", change_paths(), ids=lambda change: change.__name__)
def test_another_label_of_the_annotator_changed_off_the_card_leaves_the_return_open(
    annotator, curator, huawei, sentences, labelled, change
):
    returned = label_return(curator=curator, target=huawei, annotation_id=labelled.pk, comment="Look again")
    other = Annotation.objects.get(annotator=annotator, sentence=sentences[1])
    assert change(annotator, other, "contra").status_code == 200
    returned.refresh_from_db()
    assert returned.resolved_at is None


def test_a_refused_change_off_the_card_leaves_the_return_open(annotator, curator, huawei, labelled):
    from tests.test_api import api_client

    returned = label_return(curator=curator, target=huawei, annotation_id=labelled.pk, comment="Look again")
    response = api_client(annotator).patch(
        f"/api/annotations/{labelled.pk}/", {"label": "maybe"}, format="json"
    )
    assert response.status_code == 400
    returned.refresh_from_db()
    assert returned.resolved_at is None


def test_undoing_the_returned_label_leaves_the_return_open_until_it_is_labelled_again(
    annotator, curator, huawei, labelled
):
    from annotate.queue.record import annotation_undo

    returned = label_return(curator=curator, target=huawei, annotation_id=labelled.pk, comment="Look again")
    Annotation.objects.filter(annotator=annotator, target=huawei).exclude(pk=labelled.pk).update(
        updated_at=labelled.updated_at.replace(year=2000)
    )
    assert annotation_undo(annotator=annotator, target=huawei).sentence_id == labelled.sentence_id
    returned.refresh_from_db()
    assert returned.resolved_at is None
    annotation_record(annotator=annotator, sentence=labelled.sentence, target=huawei, label="neutral")
    returned.refresh_from_db()
    assert returned.resolved_label == "neutral"
