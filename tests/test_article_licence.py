"""Every import path records the licence of the texts (default unknown) and where they came
from, for the dataset card's provenance."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotate.corpus import ONLINE_BODY_MAX_CHARS
from annotate.models import Article
from tests.factories import ArticleFactory, api_client
from tests.tasks import run_queued_task

pytestmark = pytest.mark.django_db


def import_articles(*args: str) -> None:
    call_command("import_articles", *args, stdout=io.StringIO(), stderr=io.StringIO())


def write_jsonl(path, records) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def test_import_articles_stores_the_licence_given_and_each_files_name(seeds_dir):
    import_articles(str(seeds_dir), "--licence", "CC-BY-4.0")
    articles = list(Article.objects.order_by("imported_from"))
    assert {a.licence for a in articles} == {"CC-BY-4.0"}
    assert [a.imported_from for a in articles] == sorted(p.name for p in seeds_dir.glob("*.txt"))


def test_an_import_without_a_licence_records_it_as_unknown(tmp_path):
    import_articles(write_jsonl(tmp_path / "wire.jsonl", [{"title": "T", "body": "Huawei met."}]))
    article = Article.objects.get()
    assert (article.licence, article.imported_from) == ("unknown", "wire.jsonl")


def test_a_jsonl_records_own_licence_wins_over_the_commands(tmp_path):
    records = [
        {"title": "A", "body": "Huawei met.", "licence": "CC0-1.0"},
        {"title": "B", "body": "Huawei left."},
    ]
    import_articles(write_jsonl(tmp_path / "mixed.jsonl", records), "--licence", "CC-BY-4.0")
    assert dict(Article.objects.values_list("title", "licence")) == {"A": "CC0-1.0", "B": "CC-BY-4.0"}


def test_an_article_already_stored_keeps_its_licence(tmp_path):
    stored = ArticleFactory(body="Huawei met.", licence="CC0-1.0")
    import_articles(
        write_jsonl(tmp_path / "again.jsonl", [{"title": "A", "body": "Huawei met."}]), "--licence", "x"
    )
    stored.refresh_from_db()
    assert stored.licence == "CC0-1.0"


def test_a_licence_too_long_or_with_a_nul_is_refused_and_nothing_written(tmp_path):
    path = write_jsonl(tmp_path / "wire.jsonl", [{"title": "T", "body": "Huawei met."}])
    for bad in ("x" * 201, "CC\x00BY"):
        with pytest.raises(CommandError, match="--licence must be at most 200 characters"):
            import_articles(path, "--licence", bad)
    with pytest.raises(CommandError, match="'licence' is longer than 200 characters"):
        import_articles(
            write_jsonl(tmp_path / "bad.jsonl", [{"title": "T", "body": "B.", "licence": "x" * 201}])
        )
    assert not Article.objects.exists()


ARTICLE = {"title": "Britain weighs Huawei", "body": "Ministers met on Monday.\nHuawei denies spying."}


def test_the_api_stores_the_licence_given_and_shows_it(admin_user):
    boss = api_client(admin_user)
    response = boss.post("/api/articles/", {**ARTICLE, "licence": "CC-BY-4.0"}, format="json")
    assert response.status_code == 201 and response.json()["licence"] == "CC-BY-4.0"
    article = Article.objects.get()
    assert (article.licence, article.imported_from) == ("CC-BY-4.0", "API")


def test_the_api_records_an_unknown_licence_when_none_is_given_and_refuses_a_long_one(admin_user):
    boss = api_client(admin_user)
    assert boss.post("/api/articles/", {**ARTICLE, "licence": "x" * 201}, format="json").status_code == 400
    assert boss.post("/api/articles/", ARTICLE, format="json").json()["licence"] == "unknown"


def test_a_long_article_queued_by_the_api_keeps_its_licence(admin_user):
    body = "Huawei was named again. " * (ONLINE_BODY_MAX_CHARS // 24 + 1)
    response = api_client(admin_user).post(
        "/api/articles/", {**ARTICLE, "body": body, "licence": "CC-BY-4.0"}, format="json"
    )
    assert response.status_code == 202
    run_queued_task()
    assert Article.objects.get().licence == "CC-BY-4.0"


def test_an_article_added_in_the_admin_keeps_its_licence_or_unknown(admin_client_):
    url = reverse("admin:annotate_article_add")
    base = {"title": "Typed", "source": "", "url": "", "published": ""}
    admin_client_.post(url, {**base, "body": "Huawei met.", "licence": "CC0-1.0"})
    admin_client_.post(url, {**base, "body": "Huawei left.", "licence": " "})
    assert dict(Article.objects.values_list("body", "licence")) == {
        "Huawei met.": "CC0-1.0",
        "Huawei left.": "unknown",
    }
    assert set(Article.objects.values_list("imported_from", flat=True)) == {"admin"}
