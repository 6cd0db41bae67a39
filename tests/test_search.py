"""Full-text search over sentences (annotate/search.py): the same sentences on SQLite and
PostgreSQL for a fixed corpus (ranking may differ), the filters, the cursor, hostile input,
and the index kept in step by every path that writes a sentence."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from annotate import search_index
from annotate.corpus import ParsedArticle, articles_import
from annotate.models import Adjudication, Article, Flag, Sentence
from annotate.search import (
    RANK_LIMIT,
    Agreement,
    BadQuery,
    Cursor,
    Filters,
    marked,
    query_terms,
    sentences_search,
)
from tests.factories import AnnotationFactory, ArticleFactory, SentenceFactory, TargetFactory, UserFactory

pytestmark = pytest.mark.django_db

TEXTS = {
    "ban": "The government decided to ban Huawei from the 5G network, it was reported.",
    "networks": "Telecom networks in Britain rely on Chinese equipment, it was reported.",
    "partner": "Officials called Huawei a trusted partner of the UK, it was reported.",
    "spying": "The ambassador denied any spying by the company, it was reported.",
    "risk": "Security officials said the risk was manageable, it was reported.",
    "partner2": "A partner that is trusted, officials said, after the ban, it was reported.",
}


@pytest.fixture
def corpus(huawei, curator):
    """Two articles from two sources; labels make `ban` a disagreement, `partner` agreed
    contra, `spying` settled pro by a curator; the rest unlabelled."""
    times = ArticleFactory(title="Times piece", source="Times")
    wire = ArticleFactory(title="Wire copy", source="Wire")
    sentences = {}
    for position, (key, text) in enumerate(TEXTS.items()):
        article = times if position < 3 else wire
        sentences[key] = SentenceFactory(article=article, position=position, text=text, end=len(text))
    ann, bob = UserFactory(username="ann", role="annotator"), UserFactory(username="bob", role="annotator")
    for user, label in ((ann, "pro"), (bob, "contra")):
        AnnotationFactory(annotator=user, sentence=sentences["ban"], target=huawei, label=label)
    for user in (ann, bob):
        AnnotationFactory(annotator=user, sentence=sentences["partner"], target=huawei, label="contra")
    AnnotationFactory(annotator=ann, sentence=sentences["risk"], target=huawei, label="skip")
    Adjudication.objects.create(sentence=sentences["spying"], target=huawei, label="pro", curator=curator)
    return sentences


def found(huawei, query: str, **filters) -> set[str]:
    page = sentences_search(target=huawei, query=query, filters=Filters(**filters), limit=50)
    keys = {text: key for key, text in TEXTS.items()}
    stored = dict(
        Sentence.objects.filter(pk__in=[h.sentence_id for h in page.hits]).values_list("pk", "text")
    )
    return {keys[stored[hit.sentence_id]] for hit in page.hits}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("huawei", {"ban", "partner"}),
        ("HUAWEI", {"ban", "partner"}),
        ("network", {"ban", "networks"}),  # stemmed: networks
        ("trusted partner", {"partner", "partner2"}),
        ('"trusted partner"', {"partner"}),  # a phrase: the words next to each other
        ("officials -huawei", {"risk", "partner2"}),
        ('officials -"trusted partner"', {"risk", "partner2"}),
        ("spying company", {"spying"}),
        ("zebra", set()),
        ("reported", set(TEXTS)),
    ],
)
def test_it_finds_the_same_sentences_on_either_database(huawei, corpus, query, expected):
    assert found(huawei, query) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"label": "contra"}, {"partner"}),
        ({"label": "pro"}, {"spying"}),  # the curator's label is the gold one
        ({"agreement": Agreement.DISAGREEMENT}, {"ban"}),
        ({"agreement": Agreement.AGREED}, {"partner"}),
        ({"agreement": Agreement.UNLABELLED}, {"networks", "spying", "risk", "partner2"}),
        ({"source": "Wire"}, {"spying", "risk", "partner2"}),
        ({"source": "Nowhere"}, set()),
        ({"source": "Wire", "agreement": Agreement.UNLABELLED}, {"spying", "risk", "partner2"}),
    ],
)
def test_filters_narrow_the_hits_from_the_tallies(huawei, corpus, filters, expected):
    assert found(huawei, "reported", **filters) == expected


def test_the_flag_filter_keeps_sentences_with_an_open_flag_on_the_target(huawei, corpus):
    ann = UserFactory(role="annotator")
    Flag.objects.create(sentence=corpus["ban"], target=huawei, annotator=ann, reason="unsure")
    resolved = Flag.objects.create(sentence=corpus["risk"], target=huawei, annotator=ann, reason="discuss")
    resolved.resolved_at = timezone.now()
    resolved.save()
    other = TargetFactory()
    Flag.objects.create(sentence=corpus["partner"], target=other, annotator=ann, reason="unsure")

    assert found(huawei, "reported", flagged=True) == {"ban"}
    assert found(huawei, "reported", flagged=True, agreement=Agreement.AGREED) == set()


def test_the_article_filter_keeps_one_articles_sentences(huawei, corpus):
    times = Article.objects.get(title="Times piece")
    assert found(huawei, "huawei", article_id=times.pk) == {"ban", "partner"}
    wire = Article.objects.get(title="Wire copy")
    assert found(huawei, "huawei", article_id=wire.pk) == set()


def test_a_hit_carries_its_article_labels_and_marked_text(huawei, corpus):
    page = sentences_search(target=huawei, query="ban", filters=Filters(agreement=Agreement.DISAGREEMENT))
    [hit] = page.hits
    assert hit.article_title == "Times piece"
    assert hit.source == "Times"
    assert hit.counts == {"pro": 1, "contra": 1}
    assert hit.gold == ""
    assert hit.agreement == 0
    assert "<mark>ban</mark>" in hit.marked
    assert page.total == 1 and not page.more and page.next_cursor is None


def test_the_match_is_marked_and_the_rest_escaped(huawei):
    SentenceFactory(text="<b>Huawei</b> & <script>alert(1)</script> said")
    [hit] = sentences_search(target=huawei, query="huawei").hits
    assert (
        hit.marked
        == "&lt;b&gt;<mark>Huawei</mark>&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt; said"
    )


def test_marks_stay_balanced_whatever_the_text_holds():
    assert marked("a \ue000b\ue000 c\ue001\ue001 \ue000d") == "a <mark>b c</mark> <mark>d</mark>"


@pytest.mark.parametrize(
    "hostile",
    ['"', '""', "*", "huawei*", "NEAR(", "NEAR(huawei ban)", "-", "huawei --ban", ":", "text:huawei", "huawei AND",
     "OR", "(", ")", "^huawei", "'", "\\", "huawei\x00", "%", "_", "x" * 400, "ban " * 30],
)  # fmt: skip
def test_no_input_is_a_syntax_error(huawei, corpus, hostile):
    page = sentences_search(target=huawei, query=hostile)
    assert page.total == len(page.hits) or page.more or page.next_cursor


def test_operators_are_searched_for_as_words(huawei):
    SentenceFactory(text="They met near the border.")
    SentenceFactory(text="Huawei and the UK.")
    assert [h.marked for h in sentences_search(target=huawei, query="NEAR(").hits] == [
        "They met <mark>near</mark> the border."
    ]
    assert len(sentences_search(target=huawei, query="huawei AND").hits) == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [("x" * 1000, "at most 500 characters"), ("-huawei", "Add a word"), (" ".join(["w"] * 40), "at most 32")],
)
def test_a_query_that_cannot_be_searched_says_why(huawei, query, message):
    with pytest.raises(BadQuery, match=message):
        sentences_search(target=huawei, query=query)


def test_an_empty_query_finds_nothing_without_a_query(huawei, corpus, django_assert_num_queries):
    for query in ("", "   ", '"', "*", ":"):
        with django_assert_num_queries(0):
            assert sentences_search(target=huawei, query=query).hits == []


def test_words_and_phrases_are_read_from_the_query():
    terms = query_terms('Huawei "trusted  partner" -ban -"5G network" NEAR( don\'t')
    assert terms.find == (("huawei",), ("trusted", "partner"), ("near",), ("don", "t"))
    assert terms.leave_out == (("ban",), ("5g", "network"))
    assert (
        terms.fts5() == '("huawei" AND "trusted partner" AND "near" AND "don t") NOT ("ban" OR "5g network")'
    )
    assert terms.websearch() == '"huawei" "trusted partner" "near" "don t" -"ban" -"5g network"'


def test_pages_follow_the_cursor_without_repeats_or_gaps(huawei):
    article = ArticleFactory()
    for position in range(25):
        text = "Huawei " * (1 + position % 4) + f"filler number {position}."
        SentenceFactory(article=article, position=position, text=text, end=len(text))
    seen, after, pages = [], None, 0
    while True:
        page = sentences_search(target=huawei, query="huawei", limit=7, after=after)
        pages += 1
        seen += [hit.sentence_id for hit in page.hits]
        assert page.total == 25
        if page.next_cursor is None:
            break
        after = Cursor.parse(str(page.next_cursor))
    assert pages == 4
    assert sorted(seen) == sorted(Sentence.objects.values_list("pk", flat=True))
    assert len(set(seen)) == 25
    scores = [hit.score for hit in sentences_search(target=huawei, query="huawei", limit=25).hits]
    assert scores == sorted(scores)


@pytest.mark.parametrize(
    "cursor", ["", "x", "1.0", "1.0_", "nan_3", "1.0_-4", "1.0_99999999999999999999", "n_", "n_x", "N_3"]
)
def test_a_cursor_that_is_not_one_is_refused(cursor):
    with pytest.raises(BadQuery):
        Cursor.parse(cursor)


def test_past_the_rank_limit_results_come_in_corpus_order_and_keep_it(huawei, monkeypatch):
    monkeypatch.setattr("annotate.search.RANK_LIMIT", 3)
    article = ArticleFactory()
    for position in range(5):  # the last ones would rank first: more words matched
        text = "Huawei " * (position + 1) + "again."
        SentenceFactory(article=article, position=position, text=text, end=len(text))
    ids = sorted(Sentence.objects.values_list("pk", flat=True))
    page = sentences_search(target=huawei, query="huawei", limit=2)
    assert (page.total, page.more, page.ranked) == (3, True, False)
    assert [hit.sentence_id for hit in page.hits] == ids[:2]
    assert str(page.next_cursor) == f"n_{ids[1]}"
    monkeypatch.setattr("annotate.search.RANK_LIMIT", 10)  # the cursor keeps the order
    rest = sentences_search(target=huawei, query="huawei", limit=5, after=page.next_cursor)
    assert [hit.sentence_id for hit in rest.hits] == ids[2:]
    assert not rest.ranked
    ranked = sentences_search(target=huawei, query="huawei", limit=5)
    assert ranked.ranked and [hit.sentence_id for hit in ranked.hits] != ids
    assert RANK_LIMIT == 10_000


def test_the_index_follows_every_write_of_a_sentence(huawei):
    sentence = SentenceFactory(text="A sentence about Ericsson.")
    assert len(sentences_search(target=huawei, query="ericsson").hits) == 1
    Sentence.objects.filter(pk=sentence.pk).update(text="A sentence about Nokia.")
    assert sentences_search(target=huawei, query="ericsson").hits == []
    assert len(sentences_search(target=huawei, query="nokia").hits) == 1
    Sentence.objects.filter(pk=sentence.pk).update(duplicate_group=sentence.pk)  # not the text
    assert len(sentences_search(target=huawei, query="nokia").hits) == 1
    sentence.article.delete()
    assert sentences_search(target=huawei, query="nokia").hits == []


def test_imported_sentences_are_found(huawei):
    body = "Vodafone ruled out the kit. Its rivals kept it."
    articles_import(articles=[ParsedArticle(title="T", body=body, source="S")])
    [hit] = sentences_search(target=huawei, query="vodafone").hits
    assert hit.marked == "<mark>Vodafone</mark> ruled out the kit."
    assert hit.source == "S"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 table")
def test_sqlite_index_holds_exactly_the_sentences(huawei, corpus):
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {search_index.FTS_TABLE} ({search_index.FTS_TABLE}) VALUES ('integrity-check')"
        )
        cursor.execute(f"SELECT COUNT(*) FROM {search_index.FTS_TABLE}")
        assert cursor.fetchone()[0] == Sentence.objects.count()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite drops a rebuilt table's triggers")
def test_a_migrate_puts_back_the_index_triggers_a_table_rebuild_dropped(huawei):
    from django.core.management import call_command

    with connection.cursor() as cursor:
        for name, _, _ in search_index.SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
    call_command("migrate", verbosity=0)
    sentence = SentenceFactory(text="Ericsson after the migrate.")
    assert [hit.sentence_id for hit in sentences_search(target=huawei, query="ericsson").hits] == [
        sentence.pk
    ]


def test_sentences_posted_to_the_api_and_edited_in_the_admin_are_found(huawei, admin_user):
    from django.test import Client

    from tests.factories import api_client

    body = {"title": "Posted", "body": "Nokia won the contract. Ericsson did not.", "source": "Wire"}
    assert api_client(admin_user).post("/api/articles/", body, format="json").status_code == 201
    [hit] = sentences_search(target=huawei, query="nokia").hits
    sentence = Sentence.objects.get(pk=hit.sentence_id)
    admin = Client()
    admin.force_login(admin_user)
    url = f"/admin/annotate/sentence/{sentence.pk}/change/"
    form = admin.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    response = admin.post(url, {**data, "text": "Samsung won the contract."})
    assert response.status_code == 302
    assert sentences_search(target=huawei, query="nokia").hits == []
    assert [h.sentence_id for h in sentences_search(target=huawei, query="samsung").hits] == [sentence.pk]
