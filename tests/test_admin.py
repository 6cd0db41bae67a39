from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from annotate.corpus import ONLINE_BODY_MAX_CHARS, content_hash, split_sentences
from annotate.models import Article, QueueCursor
from annotate.queue.record import annotation_record
from tests.factories import ArticleFactory, SentenceFactory

pytestmark = pytest.mark.django_db

MODELS = [
    "target",
    "article",
    "sentence",
    "annotation",
    "annotationevent",
    "assignment",
    "modelversion",
    "suggestion",
    "adjudication",
    "adjudicationevent",
    "invite",
]


@pytest.mark.parametrize("model", MODELS)
def test_the_admin_lists_every_model_with_search_and_filters(admin_client_, annotator, huawei, model):
    annotation_record(annotator=annotator, sentence=SentenceFactory(), target=huawei, label="pro")
    url = reverse(f"admin:annotate_{model}_changelist")
    response = admin_client_.get(url, {"q": "Huawei"})
    assert response.status_code == 200
    assert response.context["cl"].search_fields


def test_invites_are_read_only_in_the_admin(admin_client_):
    assert admin_client_.get(reverse("admin:annotate_invite_add")).status_code == 403


def test_the_admin_is_closed_to_annotators(annotator_client):
    response = annotator_client.get(reverse("admin:annotate_annotation_changelist"))
    assert response.status_code == 302


# Adding an article: split as the import command splits it


def add_article(client, **fields):
    data = {"title": "Typed in", "source": "", "url": "", "published": "", "body": "", **fields}
    return client.post(reverse("admin:annotate_article_add"), data)


def test_an_article_added_in_the_admin_is_split_into_sentences(admin_client_):
    body = "Ministers met on Monday. Mr. Hunt said the U.S. had concerns.\r\nHuawei denies spying."

    response = add_article(admin_client_, body=body)

    assert response.status_code == 302
    article = Article.objects.get()
    assert article.body == body.replace("\r\n", "\n")
    assert article.content_hash == content_hash(body)
    assert [(s.text, article.body[s.start : s.end]) for s in article.sentences.order_by("position")] == [
        (span.text, span.text) for span in split_sentences(article.body)
    ]
    assert article.sentences.count() == 3
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Split into 3 sentences." in messages


def test_a_post_added_in_the_admin_as_one_unit_is_kept_whole(admin_client_):
    response = add_article(admin_client_, body="Huawei again.  Not buying it.\r\n#5G #tech", unit="text")

    assert response.status_code == 302
    article = Article.objects.get()
    assert article.unit == "text"
    assert list(article.sentences.values_list("text", flat=True)) == [
        "Huawei again. Not buying it. #5G #tech"
    ]
    assert "Kept whole." in [str(m) for m in get_messages(response.wsgi_request)]


def test_an_articles_unit_cannot_be_changed_once_split(admin_client_, article):
    response = admin_client_.get(reverse("admin:annotate_article_change", args=[article.pk]))
    assert "unit" not in response.context["adminform"].form.fields


def test_an_article_added_in_the_admin_rewinds_cursors_past_it(admin_client_, annotator, huawei):
    QueueCursor.objects.create(annotator=annotator, target=huawei, article_id=10**9, position=0)

    add_article(admin_client_, body="One sentence here.")

    cursor = QueueCursor.objects.get()
    assert (cursor.article_id, cursor.position) == (Article.objects.get().pk, 0)


def test_the_admin_refuses_an_article_whose_body_is_stored(admin_client_):
    stored = ArticleFactory(body="Huawei denies spying.\nMinisters met.")

    response = add_article(admin_client_, body="  Huawei denies   spying.\r\nMinisters met. ")

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["body"] == [
        f"This body (whitespace aside) is already stored: “{stored.title}” (id {stored.pk})."
    ]
    assert Article.objects.count() == 1


def test_the_admin_refuses_a_body_too_long_to_split_in_a_request(admin_client_):
    response = add_article(admin_client_, body="x" * (ONLINE_BODY_MAX_CHARS + 1))

    assert response.status_code == 200
    assert "manage.py import_articles" in response.context["adminform"].form.errors["body"][0]
    assert Article.objects.count() == 0


def test_an_articles_body_cannot_be_changed_once_split(admin_client_, article):
    response = admin_client_.get(reverse("admin:annotate_article_change", args=[article.pk]))
    assert "body" not in response.context["adminform"].form.fields


def test_sentences_cannot_be_added_one_by_one_in_the_admin(admin_client_):
    assert admin_client_.get(reverse("admin:annotate_sentence_add")).status_code == 403


def test_an_article_added_in_the_admin_without_a_licence_is_stored_as_unknown(admin_client_):
    response = add_article(admin_client_, body="Huawei denies spying.", licence="  ")

    assert response.status_code == 302
    assert Article.objects.get().licence == "unknown"


def test_an_article_added_in_the_admin_keeps_the_licence_given(admin_client_):
    add_article(admin_client_, body="Huawei denies spying.", licence="CC BY 4.0")

    assert Article.objects.get().licence == "CC BY 4.0"


def test_an_article_added_in_the_admin_goes_through_the_import_service(admin_client_, monkeypatch):
    from annotate import admin as stance_admin

    seen = []
    real = stance_admin.article_import_one

    def spy(*, parsed):
        seen.append(parsed)
        return real(parsed=parsed)

    monkeypatch.setattr(stance_admin, "article_import_one", spy)
    add_article(admin_client_, body="Huawei denies spying. Ministers met.")
    assert [(p.body, p.origin) for p in seen] == [("Huawei denies spying. Ministers met.", "admin")]


def test_the_admins_article_list_links_to_the_import_page(admin_client_):
    page = admin_client_.get(reverse("admin:annotate_article_changelist")).content.decode()
    assert f'href="{reverse("upload-page")}"' in page
