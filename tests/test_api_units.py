"""POST /api/articles/ with `unit`: a post, a headline or a comment kept whole as one unit."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rest_framework.test import APIClient

from annotate.api.serializers import ArticleCreateSerializer
from annotate.corpus import ONLINE_BODY_MAX_CHARS
from annotate.models import Article, Sentence
from tests.factories import api_client
from tests.tasks import run_queued_task

pytestmark = pytest.mark.django_db

SCHEMA = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
POST = {"title": "A post", "body": "Not buying the Huawei story.\nBan them now!  #5G #Huawei", "source": "X"}
UNIT = "Not buying the Huawei story. Ban them now! #5G #Huawei"
NOT_A_UNIT = (
    'unit: "{}" is not a unit: write sentence (split into sentences, the default) or text (the whole body '
    "one unit)."
)


@pytest.fixture
def boss(admin_user) -> APIClient:
    return api_client(admin_user)


def test_admins_post_a_text_kept_whole_as_one_unit(boss):
    response = boss.post("/api/articles/", {**POST, "unit": "text"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["unit"], body["sentence_count"], body["body"]) == ("text", 1, POST["body"])
    article = Article.objects.get(pk=body["id"])
    assert article.unit == "text"
    assert list(article.sentences.values_list("text", "start", "end")) == [(UNIT, 0, len(POST["body"]))]


def test_an_article_posted_without_a_unit_is_split_into_sentences(boss):
    response = boss.post("/api/articles/", POST, format="json")

    assert response.status_code == 201
    assert response.json()["unit"] == "sentence"
    assert response.json()["sentence_count"] == Sentence.objects.count() > 1


def test_a_text_posted_without_a_title_is_titled_by_its_opening_words(boss):
    response = boss.post("/api/articles/", {"body": "Huawei again?\n#5G", "unit": "text"}, format="json")

    assert response.status_code == 201
    assert response.json()["title"] == "Huawei again?"


def test_the_articles_list_says_how_each_was_split(boss):
    boss.post("/api/articles/", {**POST, "unit": "text"}, format="json")
    boss.post("/api/articles/", {"title": "News", "body": "One. Two."}, format="json")

    listed = boss.get("/api/articles/").json()["results"]

    assert [(a["title"], a["unit"], a["sentence_count"]) for a in listed] == [
        ("A post", "text", 1),
        ("News", "sentence", 2),
    ]


def test_posting_a_stored_body_with_another_unit_answers_the_stored_article_unchanged(boss):
    first = boss.post("/api/articles/", POST, format="json").json()
    sentences = list(Sentence.objects.values_list("id", "text"))

    again = boss.post("/api/articles/", {**POST, "unit": "text"}, format="json")

    assert again.status_code == 200
    assert (again.json()["id"], again.json()["unit"]) == (first["id"], "sentence")
    assert list(Sentence.objects.values_list("id", "text")) == sentences


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        ("line", NOT_A_UNIT.format("line")),
        ("TEXT", NOT_A_UNIT.format("TEXT")),
        ("", NOT_A_UNIT.format("")),
        (5, "unit: Must be a string."),
        (None, "unit: Must be a string."),
    ],
)
def test_an_unknown_unit_is_a_400_with_a_clear_message_and_stores_nothing(boss, unit, message):
    response = boss.post("/api/articles/", {**POST, "unit": unit}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == message
    assert Article.objects.count() == Sentence.objects.count() == 0


def test_the_serializer_refuses_an_unknown_unit_and_defaults_to_sentences():
    refused = ArticleCreateSerializer(data={**POST, "unit": "paragraph"})
    taken = ArticleCreateSerializer(data=POST)

    assert not refused.is_valid()
    assert [str(e) for e in refused.errors["unit"]] == [NOT_A_UNIT.format("paragraph").removeprefix("unit: ")]
    assert taken.is_valid() and taken.validated_data["unit"] == "sentence"


def test_the_serializer_refuses_a_blank_text_kept_whole():
    given = ArticleCreateSerializer(data={"body": " \n\t", "unit": "text"})

    assert not given.is_valid()
    assert "body" in given.errors and "title" not in given.errors


def test_a_long_text_kept_whole_is_queued_and_stored_as_one_unit(boss):
    body = "Huawei was named again. " * (ONLINE_BODY_MAX_CHARS // 24 + 1)

    response = boss.post("/api/articles/", {"body": body, "unit": "text"}, format="json")
    assert response.status_code == 202
    run_queued_task()

    article = Article.objects.get()
    assert article.unit == "text"
    assert list(article.sentences.values_list("text", flat=True)) == [body.strip()]


def test_the_schema_documents_the_unit_an_article_is_posted_and_shown_with():
    components = yaml.safe_load(SCHEMA.read_text())["components"]["schemas"]

    assert components["UnitEnum"]["enum"] == ["sentence", "text"]
    posted = components["ArticleCreateRequest"]
    assert posted["properties"]["unit"]["allOf"] == [{"$ref": "#/components/schemas/UnitEnum"}]
    assert posted["properties"]["unit"]["default"] == "sentence"
    assert posted["required"] == ["body"]
    for shown in ("Article", "ArticleDetail"):
        assert components[shown]["properties"]["unit"]["allOf"] == [{"$ref": "#/components/schemas/UnitEnum"}]
