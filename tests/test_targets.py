"""Admins create, edit and archive targets in the app (annotate/targets.py and its form)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotate.adjudication import adjudication_record
from annotate.models import (
    Adjudication,
    Annotation,
    Assignment,
    QueueCursor,
    Target,
    TargetArchived,
    TargetExample,
)
from annotate.queue import statements
from annotate.queue.loop import label_and_next, undo_and_next
from annotate.queue.record import annotation_change, annotation_record
from annotate.queue.reservations import next_sentence_id
from annotate.targets import target_archive, target_update
from tests.factories import ArticleFactory, SentenceFactory, TargetFactory, target_settings

pytestmark = pytest.mark.django_db


def form_data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "ZTE",
        "description": "Stance toward the Chinese telecoms maker ZTE.",
        "guidelines": "**pro**: supports ZTE.",
        "aliases": "ZTE\nZTE Corporation\n zte \n\nthe Shenzhen firm",
        "overlap": 3,
        "queue_order": "in_order",
        "uncertainty_measure": "margin",
        "random_share": 0.2,
        "control_share": 0.1,
        "examples-TOTAL_FORMS": 2,
        "examples-INITIAL_FORMS": 0,
        "examples-MIN_NUM_FORMS": 0,
        "examples-MAX_NUM_FORMS": 60,
        "examples-0-label": "pro",
        "examples-0-text": "ZTE builds good networks.",
        "examples-0-why": "Praises it.",
        "examples-1-label": "",
        "examples-1-text": "",
        "examples-1-why": "",
    }
    data.update(changes)
    return data


def test_an_admin_creates_a_target_with_its_aliases_and_examples(admin_client_, huawei):
    response = admin_client_.post(reverse("target-new"), form_data())
    target = Target.objects.get(name="ZTE")
    assert response.status_code == 302 and response["Location"] == reverse("target-edit", args=[target.pk])
    assert target.aliases == ["ZTE", "ZTE Corporation", "the Shenzhen firm"]  # stripped, repeats dropped
    assert target.overlap == 3 and target.guidelines == "**pro**: supports ZTE."
    assert list(target.examples.values_list("label", "text", "why")) == [
        ("pro", "ZTE builds good networks.", "Praises it.")
    ]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "  "}, "name", "This field is required."),
        ({"name": "Huawei"}, "name", "Target with this Name already exists."),
        ({"overlap": 0}, "overlap", "Ensure this value is greater than or equal to 1."),
        ({"overlap": 51}, "overlap", "Ensure this value is less than or equal to 50."),
        ({"random_share": 2}, "random_share", "Ensure this value is less than or equal to 1."),
        ({"queue_order": "shuffled"}, "queue_order", "Select a valid choice."),
        ({"examples-0-label": ""}, "examples-0-label", "Choose the label this sentence shows."),
        ({"examples-1-why": "because"}, "examples-1-text", "Write the example sentence, or clear this row."),
        ({"aliases": "x" * 201}, "aliases", "An alias has at most 200 characters"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(
    admin_client_, huawei, changes, field, message
):
    response = admin_client_.post(reverse("target-new"), form_data(**changes))
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html and message in html
    assert f'aria-describedby="id_{field}_error' in html  # read out with the field
    assert "Nothing was saved" in html
    assert list(Target.objects.values_list("name", flat=True)) == ["Huawei"]
    assert not TargetExample.objects.exists()


def test_a_bad_edit_changes_nothing(admin_client_, huawei):
    before = Target.objects.filter(pk=huawei.pk).values().get()
    response = admin_client_.post(
        reverse("target-edit", args=[huawei.pk]), form_data(name="Huawei", overlap=0)
    )
    assert response.status_code == 400
    assert Target.objects.filter(pk=huawei.pk).values().get() == before


def test_the_form_refuses_a_post_without_its_csrf_token(admin_user, huawei):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(reverse("target-new"), form_data()).status_code == 403
    assert not Target.objects.filter(name="ZTE").exists()


def test_the_edit_form_shows_the_targets_values(admin_client_, huawei):
    target_update(target_id=huawei.pk, values={"aliases": ["Huawei", "the Chinese firm"]})
    TargetExample.objects.create(target=huawei, label="contra", text="Ban it.", why="Against.")
    html = admin_client_.get(reverse("target-edit", args=[huawei.pk])).content.decode()
    assert "Huawei\nthe Chinese firm</textarea>" in html
    assert "Ban it.</textarea>" in html and 'value="contra" selected' in html


def test_an_edit_replaces_the_written_examples_and_keeps_promoted_ones(admin_client_, huawei):
    sentence = SentenceFactory()
    TargetExample.objects.create(target=huawei, label="neutral", text="Old.", why="")
    TargetExample.objects.create(target=huawei, label="pro", text=sentence.text, sentence=sentence)
    response = admin_client_.post(reverse("target-edit", args=[huawei.pk]), form_data(name="Huawei"))
    assert response.status_code == 302
    assert sorted(huawei.examples.values_list("text", flat=True)) == sorted(
        ["ZTE builds good networks.", sentence.text]
    )


def test_a_new_overlap_drops_the_search_cursors_and_another_edit_keeps_them(annotator, huawei):
    SentenceFactory()
    next_sentence_id(annotator=annotator, target=huawei)
    assert QueueCursor.objects.filter(target=huawei).exists()
    target_update(target_id=huawei.pk, values={"description": "new words", "overlap": huawei.overlap})
    assert QueueCursor.objects.filter(target=huawei).exists()
    target_update(target_id=huawei.pk, values={"overlap": huawei.overlap + 1})
    assert not QueueCursor.objects.filter(target=huawei).exists()


def test_an_edit_takes_the_targets_lock_before_it_writes(huawei):
    """Step 1 of the one lock order (annotate/queue/__init__.py), then the row, then the
    cursors: a label in flight finishes with the old overlap or runs with the new one."""
    with CaptureQueriesContext(connection) as queries:
        target_update(target_id=huawei.pk, values={"overlap": 4})
    sql = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("BEGIN", "SAVEPOINT"))]
    lock = (
        statements.LOCK_TARGET_FOR_UPDATE
        if connection.features.has_select_for_update
        else statements.LOCK_TARGET
    )
    assert sql[0] == lock.replace("%(target)s", str(huawei.pk))
    assert sql[1].startswith('UPDATE "annotate_target"')
    assert 'DELETE FROM "annotate_queuecursor"' in sql[2]


def test_the_queue_settings_form_goes_through_the_same_locked_edit(admin_client_, huawei, annotator):
    SentenceFactory()
    next_sentence_id(annotator=annotator, target=huawei)
    response = admin_client_.post(reverse("queue-settings", args=[huawei.pk]), target_settings(overlap=4))
    assert response.status_code == 302
    huawei.refresh_from_db()
    assert huawei.overlap == 4
    assert not QueueCursor.objects.filter(target=huawei).exists()


# --- archiving ------------------------------------------------------------------------------


@pytest.fixture
def labelled(annotator, curator, huawei):
    """Huawei with a label, a gold label and a live reservation, then archived."""
    first, second = SentenceFactory(), SentenceFactory()
    annotation = annotation_record(annotator=annotator, sentence=first, target=huawei, label="pro").annotation
    adjudication_record(curator=curator, sentence=first, target=huawei, label="pro")
    next_sentence_id(annotator=annotator, target=huawei)
    assert Assignment.objects.filter(target=huawei).exists()
    target_archive(target_id=huawei.pk, archived=True)
    return annotation, first, second


def test_archiving_keeps_labels_and_releases_reservations(labelled, huawei):
    huawei.refresh_from_db()
    assert huawei.is_archived
    assert Annotation.objects.filter(target=huawei).count() == 1
    assert Adjudication.objects.filter(target=huawei).count() == 1
    assert not Assignment.objects.filter(target=huawei).exists()


def test_an_archived_target_refuses_every_label_path(labelled, annotator, curator, huawei):
    annotation, first, second = labelled
    with pytest.raises(TargetArchived):
        label_and_next(annotator=annotator, target_id=huawei.pk, sentence_id=second.pk, label="pro")
    with pytest.raises(TargetArchived):
        annotation_record(annotator=annotator, sentence=second, target=huawei, label="skip")
    with pytest.raises(TargetArchived):
        annotation_change(annotator=annotator, annotation_id=annotation.pk, label="contra")
    with pytest.raises(TargetArchived):
        undo_and_next(annotator=annotator, target_id=huawei.pk)
    with pytest.raises(TargetArchived):
        adjudication_record(curator=curator, sentence=first, target=huawei, label="contra")
    assert next_sentence_id(annotator=annotator, target=huawei)[1] is None
    assert Annotation.objects.get().label == "pro"
    assert Adjudication.objects.get().label == "pro"
    assert not Assignment.objects.exists()


def test_the_pages_refuse_labels_and_settles_for_an_archived_target(
    labelled, annotator_client, curator, huawei
):
    annotation, first, second = labelled
    html = annotator_client.get(reverse("label", args=[huawei.pk])).content.decode()
    assert "Huawei is archived: its labels can be read but not changed." in html
    assert 'id="current-sentence"' not in html
    response = annotator_client.post(
        reverse("label-submit", args=[huawei.pk]), {"sentence": second.pk, "label": "pro"}
    )
    assert response.status_code == 409 and b"archived" in response.content
    response = annotator_client.post(reverse("annotation-relabel", args=[annotation.pk]), {"label": "contra"})
    assert response.status_code == 409
    assert annotator_client.post(reverse("label-undo", args=[huawei.pk])).status_code == 409
    client = Client()
    client.force_login(curator)
    response = client.post(
        reverse("adjudicate-settle", args=[huawei.pk]), {"sentence": first.pk, "label": "contra"}
    )
    assert response.status_code == 409
    assert Annotation.objects.get().label == "pro" and Adjudication.objects.get().label == "pro"


def test_the_api_refuses_a_label_for_an_archived_target(labelled, annotator, huawei):
    from rest_framework.test import APIClient

    _, _, second = labelled
    client = APIClient()
    client.force_authenticate(annotator)
    response = client.post(
        "/api/annotations/", {"sentence": second.pk, "target": huawei.pk, "label": "pro"}, format="json"
    )
    assert response.status_code == 400
    assert "archived" in str(response.json())
    assert Annotation.objects.count() == 1


def test_an_admin_archives_and_restores_from_the_form_page(admin_client_, huawei):
    response = admin_client_.post(reverse("target-archive", args=[huawei.pk]), {"archived": "1"})
    assert response.status_code == 302
    huawei.refresh_from_db()
    assert huawei.is_archived
    html = admin_client_.get(reverse("target-list")).content.decode()
    assert "Archived (read-only" in html and '<span class="badge">archived</span>' in html
    admin_client_.post(reverse("target-archive", args=[huawei.pk]), {"archived": "0"})
    huawei.refresh_from_db()
    assert not huawei.is_archived


def test_archive_refuses_a_value_it_does_not_know(admin_client_, huawei):
    assert (
        admin_client_.post(reverse("target-archive", args=[huawei.pk]), {"archived": "maybe"}).status_code
        == 400
    )
    huawei.refresh_from_db()
    assert not huawei.is_archived


# --- what annotators see --------------------------------------------------------------------


def test_the_label_page_shows_the_guidelines_as_sanitised_markdown_and_the_examples(annotator_client, huawei):
    SentenceFactory()
    target_update(
        target_id=huawei.pk, values={"guidelines": "**pro**: supports it.\n\n<script>alert(1)</script>"}
    )
    TargetExample.objects.create(target=huawei, label="contra", text="Ban Huawei.", why="Wants it out.")
    html = annotator_client.get(reverse("label", args=[huawei.pk])).content.decode()
    assert "<strong>pro</strong>: supports it." in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "“Ban Huawei.”</dt>" in html and "<dd>Wants it out.</dd>" in html


def test_the_card_marks_the_targets_aliases_in_the_sentence_and_its_context(annotator_client):
    target = TargetFactory(name="Nokia", aliases=["Nokia", "the Finnish firm"])
    article = ArticleFactory()
    SentenceFactory(article=article, position=0, text="Before: the finnish firm waits.")
    SentenceFactory(article=article, position=1, text="NOKIA <b>wins</b> a deal.")
    html = annotator_client.get(reverse("label", args=[target.pk])).content.decode()
    assert '<mark class="alias">the finnish firm</mark> waits.' in html
    assert '<mark class="alias">NOKIA</mark> &lt;b&gt;wins&lt;/b&gt; a deal.' in html


# --- promoting a settled sentence to an example --------------------------------------------


def test_a_curator_promotes_a_settled_sentence_to_an_example_of_its_gold_label(curator, huawei):
    sentence = SentenceFactory(text="Huawei is a trusted partner.")
    adjudication_record(curator=curator, sentence=sentence, target=huawei, label="pro")
    client = Client()
    client.force_login(curator)
    url = reverse("adjudicate-example", args=[huawei.pk])
    response = client.post(url, {"sentence": sentence.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Now an example of pro in the guidelines" in response.content.decode()
    assert 'hx-swap-oob="innerHTML"' in response.content.decode()
    assert list(huawei.examples.values_list("label", "text", "sentence_id")) == [
        ("pro", "Huawei is a trusted partner.", sentence.pk)
    ]
    again = client.post(url, {"sentence": sentence.pk}, HTTP_HX_REQUEST="true")
    assert "Already an example of pro" in again.content.decode()
    assert huawei.examples.count() == 1
    html = client.get(reverse("adjudicate", args=[huawei.pk])).content.decode()
    assert "“Huawei is a trusted partner.”</dt>" in html  # in the guidelines from now on
    assert 'id="example-form"' in html and 'data-key="x"' in html


def test_an_unsettled_sentence_cannot_be_promoted(curator, huawei):
    sentence = SentenceFactory()
    client = Client()
    client.force_login(curator)
    response = client.post(reverse("adjudicate-example", args=[huawei.pk]), {"sentence": sentence.pk})
    assert response.status_code == 409
    assert not TargetExample.objects.exists()


def test_the_django_admins_edit_takes_the_targets_lock_first(admin_user, huawei, rf):
    from django.contrib.admin.sites import site

    model_admin = site._registry[Target]
    request = rf.post("/")
    request.user = admin_user
    huawei.overlap = 5
    with CaptureQueriesContext(connection) as queries:
        model_admin.save_model(request, huawei, None, change=True)
    sql = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("BEGIN", "SAVEPOINT"))]
    assert sql[0].startswith('SELECT "t"."id", "t"."name"') and 'FROM "annotate_target" "t"' in sql[0]
    assert sql[1].startswith('UPDATE "annotate_target"')


def test_the_api_lists_a_targets_aliases_and_whether_it_is_archived(annotator, huawei):
    from rest_framework.test import APIClient

    target_update(target_id=huawei.pk, values={"aliases": ["Huawei", "the Chinese firm"]})
    target_archive(target_id=huawei.pk, archived=True)
    client = APIClient()
    client.force_authenticate(annotator)
    row = client.get("/api/targets/").json()["results"][0]
    assert row["aliases"] == ["Huawei", "the Chinese firm"]
    assert row["archived_at"] is not None
