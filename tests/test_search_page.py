"""The search page, /search/<target>/: curators and admins only, a GET form, the results
partial for htmx with its count announced, no input that makes a 500, bounded queries; and
the adjudication page opening a sentence by its id (the results link there)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from annotate.models import Adjudication
from tests.factories import AnnotationFactory, ArticleFactory, SentenceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator_client(curator) -> Client:
    client = Client()
    client.force_login(curator)
    return client


def url(target, **params) -> str:
    from urllib.parse import urlencode

    return reverse("search", args=[target.pk]) + ("?" + urlencode(params) if params else "")


def build(target, *, articles: int, per_article: int) -> None:
    ann, bob = UserFactory(role="annotator"), UserFactory(role="annotator")
    for a in range(articles):
        article = ArticleFactory(source=f"Outlet {a % 3}")
        for position in range(per_article):
            text = f"Huawei sentence {position} of article {a}, about the network."
            sentence = SentenceFactory(article=article, position=position, text=text, end=len(text))
            AnnotationFactory(annotator=ann, sentence=sentence, target=target, label="pro")
            AnnotationFactory(
                annotator=bob, sentence=sentence, target=target, label="contra" if position % 3 else "pro"
            )


def test_a_curator_finds_sentences_with_the_match_marked(huawei, curator_client):
    sentence = SentenceFactory(
        text="Britain & <b>Huawei</b> agreed.", article=ArticleFactory(title="The deal")
    )
    response = curator_client.get(url(huawei, q="huawei"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Britain &amp; &lt;b&gt;<mark>Huawei</mark>&lt;/b&gt; agreed." in page
    assert "The deal" in page
    assert f'{reverse("adjudicate", args=[huawei.pk])}?sentence={sentence.pk}"' in page
    assert "1 sentence found." in page


def test_an_admin_may_search_and_an_annotator_may_not(huawei, admin_client_, annotator_client):
    assert admin_client_.get(url(huawei, q="x")).status_code == 200
    assert annotator_client.get(url(huawei, q="x")).status_code == 403


def test_someone_signed_out_is_sent_to_log_in(huawei, client):
    response = client.get(url(huawei, q="x"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_page_is_only_read(huawei, curator_client):
    assert curator_client.post(url(huawei), {"q": "x"}).status_code == 405


def test_an_unknown_target_is_not_found(curator_client):
    assert curator_client.get(reverse("search", args=[999999])).status_code == 404


def test_htmx_gets_the_results_and_the_count_for_its_live_region(huawei, curator_client):
    SentenceFactory(text="Huawei one.")
    SentenceFactory(text="Huawei two.")
    response = curator_client.get(url(huawei, q="huawei"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and 'id="search-form"' not in body
    assert body.startswith('\n<section id="search-results"') or body.lstrip().startswith(
        '<section id="search-results"'
    )
    assert (
        '<p id="search-count" class="status" role="status" hx-swap-oob="innerHTML">2 sentences found.</p>'
        in body
    )
    assert response["Vary"].count("HX-Request") == 1


def test_the_nav_links_curators_to_search(huawei, curator_client, annotator_client):
    link = f'href="{reverse("search", args=[huawei.pk])}"'
    assert link in curator_client.get(reverse("dashboard", args=[huawei.pk])).content.decode()
    assert link not in annotator_client.get(reverse("article-list")).content.decode()


@pytest.mark.parametrize(
    "hostile",
    ['"', "*", "NEAR(", "-", ":", "", "x" * 1000, '"unbalanced', "huawei OR", "-huawei", "\x00", "a" * 501],
)
def test_no_query_makes_an_error_page(huawei, curator_client, hostile):
    SentenceFactory(text="Huawei and the near future.")
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = curator_client.get(url(huawei, q=hostile), **headers)
        assert response.status_code == 200


def test_a_long_query_is_refused_with_a_reason(huawei, curator_client):
    response = curator_client.get(url(huawei, q="x" * 1000), HTTP_HX_REQUEST="true")
    assert "at most 500 characters" in response.content.decode()


def test_a_minus_alone_says_to_add_a_word(huawei, curator_client):
    response = curator_client.get(url(huawei, q="-huawei"), HTTP_HX_REQUEST="true")
    assert "Add a word to find" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [{"after": "nonsense"}, {"after": "1.0_-1"}, {"label": "maybe"}, {"agreement": "x"}, {"article": "abc"}],
)
def test_bad_filters_are_refused_with_a_reason(huawei, curator_client, params):
    response = curator_client.get(url(huawei, q="huawei", **params), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Check the search" in body or "not there" in body
    assert "<mark>" not in body


def test_the_filters_reach_the_search(huawei, curator_client):
    build(huawei, articles=2, per_article=3)  # positions 1 and 2 disagree
    page = curator_client.get(url(huawei, q="huawei", agreement="disagreement")).content.decode()
    assert "4 sentences found." in page
    page = curator_client.get(url(huawei, q="huawei", source="Outlet 1")).content.decode()
    assert "3 sentences found." in page


def test_the_next_page_link_continues_after_the_last_result(huawei, curator_client):
    build(huawei, articles=1, per_article=25)
    first = curator_client.get(url(huawei, q="network")).context
    assert len(first["page"].hits) == 20 and first["next_query"]
    second = curator_client.get(reverse("search", args=[huawei.pk]) + "?" + first["next_query"]).context
    assert len(second["page"].hits) == 5 and not second["next_query"]
    ids = [h.sentence_id for h in first["page"].hits + second["page"].hits]
    assert len(set(ids)) == 25


@pytest.mark.parametrize("articles", [2, 12])
def test_a_search_takes_the_same_queries_at_two_sizes(
    huawei, curator_client, articles, django_assert_num_queries
):
    build(huawei, articles=articles, per_article=10)
    # Session, user, role check, target; the matches' ids and scores, the page's sentences;
    # then the header's group names, default target, target picker, the source suggestions.
    with django_assert_num_queries(10):
        curator_client.get(url(huawei, q="huawei network", agreement="disagreement"))
    with django_assert_num_queries(6):
        curator_client.get(url(huawei, q="huawei network", label="pro"), HTTP_HX_REQUEST="true")


def test_the_adjudication_page_opens_a_sentence_by_its_id(huawei, curator_client, curator):
    build(huawei, articles=1, per_article=3)
    settled = SentenceFactory(text="A settled sentence about Huawei.")
    Adjudication.objects.create(sentence=settled, target=huawei, label="neutral", curator=curator)
    page = curator_client.get(reverse("adjudicate", args=[huawei.pk]) + f"?sentence={settled.pk}")
    assert page.status_code == 200
    assert page.context["sentence"] == settled
    assert "Opened by its link" in page.content.decode()
    assert page.context["remaining"] == 2  # the queue is still counted


@pytest.mark.parametrize(("value", "status"), [("abc", 400), ("0", 400), ("99999999", 404)])
def test_the_adjudication_page_refuses_a_sentence_that_is_not_one(huawei, curator_client, value, status):
    assert (
        curator_client.get(reverse("adjudicate", args=[huawei.pk]) + f"?sentence={value}").status_code
        == status
    )
