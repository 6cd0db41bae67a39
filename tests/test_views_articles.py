from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from annotate.models import Article
from annotate.queue.record import annotation_record
from tests.factories import ArticleFactory, SentenceFactory

pytestmark = pytest.mark.django_db


def test_the_login_page_is_served_to_anonymous_users():
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content


@pytest.mark.parametrize("name", ["home", "article-list"])
def test_pages_redirect_anonymous_users_to_login(name):
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_article_detail_requires_login(article):
    response = Client().get(reverse("article-detail", args=[article.id]))
    assert response.status_code == 302


def test_logging_in_with_the_right_password_leads_to_the_label_queue(annotator, huawei):
    response = Client().post(
        reverse("login"), {"username": "ann", "password": "correct-horse-battery"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("label", args=[huawei.id])


def test_a_login_post_without_csrf_token_is_refused(annotator):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "ann", "password": "correct-horse-battery"})
    assert response.status_code == 403


def test_the_article_list_shows_every_seed_article_with_its_sentence_count(annotator_client, seeds_dir):
    call_command("import_articles", str(seeds_dir))
    response = annotator_client.get(reverse("article-list"))
    assert response.status_code == 200
    for article in Article.objects.all():
        assert escape(article.title) in response.content.decode()
    assert [a.sentence_count for a in response.context["articles"]] == [16, 32, 13, 14, 16]


def test_the_article_page_lists_its_sentences_in_order(annotator_client):
    article = ArticleFactory()
    for position in (2, 0, 1):
        SentenceFactory(article=article, position=position, text=f"Sentence at {position}.")
    html = annotator_client.get(reverse("article-detail", args=[article.id])).content.decode()
    assert html.index("Sentence at 0.") < html.index("Sentence at 1.") < html.index("Sentence at 2.")


def test_article_text_is_escaped(annotator_client):
    article = ArticleFactory(title="<b>bold</b>")
    SentenceFactory(article=article, text="<script>alert(1)</script>")
    html = annotator_client.get(reverse("article-detail", args=[article.id])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_an_unknown_article_is_a_404(annotator_client):
    assert annotator_client.get(reverse("article-detail", args=[999999])).status_code == 404


def test_the_article_list_runs_a_fixed_number_of_queries(annotator_client, django_assert_max_num_queries):
    for _ in range(20):
        SentenceFactory()
    # session, user, the list, the navigation (roles, default target)
    with django_assert_max_num_queries(6):
        annotator_client.get(reverse("article-list"))


def meta_line(html: str) -> str:
    start = html.index('<p class="meta">') + len('<p class="meta">')
    return html[start : html.index("</p>", start)]


def test_the_article_meta_line_has_no_stray_separator_without_source_or_date(annotator_client, huawei):
    article = ArticleFactory(source="", url="", published=None)
    SentenceFactory(article=article)
    meta = meta_line(annotator_client.get(reverse("article-detail", args=[article.id])).content.decode())
    assert meta.startswith("1 sentence ·")
    assert "·  ·" not in meta


def test_the_article_meta_line_separates_every_part_once(annotator_client, huawei):
    article = ArticleFactory(source="Example News", url="https://example.org/a", published="2024-05-01")
    SentenceFactory(article=article)
    meta = meta_line(annotator_client.get(reverse("article-detail", args=[article.id])).content.decode())
    assert meta.startswith("Example News · ")
    assert meta.count(" · ") == 4  # source, date, original, count, your labels


def test_the_article_page_counts_the_readers_skips_as_done_and_names_them(
    annotator, annotator_client, huawei
):
    article = ArticleFactory()
    first, second = (SentenceFactory(article=article, position=i) for i in range(2))
    annotation_record(annotator=annotator, sentence=first, target=huawei, label="pro")
    annotation_record(annotator=annotator, sentence=second, target=huawei, label="skip")
    html = annotator_client.get(reverse("article-detail", args=[article.id])).content.decode()
    assert "you labelled 2 of 2 for Huawei (1 of them skipped)" in html
